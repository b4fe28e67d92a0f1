//! Unembedding and softmax: logits = xf·unembedding, probs = softmax of each row.

use crate::mat::Mat;
use crate::matmul::{self, Out, View};

/// logits: T×V.
pub fn forward(xf: &Mat, unembedding: &Mat, logits: &mut Mat) {
    matmul::set(1.0, View::of(xf), View::of(unembedding), Out::of(logits));
}

/// probs: T×V. Each row's largest logit is subtracted first, so `exp` never overflows and the
/// result is the same as the textbook formula. `lse[t]` = log Σ exp(logits[t]) from the same
/// sums: the loss uses it instead of ln(probs) so a probability that underflows to 0 still gives
/// a finite loss.
pub fn softmax(logits: &Mat, probs: &mut Mat, lse: &mut [f64]) {
    crate::softmax::by_rows(logits, probs, lse);
}

/// ∇xf = ∇logits·unembeddingᵀ (T×C) and ∇unembedding = xfᵀ·∇logits (C×V).
pub fn backward(
    d_logits: &Mat,
    xf: &Mat,
    unembedding: &Mat,
    d_xf: &mut Mat,
    d_unembedding: &mut Mat,
) {
    let dy = View::of(d_logits);
    matmul::set(1.0, dy, View::of(unembedding).t(), Out::of(d_xf));
    matmul::set(1.0, View::of(xf).t(), dy, Out::of(d_unembedding));
}
