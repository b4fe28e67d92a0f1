//! The target (the input shifted one position) and the cross-entropy loss averaged over the
//! positions that have a target.

use crate::error::{fail, ModelError};
use crate::explain::{act, factor, signed, term, Explained, Kind, Positions};
use crate::json::quote;
use crate::mat::Mat;

/// `targets[t]` is the vocabulary index position t should predict: the next input token, and for
/// the last position the end-of-sequence token if the vocabulary has one, else nothing.
pub fn targets(ids: &[usize], eos: Option<usize>) -> Vec<Option<usize>> {
    let t_len = ids.len();
    (0..t_len)
        .map(|t| if t + 1 < t_len { Some(ids[t + 1]) } else { eos })
        .collect()
}

/// One set's loss: its mean and how many positions it averages.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SetLoss {
    pub value: f64,
    pub positions: usize,
}

/// `loss(state).batch`: N, and each training sequence's own mean (null-free: a sequence with no
/// target reports value 0 over 0 positions).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BatchLoss {
    pub positions: usize,
    pub sequences: Vec<SetLoss>,
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
    /// With a training batch: its size and each sequence's loss (`value` is then the batch's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchLoss>,
    /// With a training batch: the held-out sequences' loss, or null when there are none.
    #[serde(rename = "heldOut", skip_serializing_if = "Option::is_none")]
    pub held_out: Option<Option<SetLoss>>,
}

pub fn no_target_message(t_len: usize) -> String {
    format!(
        "no position has a target, so there is no loss: the input has {t_len} token{} and the last \
         position predicts nothing without an end-of-sequence token; add a token to the input or set eos",
        if t_len == 1 { "" } else { "s" }
    )
}

/// Fills `terms` with −ln probs[t][target] = logsumexp(logits[t]) − logits[t][target] and
/// returns (L, N), L being the terms' mean. `lse` is the log-sum-exp of each row of `logits`,
/// which the softmax computed with the probabilities.
pub fn forward(
    lse: &[f64],
    logits: &Mat,
    targets: &[Option<usize>],
    terms: &mut [Option<f64>],
) -> Result<(f64, usize), ModelError> {
    fill_terms(lse, logits, targets, terms);
    let count = terms.iter().flatten().count();
    if count == 0 {
        fail!("{}", no_target_message(targets.len()));
    }
    Ok((terms.iter().flatten().sum::<f64>() / count as f64, count))
}

/// Fills `terms` only: a sequence of a batch may have no target of its own.
pub fn fill_terms(lse: &[f64], logits: &Mat, targets: &[Option<usize>], terms: &mut [Option<f64>]) {
    for (t, (target, term)) in targets.iter().zip(terms.iter_mut()).enumerate() {
        *term = target.map(|y| lse[t] - logits[(t, y)]);
    }
}

/// ∇logits = (P − Y)/N on rows with a target; a skipped row contributes nothing to L, so its
/// gradient is exactly 0.
pub fn backward_logits(probs: &Mat, targets: &[Option<usize>], count: usize, d: &mut Mat) {
    let n = count as f64;
    // Column by column: the matrices are stored by columns.
    let rows = probs.nrows().max(1);
    let columns = probs.as_slice().chunks_exact(rows);
    for (v, (p, out)) in columns
        .zip(d.as_mut_slice().chunks_exact_mut(rows))
        .enumerate()
    {
        for ((d, p), target) in out.iter_mut().zip(p).zip(targets) {
            *d = match target {
                Some(y) => (p - if *y == v { 1.0 } else { 0.0 }) / n,
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

/// Each position's target and N, for the explanations below.
#[derive(Clone, Copy)]
pub struct Targets<'a> {
    pub of: &'a [Option<usize>],
    pub count: usize,
}

/// ∂L/∂P̂[i][j] = −(1/N)·(1/P̂[i][j]) at the target entry; every other entry is outside L.
pub fn explain_probs(
    p: &Positions,
    vocab: &[String],
    probs: &Mat,
    d_probs: &Mat,
    targets: Targets,
    i: usize,
    j: usize,
) -> Explained {
    let gradient = d_probs[(i, j)];
    match targets.of[i] {
        Some(y) if y == j => Explained::new(
            vec![signed(
                -1,
                p.label(i),
                vec![
                    factor(Kind::Constant, "invCount", &[], 1.0 / targets.count as f64),
                    factor(Kind::Reciprocal, "probs", &[i, j], 1.0 / probs[(i, j)]),
                ],
            )],
            gradient,
        ),
        Some(_) => Explained::none(
            format!("Only the target's probability enters the loss; {} is not the target of position {i}.", quote(&vocab[j])),
            gradient,
        ),
        None => Explained::none(format!("Position {i} has no target, so no probability in its row enters the loss."), gradient),
    }
}

/// ∂L/∂logits[i][j] = P̂[i][j]/N − Y[i][j]/N: softmax and −ln together (`backward_logits`).
pub fn explain_logits(
    probs: &Mat,
    d_logits: &Mat,
    targets: Targets,
    i: usize,
    j: usize,
) -> Explained {
    let gradient = d_logits[(i, j)];
    let inv_count = || factor(Kind::Constant, "invCount", &[], 1.0 / targets.count as f64);
    match targets.of[i] {
        Some(y) => Explained::new(
            vec![
                term(
                    "predicted probability",
                    vec![act("probs", &[i, j], probs[(i, j)]), inv_count()],
                ),
                signed(
                    -1,
                    "minus the target",
                    vec![
                        factor(
                            Kind::Target,
                            "target",
                            &[i, j],
                            if y == j { 1.0 } else { 0.0 },
                        ),
                        inv_count(),
                    ],
                ),
            ],
            gradient,
        ),
        None => Explained::none(
            format!("Position {i} has no target, so its logits do not affect the loss."),
            gradient,
        ),
    }
}
