//! A model held in memory between calls: what the page edits and trains.
//!
//! The contract's functions take a whole state and return whole results, which means parsing and
//! re-creating everything on every call. A `Session` keeps the state, the workspace and the last
//! results instead: an edit changes one number, the next read recomputes only what is stale, and
//! a training step reuses every buffer (it allocates nothing once the first step has run).

use crate::activations::Activations;
use crate::cell::Cell;
use crate::error::{fail, ModelError};
use crate::loss::LossReport;
use crate::model::{self, Backward, Stage, Workspace};
use crate::num::float_text;
use crate::optimizer::{self, StepOptions};
use crate::state::{OptimizerState, State};
use crate::weights::Weights;

/// What a session whose state has a training batch keeps between steps (session_batch.rs
/// holds its methods).
pub(crate) struct BatchBuffers {
    /// Whether the state is a batch state (then every loss and gradient is the batch's).
    pub on: bool,
    pub train: Vec<Vec<usize>>,
    pub held_out: Vec<Vec<usize>>,
    pub pool: crate::batch::Pool,
    pub grad: Option<crate::weights::Weights>,
    /// `backward()`'s result for the current weights, once asked for.
    pub backward: Option<crate::model::Backward>,
    /// The indices the last step trained on.
    pub last: Vec<usize>,
}

/// How far the workspace has been computed for the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Done {
    Nothing,
    Forward,
    Loss,
    Backward,
}

pub struct Session {
    state: State,
    ws: Workspace,
    done: Done,
    /// While the forward pass is stale (`done` is Nothing): the first stage to recompute. An edit
    /// of one weight leaves the stages before the first one reading it as they were.
    from: Stage,
    /// Where a step writes the new weights and moments before they are accepted, so a step that
    /// fails (non-finite weights) leaves the state as it was.
    spare_weights: Weights,
    spare_moments: Option<OptimizerState>,
    /// A training batch's buffers (session_batch.rs); untouched for a single-sentence state.
    pub(crate) batch: BatchBuffers,
}

/// The most steps one `train` call takes. Training blocks the thread it runs on (the page's
/// worker), so the page trains in chunks and repaints between them; a larger count is refused
/// rather than left to run for minutes. At the article's size this is about half a second.
pub const MAX_TRAIN_STEPS: usize = 10_000;

/// A step count from outside (a JS number): a whole number from 0 to [`MAX_TRAIN_STEPS`].
pub fn train_steps(value: f64) -> Result<usize, ModelError> {
    if value.fract() != 0.0 || value < 0.0 {
        fail!(
            "steps must be a whole number from 0 to {MAX_TRAIN_STEPS}, found {}",
            float_text(value)
        );
    }
    if value > MAX_TRAIN_STEPS as f64 {
        fail!(
            "steps is {}; one call trains at most {MAX_TRAIN_STEPS} steps (call train again \
             to go on)",
            float_text(value)
        );
    }
    Ok(value as usize)
}

/// What a run of training steps did.
#[derive(Clone, Debug, PartialEq)]
pub struct Training {
    /// The loss after each completed step.
    pub losses: Vec<f64>,
    /// With a held-out set: its loss after each completed step (else empty).
    pub held_out_losses: Vec<f64>,
    /// Why training stopped early, if it did (the state is the last good one).
    pub stopped: Option<ModelError>,
}

