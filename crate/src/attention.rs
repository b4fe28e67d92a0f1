//! Causal multi-head self-attention, in the stages the article draws:
//! project (q, k, v) → scores → causal softmax (attention) → mix (z) → output projection.
//!
//! Head h owns columns h·D … h·D+D−1 of q, k, v and z. Each stage has its backward twin; the model
//! chains them so every intermediate (and its gradient) can be shown and checked on its own.
//! All of them write into buffers the caller owns, so a training step allocates nothing.

use crate::explain::{act, factor, grad, grad_of, signed, term, wt, Explained, Kind, Named, Term};
use crate::mat::Mat;
use crate::matmul::{self, Out, View, Zeros};

/// q, k, v (each T×C) = attnIn·wq, attnIn·wk, attnIn·wv.
pub fn project(attn_in: &Mat, wq: &Mat, wk: &Mat, wv: &Mat, q: &mut Mat, k: &mut Mat, v: &mut Mat) {
    let x = View::of(attn_in);
    matmul::set(1.0, x, View::of(wq), Out::of(q));
    matmul::set(1.0, x, View::of(wk), Out::of(k));
    matmul::set(1.0, x, View::of(wv), Out::of(v));
}

/// H matrices T×T: `scores[h][t][s] = q_h[t]·k_h[s] / √D` for s ≤ t. Masked entries (s > t) hold 0
/// here; they are written as `null` in JSON and never read.
pub fn scores(q: &Mat, k: &Mat, scores: &mut [Mat]) {
    let d = q.ncols() / scores.len();
    let scale = 1.0 / (d as f64).sqrt();
    for (h, s) in scores.iter_mut().enumerate() {
        let (q_h, k_h) = (View::columns(q, h * d, d), View::columns(k, h * d, d));
        matmul::causal(scale, q_h, k_h.t(), Out::of(s));
    }
}

/// Row-wise softmax over s ≤ t, computed after subtracting the row's largest score so large
/// scores cannot overflow `exp`. Masked entries are exactly 0.
pub fn causal_softmax(scores: &[Mat], attention: &mut [Mat]) {
    for (s, a) in scores.iter().zip(attention.iter_mut()) {
        crate::softmax::causal(s, a);
    }
}

/// z (T×C): the heads' weighted sums of values side by side, `z_h = attention[h]·v_h`.
pub fn mix(attention: &[Mat], v: &Mat, z: &mut Mat) {
    let d = v.ncols() / attention.len();
    for (h, a) in attention.iter().enumerate() {
        let v_h = View::columns(v, h * d, d);
        let a = View::of(a);
        matmul::set_triangular(1.0, a, Zeros::AboveDiagonal, v_h, Out::columns(z, h * d, d));
    }
}

/// attnOut (T×C) = z·wo.
pub fn output(z: &Mat, wo: &Mat, attn_out: &mut Mat) {
    matmul::set(1.0, View::of(z), View::of(wo), Out::of(attn_out));
}

/// Backward of `output`: ∇z = ∇attnOut·woᵀ and ∇wo = zᵀ·∇attnOut.
pub fn output_backward(d_attn_out: &Mat, z: &Mat, wo: &Mat, dz: &mut Mat, d_wo: &mut Mat) {
    let dy = View::of(d_attn_out);
    matmul::set(1.0, dy, View::of(wo).t(), Out::of(dz));
    matmul::set(1.0, View::of(z).t(), dy, Out::of(d_wo));
}

/// Backward of `mix`: ∇attention (H×T×T, masked entries 0) and ∇v (T×C).
pub fn mix_backward(dz: &Mat, attention: &[Mat], v: &Mat, d_attention: &mut [Mat], dv: &mut Mat) {
    let d = v.ncols() / attention.len();
    for (h, (a, da)) in attention.iter().zip(d_attention.iter_mut()).enumerate() {
        let (dz_h, v_h) = (View::columns(dz, h * d, d), View::columns(v, h * d, d));
        // ∇A_h = ∇z_h·v_hᵀ on and below the diagonal. A masked weight is the constant 0, not a
        // function of any score: no gradient reaches it.
        matmul::causal(1.0, dz_h, v_h.t(), Out::of(da));
        // ∇v_h = A_hᵀ·∇z_h.
        let (a_t, dv_h) = (View::of(a).t(), Out::columns(dv, h * d, d));
        matmul::set_triangular(1.0, a_t, Zeros::BelowDiagonal, dz_h, dv_h);
    }
}

