//! Causal multi-head self-attention, in the stages the article draws:
//! project (q, k, v) → scores → causal softmax (attention) → mix (z) → output projection.
//!
//! Head h owns columns h·D … h·D+D−1 of q, k, v and z. Each stage has its backward twin; the model
//! chains them so every intermediate (and its gradient) can be shown and checked on its own.

use crate::state::Mat;

/// Columns of head `h` in a T×C matrix whose heads have size `d`.
fn head(m: &Mat, h: usize, d: usize) -> Mat {
    m.columns(h * d, d).into_owned()
}

/// (q, k, v), each T×C.
pub fn project(attn_in: &Mat, wq: &Mat, wk: &Mat, wv: &Mat) -> (Mat, Mat, Mat) {
    (attn_in * wq, attn_in * wk, attn_in * wv)
}

/// H matrices T×T: `scores[h][t][s] = q_h[t]·k_h[s] / √D` for s ≤ t. Masked entries (s > t) hold 0
/// here; they are written as `null` in JSON and never read.
pub fn scores(q: &Mat, k: &Mat, n_heads: usize) -> Vec<Mat> {
    let d = q.ncols() / n_heads;
    let scale = 1.0 / (d as f64).sqrt();
    (0..n_heads)
        .map(|h| {
            let mut s = head(q, h, d) * head(k, h, d).transpose() * scale;
            mask(&mut s);
            s
        })
        .collect()
}

/// Zeroes the future (s > t): those entries are not part of the model.
pub fn mask(m: &mut Mat) {
    let t_len = m.nrows();
    for t in 0..t_len {
        for s in t + 1..m.ncols() {
            m[(t, s)] = 0.0;
        }
    }
}

/// Row-wise softmax over s ≤ t, computed after subtracting the row's largest score so large
/// scores cannot overflow `exp`. Masked entries are exactly 0.
pub fn causal_softmax(scores: &[Mat]) -> Vec<Mat> {
    scores
        .iter()
        .map(|s| {
            let t_len = s.nrows();
            let mut a = Mat::zeros(t_len, t_len);
            for t in 0..t_len {
                let max = (0..=t).map(|u| s[(t, u)]).fold(f64::NEG_INFINITY, f64::max);
                let mut sum = 0.0;
                for u in 0..=t {
                    let e = (s[(t, u)] - max).exp();
                    a[(t, u)] = e;
                    sum += e;
                }
                for u in 0..=t {
                    a[(t, u)] /= sum;
                }
            }
            a
        })
        .collect()
}

/// z: T×C, the heads' weighted sums of values side by side: `z_h = attention[h]·v_h`.
pub fn mix(attention: &[Mat], v: &Mat) -> Mat {
    let n_heads = attention.len();
    let d = v.ncols() / n_heads;
    let mut z = Mat::zeros(v.nrows(), v.ncols());
    for (h, a) in attention.iter().enumerate() {
        z.columns_mut(h * d, d).copy_from(&(a * head(v, h, d)));
    }
    z
}

/// Backward of the output projection `attnOut = z·wo`: (∇z T×C, ∇wo C×C).
pub fn output_backward(d_attn_out: &Mat, z: &Mat, wo: &Mat) -> (Mat, Mat) {
    (d_attn_out * wo.transpose(), z.transpose() * d_attn_out)
}

/// Backward of `mix`: (∇attention H×T×T with masked entries 0, ∇v T×C).
pub fn mix_backward(dz: &Mat, attention: &[Mat], v: &Mat) -> (Vec<Mat>, Mat) {
    let n_heads = attention.len();
    let d = v.ncols() / n_heads;
    let mut dv = Mat::zeros(v.nrows(), v.ncols());
    let mut d_attention = Vec::with_capacity(n_heads);
    for (h, a) in attention.iter().enumerate() {
        let dz_h = head(dz, h, d);
        let mut da = &dz_h * head(v, h, d).transpose();
        // A masked weight is the constant 0, not a function of any score: no gradient reaches it.
        mask(&mut da);
        dv.columns_mut(h * d, d).copy_from(&(a.transpose() * dz_h));
        d_attention.push(da);
    }
    (d_attention, dv)
}

/// Backward of the causal softmax: ∇scores[t][s] = A[t][s]·(∇A[t][s] − Σ_r A[t][r]·∇A[t][r]).
pub fn softmax_backward(d_attention: &[Mat], attention: &[Mat]) -> Vec<Mat> {
    d_attention
        .iter()
        .zip(attention)
        .map(|(da, a)| {
            let t_len = a.nrows();
            let mut ds = Mat::zeros(t_len, t_len);
            for t in 0..t_len {
                let dot: f64 = (0..=t).map(|r| a[(t, r)] * da[(t, r)]).sum();
                for s in 0..=t {
                    ds[(t, s)] = a[(t, s)] * (da[(t, s)] - dot);
                }
            }
            ds
        })
        .collect()
}

/// Backward of `scores`: (∇q, ∇k), each T×C.
pub fn scores_backward(d_scores: &[Mat], q: &Mat, k: &Mat) -> (Mat, Mat) {
    let n_heads = d_scores.len();
    let d = q.ncols() / n_heads;
    let scale = 1.0 / (d as f64).sqrt();
    let mut dq = Mat::zeros(q.nrows(), q.ncols());
    let mut dk = Mat::zeros(k.nrows(), k.ncols());
    for (h, ds) in d_scores.iter().enumerate() {
        dq.columns_mut(h * d, d)
            .copy_from(&(ds * head(k, h, d) * scale));
        dk.columns_mut(h * d, d)
            .copy_from(&(ds.transpose() * head(q, h, d) * scale));
    }
    (dq, dk)
}

/// Backward of `project`: (∇attnIn, ∇wq, ∇wk, ∇wv). attnIn feeds all three projections, so its
/// gradient is the sum of the three paths.
pub fn project_backward(
    dq: &Mat,
    dk: &Mat,
    dv: &Mat,
    attn_in: &Mat,
    wq: &Mat,
    wk: &Mat,
    wv: &Mat,
) -> (Mat, Mat, Mat, Mat) {
    let d_attn_in = dq * wq.transpose() + dk * wk.transpose() + dv * wv.transpose();
    let t = attn_in.transpose();
    (d_attn_in, &t * dq, &t * dk, &t * dv)
}
