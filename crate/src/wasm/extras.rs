//! The exports only the full module has (the `extras` feature): what the page fetches on first
//! use rather than at load. Arguments are read as in the rest of the facade.

use wasm_bindgen::prelude::*;

use super::{convert, error, js, options, state};
use crate::{Cell, Framework};

fn cell(value: &JsValue) -> Result<Cell, JsError> {
    Cell::from_json(&convert::cell(value)?).map_err(error)
}

/// `derivation(state, cell)`: the chain-rule sum behind one gradient entry.
#[wasm_bindgen(js_name = derivation)]
pub fn derivation(state_in: JsValue, cell: JsValue) -> Result<JsValue, JsError> {
    let cell = self::cell(&cell)?;
    js(crate::derivation(&state(&state_in)?, &cell))
}

/// `forwardExplanation(state, cell)`: how one activation entry is computed from the numbers
/// before it, as a sum of products with the actual numbers.
#[wasm_bindgen(js_name = forwardExplanation)]
pub fn forward_explanation(state_in: JsValue, cell_in: JsValue) -> Result<JsValue, JsError> {
    let state = state(&state_in)?;
    js(crate::forward_explanation(&state, &cell(&cell_in)?))
}

/// `finiteDifference(state, cell, epsilon?)`: a numerical check of one gradient entry.
#[wasm_bindgen(js_name = finiteDifference)]
pub fn finite_difference(
    state_in: JsValue,
    cell: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "number")] epsilon: JsValue,
) -> Result<JsValue, JsError> {
    let cell = self::cell(&cell)?;
    let epsilon = if epsilon.is_null() || epsilon.is_undefined() {
        None
    } else {
        Some(convert::number(&epsilon, "epsilon")?)
    };
    js(crate::finite_difference(&state(&state_in)?, &cell, epsilon))
}

fn export(state_in: JsValue, options: JsValue, framework: Framework) -> Result<String, JsError> {
    let options = self::options(&options)?;
    crate::export_python(&state(&state_in)?, &options, framework).map_err(error)
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
