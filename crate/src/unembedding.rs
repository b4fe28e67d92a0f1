//! Unembedding and softmax: logits = xf·unembedding, probs = softmax of each row.

use crate::state::Mat;

/// logits: T×V.
pub fn forward(xf: &Mat, unembedding: &Mat) -> Mat {
    xf * unembedding
}

/// probs: T×V. Each row's largest logit is subtracted first, so `exp` never overflows and the
/// result is the same as the textbook formula.
pub fn softmax(logits: &Mat) -> Mat {
    let mut p = logits.clone();
    for mut row in p.row_iter_mut() {
        let max = row.max();
        row.apply(|x| *x = (*x - max).exp());
        let sum = row.sum();
        row /= sum;
    }
    p
}

/// log Σ exp(row), computed stably: the loss uses it instead of ln(probs) so a probability that
/// underflows to 0 still gives a finite loss.
pub fn log_sum_exp(logits: &Mat, t: usize) -> f64 {
    let row = logits.row(t);
    let max = row.max();
    max + row.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// Backward: (∇xf T×C, ∇unembedding C×V).
pub fn backward(d_logits: &Mat, xf: &Mat, unembedding: &Mat) -> (Mat, Mat) {
    (
        d_logits * unembedding.transpose(),
        xf.transpose() * d_logits,
    )
}