impl Session {
    pub fn new(state: State) -> Result<Session, ModelError> {
        state.check_shapes()?;
        Ok(Session {
            ws: Workspace::new(&state),
            spare_weights: state.weights.clone(),
            spare_moments: None,
            done: Done::Nothing,
            from: Stage::Embedding,
            batch: BatchBuffers::new(&state),
            state,
        })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Replaces the whole state (keeping the buffers when the sizes are unchanged).
    pub fn set_state(&mut self, state: State) -> Result<(), ModelError> {
        state.check_shapes()?;
        if self.ws.fits(&state) {
            self.ws.refresh_input(&state);
        } else {
            self.ws = Workspace::new(&state);
        }
        if !self.spare_weights.same_shapes(&state.weights) {
            self.spare_weights = state.weights.clone();
        }
        self.batch = BatchBuffers::new(&state);
        self.state = state;
        self.invalidate();
        Ok(())
    }

    /// Sets one entry of one weight; the cell names it as in [`Cell`] (`group` "weights").
    pub fn set_weight(&mut self, cell: &Cell, value: f64) -> Result<(), ModelError> {
        if !value.is_finite() {
            fail!("{} must be a finite number", cell.describe());
        }
        let (i, j) = cell.weight_entry(&self.state)?;
        if let Some(m) = self.state.weights.get_mut(&cell.name) {
            m[(i, j)] = value;
        }
        self.stale_from(Stage::reading(&cell.name));
        Ok(())
    }

    /// `set_weight` by name and position (vectors: row 0), the page's per-keystroke path: no
    /// allocation when the entry exists; otherwise the same messages as `set_weight`.
    pub fn set_weight_at(
        &mut self,
        name: &str,
        row: usize,
        col: usize,
        value: f64,
    ) -> Result<(), ModelError> {
        match self.state.weights.get_mut(name) {
            Some(m) if value.is_finite() && row < m.nrows() && col < m.ncols() => {
                m[(row, col)] = value;
                self.stale_from(Stage::reading(name));
                Ok(())
            }
            _ => {
                let index = if crate::weights::is_vector(name) {
                    vec![col]
                } else {
                    vec![row, col]
                };
                self.set_weight(&Cell::weight(name, &index), value)
            }
        }
    }

    fn ensure(&mut self, want: Done) -> Result<(), ModelError> {
        let (w, cfg) = (&self.state.weights, &self.state.config);
        if self.done < Done::Forward && want >= Done::Forward {
            model::forward_from(&mut self.ws, w, cfg, self.from)?;
            self.done = Done::Forward;
        }
        if self.done < Done::Loss && want >= Done::Loss {
            model::loss_into(&mut self.ws)?;
            self.done = Done::Loss;
        }
        if self.done < Done::Backward && want >= Done::Backward {
            model::backward_into(&mut self.ws, w)?;
            self.done = Done::Backward;
        }
        Ok(())
    }

    pub fn forward(&mut self) -> Result<&Activations, ModelError> {
        self.ensure(Done::Forward)?;
        Ok(&self.ws.acts)
    }

    pub fn loss(&mut self) -> Result<LossReport, ModelError> {
        if self.is_batch() {
            return crate::batch::loss_report(&self.state);
        }
        self.ensure(Done::Loss)?;
        Ok(self.ws.report())
    }

    pub fn loss_value(&mut self) -> Result<f64, ModelError> {
        if self.is_batch() {
            return self.batch_loss_value();
        }
        self.ensure(Done::Loss)?;
        Ok(self.ws.grad.loss)
    }

    pub fn backward(&mut self) -> Result<&Backward, ModelError> {
        if self.is_batch() {
            return self.batch_backward();
        }
        self.ensure(Done::Backward)?;
        Ok(&self.ws.grad)
    }

    /// One optimisation step in place; returns (loss before, loss after). On an error the state
    /// is unchanged.
    pub fn step(&mut self, options: &StepOptions) -> Result<(f64, f64), ModelError> {
        if self.is_batch() || (crate::state::BATCHES && options.batch.is_some()) {
            return self.batch_step(options);
        }
        self.ensure(Done::Backward)?;
        let before = self.ws.grad.loss;
        self.load_spares();
        optimizer::apply(
            &mut self.spare_weights,
            &mut self.spare_moments,
            &self.ws.grad.weights,
            options,
        )?;
        // The workspace now holds the new weights' forward pass, whatever happens next.
        self.invalidate();
        let after = optimizer::loss_after(
            &mut self.ws,
            &self.spare_weights,
            &self.state.config,
            options,
        )?;
        self.accept_spares();
        self.done = Done::Loss;
        Ok((before, after))
    }

    /// Copies the weights and moments into the spare buffers a step updates.
    pub(crate) fn load_spares(&mut self) {
        for ((_, spare), (_, w)) in self
            .spare_weights
            .params_mut()
            .zip(self.state.weights.params())
        {
            spare.copy_from(w);
        }
        match (&self.state.optimizer, &mut self.spare_moments) {
            (None, spare) => *spare = None,
            (Some(m), Some(spare)) if m.m.same_shapes(&spare.m) => {
                spare.step = m.step;
                for ((_, a), (_, b)) in spare.m.params_mut().zip(m.m.params()) {
                    a.copy_from(b);
                }
                for ((_, a), (_, b)) in spare.v.params_mut().zip(m.v.params()) {
                    a.copy_from(b);
                }
            }
            (Some(m), spare) => *spare = Some(m.clone()),
        }
    }

    /// Makes the spare buffers (the step's result) the state.
    pub(crate) fn accept_spares(&mut self) {
        std::mem::swap(&mut self.state.weights, &mut self.spare_weights);
        std::mem::swap(&mut self.state.optimizer, &mut self.spare_moments);
    }

    pub(crate) fn state_ref(&self) -> &State {
        &self.state
    }

    /// The state, the batch buffers and the spare weights and moments a step writes, borrowed
    /// apart.
    #[allow(clippy::type_complexity)]
    pub(crate) fn batch_parts(
        &mut self,
    ) -> (
        &State,
        &mut BatchBuffers,
        (&mut Weights, &mut Option<OptimizerState>),
    ) {
        (
            &self.state,
            &mut self.batch,
            (&mut self.spare_weights, &mut self.spare_moments),
        )
    }

    /// Marks every cached result stale (the weights changed).
    pub(crate) fn invalidate(&mut self) {
        self.stale_from(Stage::Embedding);
    }

    /// Marks every cached result stale, the forward pass from stage `from` on (and from an
    /// earlier stage if one is already stale).
    fn stale_from(&mut self, from: Stage) {
        self.from = if self.done >= Done::Forward {
            from
        } else {
            self.from.min(from)
        };
        self.done = Done::Nothing;
        self.batch.backward = None;
    }

    /// Up to `steps` steps, stopping at the first error (the state stays at the last good step).
    pub fn train(&mut self, options: &StepOptions, steps: usize) -> Training {
        // The count is the caller's: reserving it all could overflow or exhaust memory.
        let mut losses = Vec::with_capacity(steps.min(MAX_TRAIN_STEPS));
        let held = self.is_batch() && !self.batch.held_out.is_empty();
        let mut held_out_losses = Vec::with_capacity(if held { losses.capacity() } else { 0 });
        let mut this = options.clone();
        for k in 0..steps {
            this.batch = options.batch.map(|b| b.advanced(k as u64));
            let result = self.step(&this).and_then(|(_, after)| {
                if held {
                    held_out_losses.push(self.held_out_loss()?.unwrap_or(f64::NAN));
                }
                Ok(after)
            });
            match result {
                Ok(after) => losses.push(after),
                Err(e) => {
                    held_out_losses.truncate(losses.len());
                    return Training {
                        losses,
                        held_out_losses,
                        stopped: Some(e),
                    };
                }
            }
        }
        Training {
            losses,
            held_out_losses,
            stopped: None,
        }
    }
}
