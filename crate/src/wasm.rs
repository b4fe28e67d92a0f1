//! The WebAssembly API: a thin facade over the core, compiled only for wasm32.
//!
//! Every export takes plain JS objects, turns them into `serde_json::Value`, lets the core's own
//! parser validate them, calls the core, and returns plain JS objects (maps become objects,
//! `None` becomes `null`). A `ModelError` becomes a thrown JS `Error` with the core's message.

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::{ActivationRef, Cell, Framework, Mat, ModelError, Resize, Session, State, StepOptions};
use js_sys::Float64Array;

/// Runs once when the module is instantiated: panics (which would be bugs) reach the console.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn json(value: JsValue, what: &str) -> Result<Value, JsError> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| JsError::new(&format!("{what}: not a plain JSON value ({e})")))
}

fn state(value: JsValue) -> Result<State, JsError> {
    State::from_json(&json(value, "state")?).map_err(error)
}

fn error(e: ModelError) -> JsError {
    JsError::new(&e.to_string())
}

fn js<T: Serialize>(result: Result<T, ModelError>) -> Result<JsValue, JsError> {
    let value = result.map_err(error)?;
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("could not return the result: {e}")))
}

/// `articleExample()`: the article's default state.
#[wasm_bindgen(js_name = articleExample)]
pub fn article_example() -> Result<JsValue, JsError> {
    js(Ok(crate::article_example()))
}

/// `forward(state)`: every intermediate of the forward pass.
#[wasm_bindgen(js_name = forward)]
pub fn forward(state_in: JsValue) -> Result<JsValue, JsError> {
    js(crate::forward(&state(state_in)?))
}

/// `loss(state)`: targets, per-position terms and the mean loss.
#[wasm_bindgen(js_name = loss)]
pub fn loss(state_in: JsValue) -> Result<JsValue, JsError> {
    js(crate::loss(&state(state_in)?))
}

/// `backward(state)`: the gradient of the loss for every weight and activation.
#[wasm_bindgen(js_name = backward)]
pub fn backward(state_in: JsValue) -> Result<JsValue, JsError> {
    js(crate::backward(&state(state_in)?))
}

/// `step(state, options)`: one SGD or Adam update, with the loss before and after.
#[wasm_bindgen(js_name = step)]
pub fn step(state_in: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let options = StepOptions::from_json(&json(options, "options")?).map_err(error)?;
    js(crate::step(&state(state_in)?, &options))
}

/// `derivation(state, cell)`: the chain-rule sum behind one gradient entry.
#[wasm_bindgen(js_name = derivation)]
pub fn derivation(state_in: JsValue, cell: JsValue) -> Result<JsValue, JsError> {
    let cell = Cell::from_json(&json(cell, "cell")?).map_err(error)?;
    js(crate::derivation(&state(state_in)?, &cell))
}

/// `finiteDifference(state, cell, epsilon?)`: a numerical check of one gradient entry.
#[wasm_bindgen(js_name = finiteDifference)]
pub fn finite_difference(
    state_in: JsValue,
    cell: JsValue,
    epsilon: Option<f64>,
) -> Result<JsValue, JsError> {
    let cell = Cell::from_json(&json(cell, "cell")?).map_err(error)?;
    js(crate::finite_difference(&state(state_in)?, &cell, epsilon))
}

/// `resize(state, change)`: the state with a new vocabulary and/or configuration.
#[wasm_bindgen(js_name = resize)]
pub fn resize(state_in: JsValue, change: JsValue) -> Result<JsValue, JsError> {
    let change = Resize::from_json(&json(change, "change")?).map_err(error)?;
    js(crate::resize(&state(state_in)?, &change))
}

fn export(state_in: JsValue, options: JsValue, framework: Framework) -> Result<String, JsError> {
    let options = StepOptions::from_json(&json(options, "options")?).map_err(error)?;
    crate::export_python(&state(state_in)?, &options, framework).map_err(error)
}

/// `exportJax(state, options)`: a Python file that redoes this state's step in JAX and checks
/// every number against the core's; `options` as for `step`.
#[wasm_bindgen(js_name = exportJax)]
pub fn export_jax(state_in: JsValue, options: JsValue) -> Result<String, JsError> {
    export(state_in, options, Framework::Jax)
}

/// `exportPytorch(state, options)`: the same file for PyTorch.
#[wasm_bindgen(js_name = exportPytorch)]
pub fn export_pytorch(state_in: JsValue, options: JsValue) -> Result<String, JsError> {
    export(state_in, options, Framework::Pytorch)
}

/// `validate(state)`: the state as the core reads it (defaults filled in); throws like the others.
#[wasm_bindgen(js_name = validate)]
pub fn validate(state_in: JsValue) -> Result<JsValue, JsError> {
    js(Ok(state(state_in)?))
}

/// `new Model(state)`: a model kept in wasm memory between calls, for pages that edit and train.
/// An edit changes one number in place instead of re-sending the whole state, and training runs
/// many steps per call reusing every buffer. Its results are the contract functions' numbers.
#[wasm_bindgen]
pub struct Model {
    session: Session,
}

/// A matrix as a flat row-major `Float64Array` (nalgebra stores columns).
fn flat(m: &Mat) -> Float64Array {
    Float64Array::from(m.transpose().as_slice())
}

