//! Row-wise layer norm: x̂ = (x − μ)/√(σ² + ε), out = gain ⊙ x̂ + bias (σ² biased).

use crate::explain::{factor, grad_of, signed, term, wt, Idx, Kind, Named, Positions, Ref, Term};
use crate::mat::Mat;

// The passes' loops live in the kernels crate (built at opt-level 3 where this one is built for
// size, Cargo.toml); the explanations below read the cache they fill.
pub use how_llms_learn_kernels::norm::{backward, forward, Cache};

/// mean(g) and mean(g ⊙ x̂) over row t, with g = gain ⊙ ∇out: the two row-wide terms of the
/// input's gradient, shared by `backward` and the explanation below.
fn row_means(d_out: &Mat, cache: &Cache, gain: &Mat, t: usize) -> (f64, f64) {
    let c = d_out.ncols();
    let g = |j: usize| gain[(0, j)] * d_out[(t, j)];
    let mean_g = (0..c).map(g).sum::<f64>() / c as f64;
    let mean_gx = (0..c).map(|j| g(j) * cache.xhat[(t, j)]).sum::<f64>() / c as f64;
    (mean_g, mean_gx)
}

/// The reader's name for a layer norm ("ln1", "ln2", "lnf"), for term labels.
pub fn words(ln: &str) -> &'static str {
    match ln {
        "ln1" => "layer norm 1",
        "ln2" => "layer norm 2",
        _ => "the final layer norm",
    }
}

/// ∂L/∂gain_j = Σ_t x̂[t][j]·∇out[t][j] (the bias is `explain::column`).
pub fn explain_gain(
    p: &Positions,
    ln: &'static str,
    out: Named,
    cache: &Cache,
    j: usize,
) -> Vec<Term> {
    (0..p.len())
        .map(|t| {
            term(
                p.label(t),
                vec![
                    factor(Kind::Normalized, ln, &[t, j], cache.xhat[(t, j)]),
                    grad_of(out, [t, j]),
                ],
            )
        })
        .collect()
}

/// The three terms of `backward` for input entry [t][j]:
/// rstd·γ_j·∇out_j − rstd·mean(g) − rstd·x̂_j·mean(g⊙x̂), with g = γ ⊙ ∇out.
pub fn explain_input(
    ln: &'static str,
    gain: Named,
    out: Named,
    cache: &Cache,
    t: usize,
    j: usize,
) -> Vec<Term> {
    let (mean_g, mean_gx) = row_means(out.1, cache, gain.1, t);
    let rstd = factor(Kind::InvStd, ln, &[t], cache.rstd[t]);
    let refer = |kind, name, index: Vec<Idx>| Ref { kind, name, index };
    let gain_k = refer(Kind::Weight, gain.0, vec![Idx::Var("k")]);
    let out_k = refer(Kind::Gradient, out.0, vec![Idx::At(t), Idx::Var("k")]);
    let xhat_k = refer(Kind::Normalized, ln, vec![Idx::At(t), Idx::Var("k")]);
    let mean = |of: Vec<Ref>, value: f64| crate::explain::Factor {
        of,
        ..factor(Kind::Mean, ln, &[t], value)
    };
    let words = words(ln);
    vec![
        term(
            format!("{words}: direct path"),
            vec![
                rstd.clone(),
                wt(gain.0, &[j], gain.1[(0, j)]),
                grad_of(out, [t, j]),
            ],
        ),
        signed(
            -1,
            format!("{words}: through the row mean"),
            vec![
                rstd.clone(),
                mean(vec![gain_k.clone(), out_k.clone()], mean_g),
            ],
        ),
        signed(
            -1,
            format!("{words}: through the row variance"),
            vec![
                rstd,
                factor(Kind::Normalized, ln, &[t, j], cache.xhat[(t, j)]),
                mean(vec![gain_k, out_k, xhat_k], mean_gx),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use how_llms_learn_kernels::norm::EPS;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Forward and backward one row at a time, by the formulas in this file's comments.
    fn by_rows(x: &Mat, gain: &Mat, d_out: &Mat) -> (Mat, Cache, Mat, Mat) {
        let (t_len, c) = x.shape();
        let (mut out, mut cache) = (Mat::zeros(t_len, c), Cache::new(t_len, c));
        for t in 0..t_len {
            let row = x.row(t);
            let mean = row.mean();
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / c as f64;
            cache.rstd[t] = 1.0 / (var + EPS).sqrt();
            for j in 0..c {
                cache.xhat[(t, j)] = (x[(t, j)] - mean) * cache.rstd[t];
                out[(t, j)] = gain[(0, j)] * cache.xhat[(t, j)] + 0.25;
            }
        }
        let (mut dx, mut d_gain) = (Mat::zeros(t_len, c), Mat::zeros(1, c));
        for t in 0..t_len {
            let (mean_g, mean_gx) = row_means(d_out, &cache, gain, t);
            for j in 0..c {
                let (g, xh) = (gain[(0, j)] * d_out[(t, j)], cache.xhat[(t, j)]);
                dx[(t, j)] = cache.rstd[t] * (g - mean_g - xh * mean_gx);
                d_gain[(0, j)] += d_out[(t, j)] * xh;
            }
        }
        (out, cache, dx, d_gain)
    }

    #[test]
    fn blocks_of_rows_give_the_row_by_row_numbers_exactly() {
        // 70 rows: two whole blocks and a part.
        for (t_len, c) in [(1, 3), (5, 4), (70, 9)] {
            let f = |i: usize, j: usize, s: usize| ((i * 13 + j * 7 + s) % 17) as f64 / 5.0 - 1.5;
            let x = Mat::from_fn(t_len, c, |i, j| f(i, j, 1));
            let d_out = Mat::from_fn(t_len, c, |i, j| f(i, j, 2));
            let gain = Mat::from_fn(1, c, |_, j| 0.5 + j as f64 / 8.0);
            let bias = Mat::from_element(1, c, 0.25);
            let (want_out, want_cache, want_dx, want_d_gain) = by_rows(&x, &gain, &d_out);
            let (mut out, mut cache) = (Mat::zeros(t_len, c), Cache::new(t_len, c));
            forward(&x, &gain, &bias, &mut out, &mut cache);
            assert_eq!(
                (&out, &cache.rstd),
                (&want_out, &want_cache.rstd),
                "{t_len}×{c}"
            );
            assert_eq!(cache.xhat, want_cache.xhat);
            let (mut dx, mut d_gain, mut d_bias) = (x.clone(), gain.clone(), gain.clone());
            backward(&d_out, &cache, &gain, &mut dx, &mut d_gain, &mut d_bias);
            assert_eq!((dx, d_gain), (want_dx, want_d_gain), "{t_len}×{c}");
            let sums = Mat::from_fn(1, c, |_, j| d_out.column(j).iter().fold(0.0, |s, v| s + v));
            assert_eq!(d_bias, sums);
        }
    }
}
