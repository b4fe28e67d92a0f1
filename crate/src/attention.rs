//! Causal multi-head self-attention, in the stages the article draws:
//! project (q, k, v) → scores → causal softmax (attention) → mix (z) → output projection.
//!
//! Head h owns columns h·D … h·D+D−1 of q, k, v and z. Each stage has its backward twin; the model
//! chains them so every intermediate (and its gradient) can be shown and checked on its own.
//! All of them write into buffers the caller owns, so a training step allocates nothing.

use crate::state::Mat;

/// q, k, v (each T×C) = attnIn·wq, attnIn·wk, attnIn·wv.
pub fn project(attn_in: &Mat, wq: &Mat, wk: &Mat, wv: &Mat, q: &mut Mat, k: &mut Mat, v: &mut Mat) {
    q.gemm(1.0, attn_in, wq, 0.0);
    k.gemm(1.0, attn_in, wk, 0.0);
    v.gemm(1.0, attn_in, wv, 0.0);
}

/// H matrices T×T: `scores[h][t][s] = q_h[t]·k_h[s] / √D` for s ≤ t. Masked entries (s > t) hold 0
/// here; they are written as `null` in JSON and never read.
pub fn scores(q: &Mat, k: &Mat, scores: &mut [Mat]) {
    let d = q.ncols() / scores.len();
    let scale = 1.0 / (d as f64).sqrt();
    for (h, s) in scores.iter_mut().enumerate() {
        let cols = h * d..h * d + d;
        for t in 0..s.nrows() {
            for u in 0..s.ncols() {
                s[(t, u)] = if u <= t {
                    cols.clone().map(|c| q[(t, c)] * k[(u, c)]).sum::<f64>() * scale
                } else {
                    0.0
                };
            }
        }
    }
}

/// Row-wise softmax over s ≤ t, computed after subtracting the row's largest score so large
/// scores cannot overflow `exp`. Masked entries are exactly 0.
pub fn causal_softmax(scores: &[Mat], attention: &mut [Mat]) {
    for (s, a) in scores.iter().zip(attention.iter_mut()) {
        a.fill(0.0);
        for t in 0..s.nrows() {
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
    }
}

/// z (T×C): the heads' weighted sums of values side by side, `z_h = attention[h]·v_h`.
pub fn mix(attention: &[Mat], v: &Mat, z: &mut Mat) {
    let d = v.ncols() / attention.len();
    for (h, a) in attention.iter().enumerate() {
        z.columns_mut(h * d, d)
            .gemm(1.0, a, &v.columns(h * d, d), 0.0);
    }
}

/// attnOut (T×C) = z·wo.
pub fn output(z: &Mat, wo: &Mat, attn_out: &mut Mat) {
    attn_out.gemm(1.0, z, wo, 0.0);
}

/// Backward of `output`: ∇z = ∇attnOut·woᵀ and ∇wo = zᵀ·∇attnOut (`wo_t` is woᵀ).
pub fn output_backward(d_attn_out: &Mat, z: &Mat, wo_t: &Mat, dz: &mut Mat, d_wo: &mut Mat) {
    dz.gemm(1.0, d_attn_out, wo_t, 0.0);
    d_wo.gemm_tr(1.0, z, d_attn_out, 0.0);
}

/// Backward of `mix`: ∇attention (H×T×T, masked entries 0) and ∇v (T×C).
pub fn mix_backward(dz: &Mat, attention: &[Mat], v: &Mat, d_attention: &mut [Mat], dv: &mut Mat) {
    let d = v.ncols() / attention.len();
    for (h, (a, da)) in attention.iter().zip(d_attention.iter_mut()).enumerate() {
        let cols = h * d..h * d + d;
        for t in 0..da.nrows() {
            for s in 0..da.ncols() {
                // A masked weight is the constant 0, not a function of any score: no gradient
                // reaches it.
                da[(t, s)] = if s <= t {
                    cols.clone().map(|c| dz[(t, c)] * v[(s, c)]).sum()
                } else {
                    0.0
                };
            }
        }
        dv.columns_mut(h * d, d)
            .gemm_tr(1.0, a, &dz.columns(h * d, d), 0.0);
    }
}

/// Backward of the causal softmax: ∇scores[t][s] = A[t][s]·(∇A[t][s] − Σ_r A[t][r]·∇A[t][r]).
pub fn softmax_backward(d_attention: &[Mat], attention: &[Mat], d_scores: &mut [Mat]) {
    for ((da, a), ds) in d_attention.iter().zip(attention).zip(d_scores.iter_mut()) {
        ds.fill(0.0);
        for t in 0..a.nrows() {
            let dot: f64 = (0..=t).map(|r| a[(t, r)] * da[(t, r)]).sum();
            for s in 0..=t {
                ds[(t, s)] = a[(t, s)] * (da[(t, s)] - dot);
            }
        }
    }
}

/// Backward of `scores`: ∇q_h = ∇S_h·k_h/√D and ∇k_h = ∇S_hᵀ·q_h/√D (each T×C in all).
pub fn scores_backward(d_scores: &[Mat], q: &Mat, k: &Mat, dq: &mut Mat, dk: &mut Mat) {
    let d = q.ncols() / d_scores.len();
    let scale = 1.0 / (d as f64).sqrt();
    for (h, ds) in d_scores.iter().enumerate() {
        dq.columns_mut(h * d, d)
            .gemm(scale, ds, &k.columns(h * d, d), 0.0);
        dk.columns_mut(h * d, d)
            .gemm_tr(scale, ds, &q.columns(h * d, d), 0.0);
    }
}

/// The weights' transposes, which the backward products need; kept so they are not reallocated.
pub struct Transposed {
    pub wq: Mat,
    pub wk: Mat,
    pub wv: Mat,
    pub wo: Mat,
}

/// Backward of `project`: ∇attnIn, ∇wq, ∇wk, ∇wv. attnIn feeds all three projections, so its
/// gradient is the sum of the three paths.
#[allow(clippy::too_many_arguments)]
pub fn project_backward(
    dq: &Mat,
    dk: &Mat,
    dv: &Mat,
    attn_in: &Mat,
    w_t: &Transposed,
    d_attn_in: &mut Mat,
    d_wq: &mut Mat,
    d_wk: &mut Mat,
    d_wv: &mut Mat,
) {
    d_attn_in.gemm(1.0, dq, &w_t.wq, 0.0);
    d_attn_in.gemm(1.0, dk, &w_t.wk, 1.0);
    d_attn_in.gemm(1.0, dv, &w_t.wv, 1.0);
    d_wq.gemm_tr(1.0, attn_in, dq, 0.0);
    d_wk.gemm_tr(1.0, attn_in, dk, 0.0);
    d_wv.gemm_tr(1.0, attn_in, dv, 0.0);
}
