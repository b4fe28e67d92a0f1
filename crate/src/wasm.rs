//! The WebAssembly API: a thin facade over the core, compiled only for wasm32.
//!
//! Every export takes plain JS objects, turns them into `serde_json::Value`, lets the core's own
//! parser validate them, calls the core, and returns plain JS objects (maps become objects,
//! `None` becomes `null`). A `ModelError` becomes a thrown JS `Error` with the core's message.

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::{Cell, ModelError, Resize, State, StepOptions};

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

/// `validate(state)`: the state as the core reads it (defaults filled in); throws like the others.
#[wasm_bindgen(js_name = validate)]
pub fn validate(state_in: JsValue) -> Result<JsValue, JsError> {
    js(Ok(state(state_in)?))
}
