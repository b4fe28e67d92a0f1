//! The core of "How LLMs learn": a toy decoder-only transformer — forward pass, target,
//! cross-entropy loss, hand-written back propagation and the SGD/Adam update — in f64.
//!
//! Plain Rust with no browser dependency. The WebAssembly exports in `wasm.rs` are a thin
//! facade over the functions below. Every function validates its input and returns a
//! [`ModelError`] whose message names the field at fault; none of them panics on user data.
//! (Matrix indexing is left to nalgebra's bounds checks: every shape is validated before use.)
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::todo,
    clippy::unimplemented
)]

mod article;
mod attention;
mod derivation;
mod embedding;
mod error;
mod feedforward;
mod json;
mod layernorm;
mod loss;
mod model;
mod optimizer;
mod resize;
mod state;
mod unembedding;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use article::article_example;
pub use derivation::{Cell, Derivation, FiniteDifference, Term};
pub use error::ModelError;
pub use loss::LossReport;
pub use model::{ActivationRef, Activations, Backward, MlpActivations, ACTIVATION_NAMES};
pub use optimizer::{Optimizer, StepOptions, StepResult};
pub use resize::Resize;
pub use state::{
    check_token_name, Activation, Config, FeedForwardWeights, LayerNormWeights, Mat,
    OptimizerState, State, Weights, MAX_CONTEXT, MAX_D_FF, MAX_D_MODEL, MAX_TOKEN_CHARS, MAX_VOCAB,
    WEIGHT_NAMES,
};

/// Every intermediate of the forward pass (`forward(state)` in the contract).
pub fn forward(state: &State) -> Result<Activations, ModelError> {
    Ok(model::forward_checked(state)?.acts)
}

/// The target of every position and the cross-entropy loss (`loss(state)`).
pub fn loss(state: &State) -> Result<LossReport, ModelError> {
    let trace = model::forward_checked(state)?;
    model::loss_of(state, &trace)
}

/// The gradient of the loss with respect to every weight and activation (`backward(state)`).
pub fn backward(state: &State) -> Result<Backward, ModelError> {
    let trace = model::forward_checked(state)?;
    let report = model::loss_of(state, &trace)?;
    model::backward_trace(state, &trace, &report)
}

/// One optimisation step (`step(state, options)`): the state with updated weights (and Adam's
/// moments), and the loss before and after.
pub fn step(state: &State, options: &StepOptions) -> Result<StepResult, ModelError> {
    let grads = backward(state)?;
    let mut next = state.clone();
    match options.optimizer {
        Optimizer::Sgd => optimizer::sgd(&mut next.weights, &grads.weights, options.learning_rate),
        Optimizer::Adam => {
            let mut moments = next.optimizer.take().unwrap_or_else(|| OptimizerState {
                step: 0,
                m: next.weights.zeros_like(),
                v: next.weights.zeros_like(),
            });
            let same_shapes = |w: &Weights| {
                w.params().iter().map(|(n, m)| (*n, m.shape())).eq(next
                    .weights
                    .params()
                    .iter()
                    .map(|(n, m)| (*n, m.shape())))
            };
            if !same_shapes(&moments.m) || !same_shapes(&moments.v) {
                return Err(ModelError::new(
                    "optimizer.m and optimizer.v must have the same weights and shapes as weights",
                ));
            }
            optimizer::adam(&mut next.weights, &grads.weights, &mut moments, options);
            next.optimizer = Some(moments);
        }
    }
    if let Some((name, _)) = next
        .weights
        .params()
        .into_iter()
        .find(|(_, m)| m.iter().any(|x| !x.is_finite()))
    {
        return Err(ModelError::new(format!(
            "the step made weights.{name} non-finite: the learning rate {} is too large; lower it",
            options.learning_rate
        )));
    }
    let after = loss(&next).map_err(|e| {
        ModelError::new(format!(
            "after the step the model no longer gives a finite loss ({e}); the learning rate {} is too large",
            options.learning_rate
        ))
    })?;
    Ok(StepResult {
        state: next,
        loss_before: grads.loss,
        loss_after: after.value,
    })
}

/// The chain-rule sum behind one gradient entry, with the actual numbers.
pub fn derivation(state: &State, cell: &Cell) -> Result<Derivation, ModelError> {
    derivation::derive(state, cell)
}

/// A central finite difference of the loss at one entry: the independent check of a gradient.
pub fn finite_difference(
    state: &State,
    cell: &Cell,
    epsilon: Option<f64>,
) -> Result<FiniteDifference, ModelError> {
    derivation::finite_difference(state, cell, epsilon)
}

/// A state with a new vocabulary and/or configuration, matrices resized to fit.
pub fn resize(state: &State, change: &Resize) -> Result<State, ModelError> {
    resize::resize(state, change)
}

impl serde::Serialize for LossReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("value", &self.value)?;
        map.serialize_entry("count", &self.count)?;
        map.serialize_entry("targets", &self.targets)?;
        map.serialize_entry("terms", &self.terms)?;
        map.end()
    }
}