/// Backward of the causal softmax: ∇scores[t][s] = A[t][s]·(∇A[t][s] − Σ_r A[t][r]·∇A[t][r]).
pub fn softmax_backward(d_attention: &[Mat], attention: &[Mat], d_scores: &mut [Mat]) {
    // BLOCK rows at a time, column after column (the matrices are stored by columns, so a
    // block's entries of a column are adjacent); each row's sum still runs over r in order.
    const BLOCK: usize = 32;
    for ((da, a), ds) in d_attention.iter().zip(attention).zip(d_scores.iter_mut()) {
        ds.fill(0.0);
        let t_len = a.nrows();
        let (a, da, ds) = (a.as_slice(), da.as_slice(), ds.as_mut_slice());
        for t0 in (0..t_len).step_by(BLOCK) {
            let end = (t0 + BLOCK).min(t_len);
            // (−0.0: the empty sum of `Iterator::sum`, so a row of −0 products sums alike.)
            let mut dot = [-0.0; BLOCK];
            for r in 0..end {
                for t in r.max(t0)..end {
                    dot[t - t0] += a[t + r * t_len] * da[t + r * t_len];
                }
            }
            for s in 0..end {
                for t in s.max(t0)..end {
                    let i = t + s * t_len;
                    ds[i] = a[i] * (da[i] - dot[t - t0]);
                }
            }
        }
    }
}

/// Backward of `scores`: ∇q_h = ∇S_h·k_h/√D and ∇k_h = ∇S_hᵀ·q_h/√D (each T×C in all).
pub fn scores_backward(d_scores: &[Mat], q: &Mat, k: &Mat, dq: &mut Mat, dk: &mut Mat) {
    let d = q.ncols() / d_scores.len();
    let scale = 1.0 / (d as f64).sqrt();
    for (h, ds) in d_scores.iter().enumerate() {
        let ds = View::of(ds);
        let (q_h, k_h) = (View::columns(q, h * d, d), View::columns(k, h * d, d));
        // ∇S_h is 0 above its diagonal (masked scores get no gradient).
        let (lower, upper) = (Zeros::AboveDiagonal, Zeros::BelowDiagonal);
        matmul::set_triangular(scale, ds, lower, k_h, Out::columns(dq, h * d, d));
        matmul::set_triangular(scale, ds.t(), upper, q_h, Out::columns(dk, h * d, d));
    }
}

/// Backward of `project`: ∇attnIn, ∇wq, ∇wk, ∇wv. attnIn feeds all three projections, so its
/// gradient is the sum of the three paths.
#[allow(clippy::too_many_arguments)]
pub fn project_backward(
    dq: &Mat,
    dk: &Mat,
    dv: &Mat,
    attn_in: &Mat,
    [wq, wk, wv]: [&Mat; 3],
    d_attn_in: &mut Mat,
    d_wq: &mut Mat,
    d_wk: &mut Mat,
    d_wv: &mut Mat,
) {
    let (dq, dk, dv) = (View::of(dq), View::of(dk), View::of(dv));
    matmul::set(1.0, dq, View::of(wq).t(), Out::of(d_attn_in));
    matmul::add(1.0, dk, View::of(wk).t(), Out::of(d_attn_in));
    matmul::add(1.0, dv, View::of(wv).t(), Out::of(d_attn_in));
    let x_t = View::of(attn_in).t();
    matmul::set(1.0, x_t, dq, Out::of(d_wq));
    matmul::set(1.0, x_t, dk, Out::of(d_wk));
    matmul::set(1.0, x_t, dv, Out::of(d_wv));
}

// Explanations of the gradient entries above, as chain-rule sums (explain.rs). The weights and
// ∂L/∂Z are plain matrix products and use `explain::outer` and `explain::back_through`.

/// One head's 3-index factor (head, row, column).
fn head_act(name: &'static str, m: &[Mat], h: usize, t: usize, s: usize) -> crate::explain::Factor {
    act(name, &[h, t, s], m[h][(t, s)])
}

/// ∂L/∂A⁽ʰ⁾[t][s] = Σ_c ∂L/∂Z[t][c]·V[s][c] over head h's columns c (`mix_backward`).
pub fn explain_weights(
    dz: &Mat,
    v: &Mat,
    d_attention: &[Mat],
    hd: usize,
    h: usize,
    t: usize,
    s: usize,
) -> Explained {
    let terms = (h * hd..(h + 1) * hd)
        .map(|c| {
            term(
                format!("column {c}"),
                vec![grad_of(("z", dz), [t, c]), act("v", &[s, c], v[(s, c)])],
            )
        })
        .collect();
    Explained::new(terms, d_attention[h][(t, s)])
}

