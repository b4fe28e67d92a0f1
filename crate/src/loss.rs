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
#[derive(Clone, Debug, PartialEq)]
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

/// −ln probs[t][target] = logsumexp(logits[t]) − logits[t][target], averaged.
pub fn forward(logits: &Mat, targets: &[Option<usize>]) -> Result<LossReport, ModelError> {
    let terms: Vec<Option<f64>> = targets
        .iter()
        .enumerate()
        .map(|(t, target)| target.map(|y| log_sum_exp(logits, t) - logits[(t, y)]))
        .collect();
    let count = terms.iter().flatten().count();
    if count == 0 {
        fail!("{}", no_target_message(targets.len()));
    }
    let value = terms.iter().flatten().sum::<f64>() / count as f64;
    Ok(LossReport {
        value,
        count,
        targets: targets.to_vec(),
        terms,
    })
}

/// Y: T×V, one-hot rows for positions with a target, a row of zeros for a skipped position.
pub fn one_hot(targets: &[Option<usize>], vocab_size: usize) -> Mat {
    let mut y = Mat::zeros(targets.len(), vocab_size);
    for (t, target) in targets.iter().enumerate() {
        if let Some(v) = target {
            y[(t, *v)] = 1.0;
        }
    }
    y
}

/// ∇logits = (P − Y)/N on rows with a target; a skipped row contributes nothing to L, so its
/// gradient is exactly 0.
pub fn backward_logits(probs: &Mat, targets: &[Option<usize>], count: usize) -> Mat {
    let y = one_hot(targets, probs.ncols());
    let mut d = (probs - y) / count as f64;
    for (t, target) in targets.iter().enumerate() {
        if target.is_none() {
            d.row_mut(t).fill(0.0);
        }
    }
    d
}

/// ∇probs = −Y/(N·P): only the target entries of L's logarithms depend on probs.
pub fn backward_probs(probs: &Mat, targets: &[Option<usize>], count: usize) -> Mat {
    let mut d = Mat::zeros(probs.nrows(), probs.ncols());
    for (t, target) in targets.iter().enumerate() {
        if let Some(v) = target {
            d[(t, *v)] = -1.0 / (count as f64 * probs[(t, *v)]);
        }
    }
    d
}
