//! The training batch: several sequences, one loss.
//!
//! L = (1/N) Σ_s Σ_t −ln P_s[t][target], N counting every targeted position of every sequence.
//! Each sequence runs through the same single-sequence forward and backward pass; the only change
//! is that its backward divides by the batch's N instead of its own count, so its weight gradient
//! is exactly its share of the batch gradient, and the shares add up. A state without
//! `sequences` and `heldOut` never comes here (lib.rs), so it behaves exactly as before.

use crate::error::{fail, ModelError};
use crate::loss::{self, BatchLoss, LossReport, SetLoss};
use crate::model::{self, Backward, Probe, Workspace};
use crate::optimizer::{self, StepOptions, StepResult};
use crate::state::{State, BATCHES};
use crate::weights::Weights;

/// Whether the state has a training batch or a held-out set (either makes it a batch state).
pub(crate) fn is_batch(state: &State) -> bool {
    BATCHES && (state.sequences.is_some() || state.held_out.is_some())
}

/// Whether a step with `options` trains on a batch: a batch state, or a mini-batch drawn.
pub(crate) fn batch_step(state: &State, options: &StepOptions) -> bool {
    is_batch(state) || (BATCHES && options.batch.is_some())
}

/// The training sequences as vocabulary indices: `sequences`, or `[tokens]` without it.
pub(crate) fn training_ids(state: &State) -> Vec<Vec<usize>> {
    match &state.sequences {
        Some(seqs) => seqs.iter().map(|s| state.ids_of(s)).collect(),
        None => vec![state.ids()],
    }
}

pub(crate) fn held_out_ids(state: &State) -> Vec<Vec<usize>> {
    state
        .held_out
        .iter()
        .flatten()
        .map(|s| state.ids_of(s))
        .collect()
}

/// N: each sequence's positions but the last, and the last too when there is an eos.
pub(crate) fn target_count<'a>(
    seqs: impl IntoIterator<Item = &'a Vec<usize>>,
    eos: Option<usize>,
) -> usize {
    seqs.into_iter()
        .map(|s| s.len() - 1 + usize::from(eos.is_some()))
        .sum()
}

/// How many training sequences are the shown one (`tokens`).
pub(crate) fn shown_copies(state: &State) -> Vec<usize> {
    match &state.sequences {
        Some(seqs) => (0..seqs.len())
            .filter(|&i| seqs[i] == state.tokens)
            .collect(),
        None => vec![0],
    }
}

/// One workspace per sequence length, reused for every sequence of that length: memory grows
/// with the longest sequence, not with the batch.
#[derive(Default)]
pub(crate) struct Pool {
    by_len: Vec<Option<Workspace>>,
}

impl Pool {
    pub fn get(&mut self, state: &State, ids: &[usize]) -> &mut Workspace {
        let t = ids.len();
        if self.by_len.len() <= t {
            self.by_len.resize_with(t + 1, || None);
        }
        let slot = &mut self.by_len[t];
        let ws = slot.get_or_insert_with(|| Workspace::for_ids(state, ids.to_vec()));
        ws.set_ids(ids, state.eos_id());
        ws
    }
}

/// Forward pass and loss terms of one sequence; returns (Σ terms, its count).
fn run_one(ws: &mut Workspace, w: &Weights, state: &State) -> Result<(f64, usize), ModelError> {
    model::forward_into(ws, w, &state.config)?;
    loss::fill_terms(&ws.lse, &ws.acts.logits, &ws.targets, &mut ws.terms);
    let terms = ws.terms.iter().flatten();
    Ok((terms.clone().sum(), terms.count()))
}

fn no_target(state: &State) -> ModelError {
    ModelError::new(format!(
        "no position of the batch has a target, so there is no loss: every sequence has one \
         token and there is no end-of-sequence token{}; add tokens or set eos",
        if state.eos.is_some() {
            ""
        } else {
            " (eos is null)"
        }
    ))
}

/// Each sequence's (Σ terms, count).
pub(crate) type Parts = Vec<(f64, usize)>;

/// The loss of `seqs` under `w`: (mean, N, each sequence's (Σ terms, count)).
pub(crate) fn losses(
    state: &State,
    w: &Weights,
    pool: &mut Pool,
    seqs: &[&Vec<usize>],
) -> Result<(f64, usize, Parts), ModelError> {
    let mut parts = Vec::with_capacity(seqs.len());
    let (mut sum, mut n) = (0.0, 0);
    for ids in seqs {
        let (s, c) = run_one(pool.get(state, ids), w, state)?;
        sum += s;
        n += c;
        parts.push((s, c));
    }
    if n == 0 {
        return Err(no_target(state));
    }
    Ok((sum / n as f64, n, parts))
}

/// The gradient of the loss of `seqs` under `w` into `grad`; returns (mean loss, N).
pub(crate) fn gradient(
    state: &State,
    w: &Weights,
    pool: &mut Pool,
    seqs: &[&Vec<usize>],
    grad: &mut Weights,
) -> Result<(f64, usize), ModelError> {
    let n = target_count(seqs.iter().copied(), state.eos_id());
    if n == 0 {
        return Err(no_target(state));
    }
    for (_, g) in grad.params_mut() {
        g.fill(0.0);
    }
    let mut sum = 0.0;
    for ids in seqs {
        let ws = pool.get(state, ids);
        sum += run_one(ws, w, state)?.0;
        ws.count = n;
        model::backward_into(ws, w)?;
        grad.zip_mut(&ws.grad.weights, |_, g, s| *g += s);
    }
    Ok((sum / n as f64, n))
}

