//! One update's numbers in one buffer: what the page's panels show after an edit or a step, so the
//! page makes one call (and a worker posts one transferable buffer) instead of one per matrix.
//!
//! Layout of `data`, each matrix row-major and per-head activations head after head, in the
//! schema's order (schema.rs): every activation, then ∂L/∂ every weight, then ∂L/∂ every
//! activation. A part that could not be computed is left out with the rest after it, and its
//! error says why: no forward pass (non-finite numbers), or no loss (no position has a target).

use crate::activations::ActivationRef;
use crate::loss::LossReport;
use crate::mat::Mat;
use crate::schema;
use crate::session::Session;

#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub data: Vec<f64>,
    /// What each position of the shown sentence should predict (loss::targets), known before and
    /// without a loss: the page tells "no position has a target" from a failed loss by it.
    pub targets: Vec<Option<usize>>,
    pub loss: Option<LossReport>,
    pub forward_error: Option<String>,
    pub loss_error: Option<String>,
    pub backward_error: Option<String>,
}

fn push_matrix(out: &mut Vec<f64>, m: &Mat) {
    // nalgebra stores columns: walk rows for the contract's row-major order.
    for r in 0..m.nrows() {
        out.extend(m.row(r).iter());
    }
}

fn push(out: &mut Vec<f64>, a: Option<ActivationRef<'_>>) {
    match a {
        Some(ActivationRef::Matrix(m)) => push_matrix(out, m),
        Some(ActivationRef::Heads(hs)) => hs.iter().for_each(|m| push_matrix(out, m)),
        None => {}
    }
}

impl Session {
    /// Forward, loss and backward of the current state (only what an edit made stale is
    /// recomputed), laid out as the module comment says.
    pub fn snapshot(&mut self) -> Snapshot {
        let entries = schema::of(self.state());
        let state = self.state();
        let mut snap = Snapshot {
            data: Vec::new(),
            targets: crate::loss::targets(&state.ids(), state.eos_id()),
            loss: None,
            forward_error: None,
            loss_error: None,
            backward_error: None,
        };
        match self.forward() {
            Ok(acts) => {
                for e in &entries.activations {
                    push(&mut snap.data, acts.get(e.name));
                }
            }
            Err(e) => {
                let message = e.to_string();
                snap.loss_error = Some(message.clone());
                snap.backward_error = Some(message.clone());
                snap.forward_error = Some(message);
                return snap;
            }
        }
        match self.loss() {
            Ok(report) => snap.loss = Some(report),
            Err(e) => {
                snap.backward_error = Some(e.to_string());
                snap.loss_error = Some(e.to_string());
                return snap;
            }
        }
        match self.backward() {
            Ok(g) => {
                for e in &entries.weights {
                    if let Some(m) = g.weights.get(e.name) {
                        push_matrix(&mut snap.data, m);
                    }
                }
                for e in &entries.activations {
                    push(&mut snap.data, g.activations.get(e.name));
                }
            }
            Err(e) => snap.backward_error = Some(e.to_string()),
        }
        snap
    }
}