fn heads_flat(hs: &[Mat]) -> Float64Array {
    let values: Vec<f64> = hs
        .iter()
        .flat_map(|m| m.transpose().as_slice().to_vec())
        .collect();
    Float64Array::from(&values[..])
}

fn activation_flat(a: Option<ActivationRef<'_>>, name: &str) -> Result<Float64Array, JsError> {
    match a {
        Some(ActivationRef::Matrix(m)) => Ok(flat(m)),
        Some(ActivationRef::Heads(hs)) => Ok(heads_flat(hs)),
        None => Err(JsError::new(&format!(
            "{name} is not an activation of this model"
        ))),
    }
}

#[wasm_bindgen]
impl Model {
    #[wasm_bindgen(constructor)]
    pub fn new(state_in: JsValue) -> Result<Model, JsError> {
        Ok(Model {
            session: Session::new(state(state_in)?).map_err(error)?,
        })
    }

    /// `setState(state)`: replaces the whole state (validated like every other call).
    #[wasm_bindgen(js_name = setState)]
    pub fn set_state(&mut self, state_in: JsValue) -> Result<(), JsError> {
        self.session.set_state(state(state_in)?).map_err(error)
    }

    /// `getState()`: the current state in the contract's schema.
    #[wasm_bindgen(js_name = getState)]
    pub fn get_state(&self) -> Result<JsValue, JsError> {
        js(Ok(self.session.state()))
    }

    /// `setWeight(name, row, col, value)`; vectors use row 0.
    #[wasm_bindgen(js_name = setWeight)]
    pub fn set_weight(
        &mut self,
        name: &str,
        row: usize,
        col: usize,
        value: f64,
    ) -> Result<(), JsError> {
        self.session
            .set_weight_at(name, row, col, value)
            .map_err(error)
    }

    pub fn forward(&mut self) -> Result<JsValue, JsError> {
        js(self.session.forward())
    }

    pub fn loss(&mut self) -> Result<JsValue, JsError> {
        js(self.session.loss())
    }

    pub fn backward(&mut self) -> Result<JsValue, JsError> {
        js(self.session.backward())
    }

    /// `run()`: brings forward, loss and backward up to date (only what an edit made stale) and
    /// returns L. The cheapest way to time or pre-compute a model without copying results out.
    pub fn run(&mut self) -> Result<f64, JsError> {
        Ok(self.session.backward().map_err(error)?.loss)
    }

    /// `lossValue()`: just L, as a number.
    #[wasm_bindgen(js_name = lossValue)]
    pub fn loss_value(&mut self) -> Result<f64, JsError> {
        self.session.loss_value().map_err(error)
    }

    /// `step(options)` in place: `{ lossBefore, lossAfter }`. On an error the state is unchanged.
    pub fn step(&mut self, options: JsValue) -> Result<JsValue, JsError> {
        let options = StepOptions::from_json(&json(options, "options")?).map_err(error)?;
        let (before, after) = self.session.step(&options).map_err(error)?;
        js(Ok(
            serde_json::json!({ "lossBefore": before, "lossAfter": after }),
        ))
    }

    /// `train(options, steps)`: up to `steps` steps; `{ losses: Float64Array, stopped: string | null }`
    /// where `stopped` says why training ended early (the state is then the last good one).
    pub fn train(&mut self, options: JsValue, steps: usize) -> Result<JsValue, JsError> {
        let options = StepOptions::from_json(&json(options, "options")?).map_err(error)?;
        let run = self.session.train(&options, steps);
        let out = js_sys::Object::new();
        let stopped = run
            .stopped
            .map_or(JsValue::NULL, |e| JsValue::from_str(e.message()));
        js_sys::Reflect::set(&out, &"losses".into(), &Float64Array::from(&run.losses[..]))
            .and_then(|_| js_sys::Reflect::set(&out, &"stopped".into(), &stopped))
            .map_err(|_| JsError::new("could not return the training result"))?;
        Ok(out.into())
    }

    /// `weight(name)`: one weight's values, row-major.
    pub fn weight(&self, name: &str) -> Result<Float64Array, JsError> {
        self.session
            .state()
            .weights
            .get(name)
            .map(flat)
            .ok_or_else(|| JsError::new(&format!("weights.{name} does not exist in this model")))
    }

    /// `weightGradient(name)`: ∂L/∂(that weight), row-major.
    #[wasm_bindgen(js_name = weightGradient)]
    pub fn weight_gradient(&mut self, name: &str) -> Result<Float64Array, JsError> {
        let g = self.session.backward().map_err(error)?;
        g.weights
            .get(name)
            .map(flat)
            .ok_or_else(|| JsError::new(&format!("weights.{name} does not exist in this model")))
    }

    /// `activation(name)`: one activation, row-major (scores and attention: head after head).
    pub fn activation(&mut self, name: &str) -> Result<Float64Array, JsError> {
        let acts = self.session.forward().map_err(error)?;
        activation_flat(acts.get(name), name)
    }

    /// `activationGradient(name)`: ∂L/∂(that activation), laid out like `activation(name)`.
    #[wasm_bindgen(js_name = activationGradient)]
    pub fn activation_gradient(&mut self, name: &str) -> Result<Float64Array, JsError> {
        let g = self.session.backward().map_err(error)?;
        activation_flat(g.activations.get(name), name)
    }
}
