//! An independent numerical check of one gradient entry: a central finite difference of the
//! loss (the batch's, when the state has one), against what back propagation gives.

use crate::activations::{ActivationRef, Activations};
use crate::cell::Cell;
use crate::error::{fail, ModelError};
use crate::model::{self, Probe};
use crate::num::float_text;
use crate::state::State;
use serde::Serialize;

/// One entry of an activation (or of its gradient): [h][i][j] of a head's matrix, else [i][j].
pub(crate) fn activation_entry(a: &Activations, name: &str, h: usize, i: usize, j: usize) -> f64 {
    match a.get(name) {
        Some(ActivationRef::Matrix(m)) => m[(i, j)],
        Some(ActivationRef::Heads(hs)) => hs[h][(i, j)],
        None => 0.0,
    }
}

/// The result of a central finite-difference check of one entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FiniteDifference {
    pub epsilon: f64,
    /// L with the entry raised by ε.
    pub loss_plus: f64,
    /// L with the entry lowered by ε.
    pub loss_minus: f64,
    /// (L₊ − L₋)/(2ε).
    pub numeric: f64,
    /// What back propagation gives.
    pub analytic: f64,
    /// numeric − analytic.
    pub difference: f64,
}

pub const DEFAULT_EPSILON: f64 = 1e-5;

/// The loss the gradients are of: the batch's, when the state has one.
fn probe_loss(state: &State, probe: Option<&Probe>) -> Result<f64, ModelError> {
    if crate::batch::is_batch(state) {
        crate::batch::loss_with_probe(state, probe)
    } else {
        model::loss_with_probe(state, probe)
    }
}

pub(crate) fn finite_difference(
    state: &State,
    cell: &Cell,
    epsilon: Option<f64>,
) -> Result<FiniteDifference, ModelError> {
    let eps = epsilon.unwrap_or(DEFAULT_EPSILON);
    if !eps.is_finite() || eps <= 0.0 || eps > 1.0 {
        fail!(
            "epsilon is {}; it must be greater than 0 and at most 1",
            float_text(eps)
        );
    }
    let (name, h, i, j) = cell.resolve(state)?;
    let grads = crate::backward(state)?;
    let eval = |delta: f64| -> Result<f64, ModelError> {
        if cell.weight {
            let mut shifted = state.clone();
            if let Some(m) = shifted.weights.get_mut(name) {
                m[(i, j)] += delta;
            }
            probe_loss(&shifted, None)
        } else {
            let index = if matches!(name, "scores" | "attention") {
                vec![h, i, j]
            } else {
                vec![i, j]
            };
            probe_loss(state, Some(&Probe { name, index, delta }))
        }
    };
    let loss_plus = eval(eps)?;
    let loss_minus = eval(-eps)?;
    let numeric = (loss_plus - loss_minus) / (2.0 * eps);
    let analytic = if cell.weight {
        grads.weights.get(name).map(|m| m[(i, j)]).unwrap_or(0.0)
    } else {
        activation_entry(&grads.activations, name, h, i, j)
    };
    Ok(FiniteDifference {
        epsilon: eps,
        loss_plus,
        loss_minus,
        numeric,
        analytic,
        difference: numeric - analytic,
    })
}