/// ∂L/∂S⁽ʰ⁾[t][s] = A[t][s]·∂L/∂A[t][s] − Σ_r A[t][s]·A[t][r]·∂L/∂A[t][r] (`softmax_backward`).
pub fn explain_scores(
    attention: &[Mat],
    d_attention: &[Mat],
    d_scores: &[Mat],
    h: usize,
    t: usize,
    s: usize,
) -> Explained {
    let a_ts = head_act("attention", attention, h, t, s);
    let d = |r: usize| grad("attention", &[h, t, r], d_attention[h][(t, r)]);
    let mut terms = vec![term("direct", vec![a_ts.clone(), d(s)])];
    terms.extend((0..=t).map(|r| {
        let a_tr = head_act("attention", attention, h, t, r);
        signed(
            -1,
            format!("through the normaliser, r = {r}"),
            vec![a_ts.clone(), a_tr, d(r)],
        )
    }));
    Explained::new(terms, d_scores[h][(t, s)])
}

/// ∂L/∂Q[i][j] = Σ_{s ≤ i} ∂L/∂S[i][s]·K[s][j]/√D, in column j's head (`scores_backward`).
pub fn explain_queries(
    d_scores: &[Mat],
    k: &Mat,
    dq: &Mat,
    hd: usize,
    i: usize,
    j: usize,
) -> Explained {
    let head = j / hd;
    let terms = (0..=i)
        .map(|s| {
            let ds = grad("scores", &[head, i, s], d_scores[head][(i, s)]);
            term(
                format!("s = {s}"),
                vec![ds, act("k", &[s, j], k[(s, j)]), inv_sqrt_head(hd)],
            )
        })
        .collect();
    Explained::new(terms, dq[(i, j)])
}

/// ∂L/∂K[i][j] = Σ_{t ≥ i} ∂L/∂S[t][i]·Q[t][j]/√D (`scores_backward`).
pub fn explain_keys(
    d_scores: &[Mat],
    q: &Mat,
    dk: &Mat,
    hd: usize,
    i: usize,
    j: usize,
) -> Explained {
    let head = j / hd;
    let terms = (i..q.nrows())
        .map(|t| {
            let ds = grad("scores", &[head, t, i], d_scores[head][(t, i)]);
            term(
                format!("t = {t}"),
                vec![ds, act("q", &[t, j], q[(t, j)]), inv_sqrt_head(hd)],
            )
        })
        .collect();
    Explained::new(terms, dk[(i, j)])
}

/// ∂L/∂V[i][j] = Σ_{t ≥ i} A[t][i]·∂L/∂Z[t][j] (`mix_backward`).
pub fn explain_values(
    attention: &[Mat],
    dz: &Mat,
    dv: &Mat,
    hd: usize,
    i: usize,
    j: usize,
) -> Explained {
    let head = j / hd;
    let terms = (i..dz.nrows())
        .map(|t| {
            term(
                format!("t = {t}"),
                vec![
                    head_act("attention", attention, head, t, i),
                    grad_of(("z", dz), [t, j]),
                ],
            )
        })
        .collect();
    Explained::new(terms, dv[(i, j)])
}

/// ∂L/∂X̃[i][j]: X̃ feeds the queries, keys and values, so three sums of ∂L/∂out·W (`project_backward`).
/// `paths` holds (words, ∂L/∂out, W) for queries, keys and values.
pub fn explain_input(
    paths: [(&str, Named, Named); 3],
    d_in: &Mat,
    i: usize,
    j: usize,
) -> Explained {
    let mut terms: Vec<Term> = Vec::new();
    for (words, out, w) in paths {
        terms.extend((0..w.1.ncols()).map(|c| {
            term(
                format!("through the {words}, c = {c}"),
                vec![grad_of(out, [i, c]), wt(w.0, &[j, c], w.1[(j, c)])],
            )
        }));
    }
    Explained::new(terms, d_in[(i, j)])
}

fn inv_sqrt_head(hd: usize) -> crate::explain::Factor {
    factor(Kind::Constant, "invSqrtHead", &[], 1.0 / (hd as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn softmax_backward_gives_the_row_by_row_numbers_exactly() {
        // 70 rows: two whole blocks of rows and a part.
        for t_len in [1, 5, 70] {
            let f = |i: usize, j: usize, s: usize| ((i * 13 + j * 7 + s) % 17) as f64 / 5.0 - 1.5;
            let causal =
                |s| Mat::from_fn(t_len, t_len, |i, j| if j <= i { f(i, j, s) } else { 0.0 });
            let (a, da) = (vec![causal(1)], vec![causal(2)]);
            let mut ds = vec![Mat::from_element(t_len, t_len, f64::NAN)];
            softmax_backward(&da, &a, &mut ds);
            let want = Mat::from_fn(t_len, t_len, |t, s| {
                let dot: f64 = (0..=t).map(|r| a[0][(t, r)] * da[0][(t, r)]).sum();
                if s <= t {
                    a[0][(t, s)] * (da[0][(t, s)] - dot)
                } else {
                    0.0
                }
            });
            assert_eq!(ds[0], want, "T = {t_len}");
        }
    }
}
