//! A `Session` whose state has a training batch: the buffers it keeps between steps and the
//! batch's step, loss and gradient. (A single-sentence session never touches these.)

use crate::batch::{self, Pool};
use crate::error::ModelError;
use crate::model::Backward;
use crate::optimizer::{self, StepOptions};
use crate::session::{BatchBuffers, Session};
use crate::state::State;
use crate::weights::Weights;

impl BatchBuffers {
    pub fn new(state: &State) -> BatchBuffers {
        BatchBuffers {
            on: batch::is_batch(state),
            train: batch::training_ids(state),
            held_out: batch::held_out_ids(state),
            pool: Pool::default(),
            grad: None,
            backward: None,
            last: Vec::new(),
        }
    }
}

impl Session {
    pub(crate) fn batch_loss_value(&mut self) -> Result<f64, ModelError> {
        let (state, b, _) = self.batch_parts();
        let seqs: Vec<&Vec<usize>> = b.train.iter().collect();
        Ok(batch::losses(state, &state.weights, &mut b.pool, &seqs)?.0)
    }

    pub(crate) fn batch_backward(&mut self) -> Result<&Backward, ModelError> {
        if self.batch.backward.is_none() {
            self.batch.backward = Some(batch::backward(self.state_ref())?);
        }
        self.batch
            .backward
            .as_ref()
            .ok_or_else(|| ModelError::new("internal error: no gradient"))
    }

    /// The held-out set's loss under the current weights (None without one).
    pub fn held_out_loss(&mut self) -> Result<Option<f64>, ModelError> {
        let (state, b, _) = self.batch_parts();
        let held = batch::held_out_loss(state, &state.weights, &mut b.pool, &b.held_out)?;
        Ok(held.map(|l| l.value))
    }

    /// Whether the state has a training batch (or a held-out set).
    pub fn is_batch(&self) -> bool {
        crate::state::BATCHES && self.batch.on
    }

    /// The indices of the training sequences the last step used.
    pub fn last_batch(&self) -> &[usize] {
        &self.batch.last
    }

    /// One step on the batch (or on `options.batch`'s mini-batch of it).
    pub(crate) fn batch_step(&mut self, options: &StepOptions) -> Result<(f64, f64), ModelError> {
        let indices = batch::step_indices(self.state_ref(), options)?;
        let mut grad = match self.batch.grad.take() {
            Some(g) if g.same_shapes(&self.state_ref().weights) => g,
            _ => self.state_ref().weights.zeros_like(),
        };
        let result = self.batch_update(options, &indices, &mut grad);
        self.batch.grad = Some(grad);
        let (before, after) = result?;
        self.accept_spares();
        self.invalidate();
        self.batch.last = indices;
        Ok((before, after))
    }

    fn batch_update(
        &mut self,
        options: &StepOptions,
        indices: &[usize],
        grad: &mut Weights,
    ) -> Result<(f64, f64), ModelError> {
        self.load_spares();
        let (state, b, (spare_w, spare_m)) = self.batch_parts();
        let seqs: Vec<&Vec<usize>> = indices.iter().map(|&i| &b.train[i]).collect();
        let (before, _) = batch::gradient(state, &state.weights, &mut b.pool, &seqs, grad)?;
        optimizer::apply(spare_w, spare_m, grad, options)?;
        let after = batch::losses(state, spare_w, &mut b.pool, &seqs)
            .map_err(|e| optimizer::after_step_error(e, options))?
            .0;
        Ok((before, after))
    }
}
