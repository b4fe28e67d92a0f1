//! Unembedding and softmax: logits = xf·unembedding, probs = softmax of each row.

use crate::state::Mat;

/// logits: T×V.
pub fn forward(xf: &Mat, unembedding: &Mat, logits: &mut Mat) {
    logits.gemm(1.0, xf, unembedding, 0.0);
}

/// probs: T×V. Each row's largest logit is subtracted first, so `exp` never overflows and the
/// result is the same as the textbook formula.
pub fn softmax(logits: &Mat, probs: &mut Mat) {
    probs.copy_from(logits);
    for mut row in probs.row_iter_mut() {
        let max = row.max();
        row.apply(|x| *x = (*x - max).exp());
        let sum = row.sum();
        row /= sum;
    }
}

/// log Σ exp(row), computed stably: the loss uses it instead of ln(probs) so a probability that
/// underflows to 0 still gives a finite loss.
pub fn log_sum_exp(logits: &Mat, t: usize) -> f64 {
    let row = logits.row(t);
    let max = row.max();
    max + row.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// ∇xf (T×C) and ∇unembedding (C×V). `unembedding_t` is unembeddingᵀ, kept transposed so the
/// product needs no temporary.
pub fn backward(
    d_logits: &Mat,
    xf: &Mat,
    unembedding_t: &Mat,
    d_xf: &mut Mat,
    d_unembedding: &mut Mat,
) {
    d_xf.gemm(1.0, d_logits, unembedding_t, 0.0);
    d_unembedding.gemm_tr(1.0, xf, d_logits, 0.0);
}