/// The held-out set's loss under `w`, or None when it has no sequence (or no target).
pub(crate) fn held_out_loss(
    state: &State,
    w: &Weights,
    pool: &mut Pool,
    held: &[Vec<usize>],
) -> Result<Option<SetLoss>, ModelError> {
    let seqs: Vec<&Vec<usize>> = held.iter().collect();
    if target_count(seqs.iter().copied(), state.eos_id()) == 0 {
        return Ok(None);
    }
    let (value, positions, _) = losses(state, w, pool, &seqs)?;
    Ok(Some(SetLoss { value, positions }))
}

/// `loss(state)` of a batch state: the per-position fields describe `tokens`, `value` is the
/// batch's mean.
pub(crate) fn loss_report(state: &State) -> Result<LossReport, ModelError> {
    let train = training_ids(state);
    let mut pool = Pool::default();
    let seqs: Vec<&Vec<usize>> = train.iter().collect();
    let (value, positions, parts) = losses(state, &state.weights, &mut pool, &seqs)?;
    let held = held_out_ids(state);
    let held_out = held_out_loss(state, &state.weights, &mut pool, &held)?;
    let mut shown = Workspace::new(state);
    let (_, count) = run_one(&mut shown, &state.weights, state)?;
    Ok(LossReport {
        value,
        count,
        targets: shown.targets.clone(),
        terms: shown.terms.clone(),
        batch: Some(BatchLoss {
            positions,
            sequences: parts
                .into_iter()
                .map(|(s, c)| SetLoss {
                    value: if c == 0 { 0.0 } else { s / c as f64 },
                    positions: c,
                })
                .collect(),
        }),
        held_out: Some(held_out),
    })
}

/// The shown sequence's trace under the batch loss: one copy's forward and backward with the
/// batch's N, its activation gradients multiplied by the number of copies in the batch.
pub(crate) fn shown_trace(
    state: &State,
    w: &Weights,
    n: usize,
    copies: usize,
) -> Result<Workspace, ModelError> {
    let mut ws = Workspace::new(state);
    run_one(&mut ws, w, state)?;
    ws.count = n;
    model::backward_into(&mut ws, w)?;
    ws.grad.activations.scale(copies as f64);
    Ok(ws)
}

/// `backward(state)` of a batch state.
pub(crate) fn backward(state: &State) -> Result<Backward, ModelError> {
    let train = training_ids(state);
    let seqs: Vec<&Vec<usize>> = train.iter().collect();
    let mut grad = state.weights.zeros_like();
    let (value, n) = gradient(
        state,
        &state.weights,
        &mut Pool::default(),
        &seqs,
        &mut grad,
    )?;
    let copies = shown_copies(state).len();
    let shown = shown_trace(state, &state.weights, n, copies)?;
    Ok(Backward {
        loss: value,
        weights: grad,
        activations: shown.grad.activations,
        shown_in_batch: Some(copies),
    })
}

/// The batch loss with one activation of the shown sequence shifted in every copy of it (or
/// with no probe); a probe on `probs` takes the loss from the shifted probabilities themselves.
pub(crate) fn loss_with_probe(state: &State, probe: Option<&Probe>) -> Result<f64, ModelError> {
    let train = training_ids(state);
    let shown = state.ids();
    let n = target_count(&train, state.eos_id());
    if n == 0 {
        return Err(no_target(state));
    }
    let mut sum = 0.0;
    for ids in &train {
        let mut ws = Workspace::for_ids(state, ids.clone());
        let p = probe.filter(|_| *ids == shown);
        model::run(&mut ws, &state.weights, &state.config, p);
        if p.is_some_and(|p| p.name == "probs") {
            let probs = &ws.acts.probs;
            let terms = ws.targets.iter().enumerate();
            sum += terms
                .filter_map(|(t, y)| y.map(|y| -probs[(t, y)].ln()))
                .sum::<f64>();
        } else {
            loss::fill_terms(&ws.lse, &ws.acts.logits, &ws.targets, &mut ws.terms);
            sum += ws.terms.iter().flatten().sum::<f64>();
        }
    }
    Ok(sum / n as f64)
}

/// The indices of the training sequences one step uses: `options.batch`'s draw, or all.
pub(crate) fn step_indices(state: &State, options: &StepOptions) -> Result<Vec<usize>, ModelError> {
    let total = state.sequences.as_ref().map_or(1, Vec::len);
    match &options.batch {
        None => Ok((0..total).collect()),
        Some(draw) => draw.indices(total),
    }
}

/// `step(state, options)` of a batch state (or of any state with `options.batch`).
pub(crate) fn step(state: &State, options: &StepOptions) -> Result<StepResult, ModelError> {
    state.check_shapes()?;
    let train = training_ids(state);
    let indices = step_indices(state, options)?;
    let seqs: Vec<&Vec<usize>> = indices.iter().map(|&i| &train[i]).collect();
    let mut pool = Pool::default();
    let mut grad = state.weights.zeros_like();
    let (loss_before, _) = gradient(state, &state.weights, &mut pool, &seqs, &mut grad)?;
    let mut next = state.clone();
    optimizer::apply(&mut next.weights, &mut next.optimizer, &grad, options)?;
    let loss_after = losses(state, &next.weights, &mut pool, &seqs)
        .map(|(l, _, _)| l)
        .map_err(|e| optimizer::after_step_error(e, options))?;
    let mut update = next.weights.clone();
    for ((_, u), (_, w)) in update.params_mut().zip(state.weights.params()) {
        *u -= w;
    }
    if !loss_after.is_finite() {
        fail!("after the step the loss is not finite; lower the learning rate");
    }
    Ok(StepResult {
        state: next,
        update,
        loss_before,
        loss_after,
        batch: Some(indices),
    })
}
