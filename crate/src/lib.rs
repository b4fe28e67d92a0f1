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

mod activations;
mod article;
mod attention;
mod batch;
mod batch_explain;
mod cell;
mod chars;
mod config;
mod corpus;
mod derivation;
mod embedding;
mod error;
mod explain;
mod feedforward;
mod finite_difference;
mod forward_explain;
mod generate;
mod json;
mod layernorm;
mod loss;
mod model;
mod names;
mod num;
mod optimizer;
mod pyexport;
mod residual;
mod resize;
mod rng;
mod schema;
mod session;
mod session_batch;
mod snapshot;
mod state;
mod unembedding;
mod weights;

use how_llms_learn_kernels::{lanes, mat, matmul, softmax};

// The unit tests' wasm build runs in the browser (npm test's browser stage, wasm-pack test in
// crate/); without this line wasm-pack would skip them as Node-only.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use activations::{ActivationRef, Activations, MlpActivations, ACTIVATION_NAMES};
pub use article::article_example;
pub use cell::Cell;
pub use config::{Activation, Config, MAX_CONTEXT, MAX_D_FF, MAX_D_MODEL};
pub use corpus::{
    corpus_state, initial_weights, preset_corpus, tokenize, CorpusOptions, Tokenized, EOS,
    MAX_CORPUS_CHARS, MAX_CORPUS_VOCAB, MAX_SENTENCE_TOKENS,
};
pub use derivation::Derivation;
pub use error::ModelError;
pub use explain::{Factor, Idx, Kind, Ref, Term};
pub use finite_difference::FiniteDifference;
pub use forward_explain::ForwardExplanation;
pub use generate::{generate, GenerateOptions, GenerateStep, Generated};
pub use loss::LossReport;
pub use mat::Mat;
pub use model::Backward;
pub use names::{check_token_name, token_name, MAX_TOKEN_CHARS, MAX_VOCAB};
pub use num::float_text;
pub use optimizer::{BatchDraw, Optimizer, StepOptions, StepResult};
pub use pyexport::Framework;
pub use resize::Resize;
pub use schema::{Entry as SchemaEntry, Schema};
pub use session::{train_steps, Session, Training, MAX_TRAIN_STEPS};
pub use snapshot::Snapshot;
pub use state::{OptimizerState, State, MAX_BATCH_TOKENS, MAX_HELD_OUT, MAX_SEQUENCES};
pub use weights::{FeedForwardWeights, LayerNormWeights, Weights, WEIGHT_NAMES};

/// Every weight and activation this state's model has, with shapes and owners (the registry
/// applied to the state; `schema(state)` in the contract).
pub fn schema(state: &State) -> Schema {
    schema::of(state)
}

/// How one forward entry (an activation cell) is computed from the numbers before it
/// (`forwardExplanation(state, cell)` in the contract).
pub fn forward_explanation(state: &State, cell: &Cell) -> Result<ForwardExplanation, ModelError> {
    forward_explain::explain(state, cell)
}

/// Every intermediate of the forward pass (`forward(state)` in the contract).
pub fn forward(state: &State) -> Result<Activations, ModelError> {
    Ok(model::forward_checked(state)?.acts)
}

/// The target of every position and the cross-entropy loss (`loss(state)`).
pub fn loss(state: &State) -> Result<LossReport, ModelError> {
    if batch::is_batch(state) {
        state.check_shapes()?;
        return batch::loss_report(state);
    }
    let mut ws = model::forward_checked(state)?;
    model::loss_into(&mut ws)?;
    Ok(ws.report())
}

/// The gradient of the loss with respect to every weight and activation (`backward(state)`).
pub fn backward(state: &State) -> Result<Backward, ModelError> {
    if batch::is_batch(state) {
        state.check_shapes()?;
        return batch::backward(state);
    }
    Ok(model::backward_checked(state)?.grad)
}

/// One optimisation step (`step(state, options)`): the state with updated weights (and Adam's
/// moments), the change applied to each weight, and the loss before and after.
pub fn step(state: &State, options: &StepOptions) -> Result<StepResult, ModelError> {
    if batch::batch_step(state, options) {
        return batch::step(state, options);
    }
    let mut ws = model::backward_checked(state)?;
    let loss_before = ws.grad.loss;
    let mut next = state.clone();
    optimizer::apply(
        &mut next.weights,
        &mut next.optimizer,
        &ws.grad.weights,
        options,
    )?;
    let loss_after = optimizer::loss_after(&mut ws, &next.weights, &next.config, options)?;
    let mut update = next.weights.clone();
    for ((_, u), (_, w)) in update.params_mut().zip(state.weights.params()) {
        *u -= w;
    }
    Ok(StepResult {
        state: next,
        update,
        loss_before,
        loss_after,
        batch: None,
    })
}

/// The chain-rule sum behind one gradient entry, with the actual numbers.
pub fn derivation(state: &State, cell: &Cell) -> Result<Derivation, ModelError> {
    if batch::is_batch(state) {
        return batch_explain::derive(state, cell);
    }
    derivation::derive(state, cell)
}

/// A central finite difference of the loss at one entry: the independent check of a gradient.
pub fn finite_difference(
    state: &State,
    cell: &Cell,
    epsilon: Option<f64>,
) -> Result<FiniteDifference, ModelError> {
    finite_difference::finite_difference(state, cell, epsilon)
}

/// One self-contained Python file (JAX or PyTorch) that rebuilds `state`, takes the same step
/// with the framework's own autodiff and optimiser, and checks every number against the core's.
pub fn export_python(
    state: &State,
    options: &StepOptions,
    framework: Framework,
) -> Result<String, ModelError> {
    pyexport::export_python(state, options, framework)
}

/// A state with a new vocabulary and/or configuration, matrices resized to fit.
pub fn resize(state: &State, change: &Resize) -> Result<State, ModelError> {
    resize::resize(state, change)
}
