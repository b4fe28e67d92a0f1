//! The target (the input shifted one position) and the cross-entropy loss averaged over the
//! positions that have a target.

use crate::error::{fail, ModelError};
use crate::state::Mat;
use crate::unembedding::log_sum_exp;

/// `targets[t]` is the vocabulary index position t should predict: the next input token, and for
/// the last position the end-of-sequence token if the vocabulary has one, else nothing.
pub fn targets(ids: &[usize], eos: Option<usize>) -> Vec<Option<usize>> {
    let t_len = ids.len();
    (0..t_len)
        .map(|t| if t + 1 < t_len { Some(ids[t + 1]) } else { eos })
        .collect()
}

/// The loss and its parts, as the contract's `loss()` returns them.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LossReport {
    /// L = (1/N) Σ terms.
    pub value: f64,
    /// N, the number of positions with a target.
    pub count: usize,
    pub targets: Vec<Option<usize>>,
    /// −ln probs[t][target] for positions with a target.
    pub terms: Vec<Option<f64>>,
}

pub fn no_target_message(t_len: usize) -> String {
    format!(
        "no position has a target, so there is no loss: the input has {t_len} token{} and the last \
         position predicts nothing without an end-of-sequence token; add a token to the input or set eos",
        if t_len == 1 { "" } else { "s" }
    )
}

/// Fills `terms` with −ln probs[t][target] = logsumexp(logits[t]) − logits[t][target] and
/// returns (L, N), L being the terms' mean.
pub fn forward(
    logits: &Mat,
    targets: &[Option<usize>],
    terms: &mut [Option<f64>],
) -> Result<(f64, usize), ModelError> {
    for (t, (target, term)) in targets.iter().zip(terms.iter_mut()).enumerate() {
        *term = target.map(|y| log_sum_exp(logits, t) - logits[(t, y)]);
    }
    let count = terms.iter().flatten().count();
    if count == 0 {
        fail!("{}", no_target_message(targets.len()));
    }
    Ok((terms.iter().flatten().sum::<f64>() / count as f64, count))
}

/// ∇logits = (P − Y)/N on rows with a target; a skipped row contributes nothing to L, so its
/// gradient is exactly 0.
pub fn backward_logits(probs: &Mat, targets: &[Option<usize>], count: usize, d: &mut Mat) {
    let n = count as f64;
    for (t, target) in targets.iter().enumerate() {
        for v in 0..probs.ncols() {
            d[(t, v)] = match target {
                Some(y) => (probs[(t, v)] - if *y == v { 1.0 } else { 0.0 }) / n,
                None => 0.0,
            };
        }
    }
}

/// ∇probs = −Y/(N·P): only the target entries of L's logarithms depend on probs.
pub fn backward_probs(probs: &Mat, targets: &[Option<usize>], count: usize, d: &mut Mat) {
    d.fill(0.0);
    for (t, target) in targets.iter().enumerate() {
        if let Some(v) = target {
            d[(t, *v)] = -1.0 / (count as f64 * probs[(t, *v)]);
        }
    }
}
