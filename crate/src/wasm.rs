//! The WebAssembly API: a thin facade over the core, compiled only for wasm32.
//!
//! Every export reads its JS arguments with `convert` (bounded: no input can exhaust the stack or
//! the memory, or run for long, before the core's parser sees it), lets the core's own parser
//! validate them, calls the core, and returns plain JS objects (maps become objects, `None`
//! becomes `null`). A `ModelError` becomes a thrown JS `Error` with the core's message.
//!
//! Arguments are taken as `JsValue` even where a number or a string is meant: wasm-bindgen's own
//! conversions coerce (`"2"` becomes 2, 2^32 becomes 0, an object's `valueOf` runs) and copy a
//! string of any length into wasm memory before the core could refuse it.

mod convert;
mod snapshot;
// The exports the first screen does not need (derivations, forward explanations, finite
// differences, the Python exports, training on a corpus and generation) compile only with the
// `extras` feature: the page starts with the module built without it (how_llms_learn_lean) and
// fetches the full one (how_llms_learn) on first use. See wasm-pack.toml.
#[cfg(feature = "extras")]
mod corpus;
#[cfg(feature = "extras")]
mod extras;
#[cfg(feature = "extras")]
pub use extras::*;

use std::cell::{RefCell, RefMut};

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::{ActivationRef, Mat, ModelError, Resize, Session, State, StepOptions};
use js_sys::Float64Array;

/// Runs once when the module is instantiated: panics (which would be bugs) reach the console.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn state(value: &JsValue) -> Result<State, JsError> {
    State::from_json(&convert::state(value)?).map_err(error)
}

fn options(value: &JsValue) -> Result<StepOptions, JsError> {
    StepOptions::from_json(&convert::options(value)?).map_err(error)
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

/// `schema(state)`: every weight and activation of the state's model with its shape, whether it
/// is a vector or one matrix per head, and the layer that owns it, so a page lists no name and
/// computes no shape itself.
#[wasm_bindgen(js_name = schema)]
pub fn schema(state_in: JsValue) -> Result<JsValue, JsError> {
    js(Ok(crate::schema(&state(&state_in)?)))
}

/// `forward(state)`: every intermediate of the forward pass.
#[wasm_bindgen(js_name = forward)]
pub fn forward(state_in: JsValue) -> Result<JsValue, JsError> {
    js(crate::forward(&state(&state_in)?))
}

/// `loss(state)`: targets, per-position terms and the mean loss.
#[wasm_bindgen(js_name = loss)]
pub fn loss(state_in: JsValue) -> Result<JsValue, JsError> {
    js(crate::loss(&state(&state_in)?))
}

/// `backward(state)`: the gradient of the loss for every weight and activation.
#[wasm_bindgen(js_name = backward)]
pub fn backward(state_in: JsValue) -> Result<JsValue, JsError> {
    js(crate::backward(&state(&state_in)?))
}

/// `step(state, options)`: one SGD or Adam update, with the loss before and after.
#[wasm_bindgen(js_name = step)]
pub fn step(state_in: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let options = self::options(&options)?;
    js(crate::step(&state(&state_in)?, &options))
}

/// `resize(state, change)`: the state with a new vocabulary and/or configuration.
#[wasm_bindgen(js_name = resize)]
pub fn resize(state_in: JsValue, change: JsValue) -> Result<JsValue, JsError> {
    let change = Resize::from_json(&convert::change(&change)?).map_err(error)?;
    js(crate::resize(&state(&state_in)?, &change))
}

/// `validate(state)`: the state as the core reads it (defaults filled in); throws like the others.
#[wasm_bindgen(js_name = validate)]
pub fn validate(state_in: JsValue) -> Result<JsValue, JsError> {
    js(Ok(state(&state_in)?))
}

/// `new Model(state)`: a model kept in wasm memory between calls, for pages that edit and train.
/// An edit changes one number in place instead of re-sending the whole state, and training runs
/// many steps per call reusing every buffer. Its results are the contract functions' numbers.
///
/// Every method takes `&self` and borrows the session only after its arguments are read: reading
/// them can run the caller's code (a getter, a Proxy), which may call this same model again, and
/// a `&mut self` method would then be refused by wasm-bindgen in a way that leaves the model
/// unusable. Here the nested call simply works, or is told the model is busy.
#[wasm_bindgen]
pub struct Model {
    session: RefCell<Session>,
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

impl Model {
    fn session(&self) -> Result<RefMut<'_, Session>, JsError> {
        self.session.try_borrow_mut().map_err(|_| {
            JsError::new("the model is busy with another call on it (made from inside this one)")
        })
    }
}

#[wasm_bindgen]
impl Model {
    #[wasm_bindgen(constructor)]
    pub fn new(state_in: JsValue) -> Result<Model, JsError> {
        let session = Session::new(state(&state_in)?).map_err(error)?;
        Ok(Model {
            session: RefCell::new(session),
        })
    }

    /// `setState(state)`: replaces the whole state (validated like every other call).
    #[wasm_bindgen(js_name = setState)]
    pub fn set_state(&self, state_in: JsValue) -> Result<(), JsError> {
        set_state(self, &state_in)
    }

    /// `getState()`: the current state in the contract's schema.
    #[wasm_bindgen(js_name = getState)]
    pub fn get_state(&self) -> Result<JsValue, JsError> {
        js(Ok(self.session()?.state()))
    }

    /// `setWeight(name, row, col, value)`; vectors use row 0.
    #[wasm_bindgen(js_name = setWeight)]
    pub fn set_weight(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] row: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] col: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] value: JsValue,
    ) -> Result<(), JsError> {
        let name = convert::name(&name, "the weight's name")?;
        let row = index(&row, "row")?;
        let col = index(&col, "col")?;
        let value = convert::number(&value, "the value")?;
        self.session()?
            .set_weight_at(&name, row, col, value)
            .map_err(error)
    }

    /// `schema()`: `schema(state)` for the model's current state.
    pub fn schema(&self) -> Result<JsValue, JsError> {
        js(Ok(crate::schema(self.session()?.state())))
    }

    pub fn forward(&self) -> Result<JsValue, JsError> {
        js(self.session()?.forward())
    }

    pub fn loss(&self) -> Result<JsValue, JsError> {
        js(self.session()?.loss())
    }

    pub fn backward(&self) -> Result<JsValue, JsError> {
        js(self.session()?.backward())
    }

    /// `run()`: brings forward, loss and backward up to date (only what an edit made stale) and
    /// returns L. The cheapest way to time or pre-compute a model without copying results out.
    pub fn run(&self) -> Result<f64, JsError> {
        Ok(self.session()?.backward().map_err(error)?.loss)
    }

    /// `lossValue()`: just L, as a number.
    #[wasm_bindgen(js_name = lossValue)]
    pub fn loss_value(&self) -> Result<f64, JsError> {
        self.session()?.loss_value().map_err(error)
    }

    /// `step(options)` in place: `{ lossBefore, lossAfter }`, and `batch` (the indices trained on)
    /// when the state has a training batch. On an error the state is unchanged.
    pub fn step(&self, options: JsValue) -> Result<JsValue, JsError> {
        let options = self::options(&options)?;
        let mut session = self.session()?;
        let (before, after) = session.step(&options).map_err(error)?;
        let mut out = serde_json::json!({ "lossBefore": before, "lossAfter": after });
        if session.is_batch() || (crate::state::BATCHES && options.batch.is_some()) {
            out["batch"] = serde_json::json!(session.last_batch());
        }
        js(Ok(out))
    }

    /// `train(options, steps)`: up to `steps` steps (at most `MAX_TRAIN_STEPS` per call);
    /// `{ losses: Float64Array, heldOutLosses: Float64Array, stopped: string | null }` where
    /// `stopped` says why training ended early (the state is then the last good one) and
    /// `heldOutLosses` is empty without a held-out set.
    pub fn train(
        &self,
        options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] steps: JsValue,
    ) -> Result<JsValue, JsError> {
        let options = self::options(&options)?;
        let steps = crate::train_steps(convert::number(&steps, "steps")?).map_err(error)?;
        let run = self.session()?.train(&options, steps);
        let out = js_sys::Object::new();
        let stopped = run
            .stopped
            .map_or(JsValue::NULL, |e| JsValue::from_str(e.message()));
        js_sys::Reflect::set(&out, &"losses".into(), &Float64Array::from(&run.losses[..]))
            .and_then(|_| {
                let held = Float64Array::from(&run.held_out_losses[..]);
                js_sys::Reflect::set(&out, &"heldOutLosses".into(), &held)
            })
            .and_then(|_| js_sys::Reflect::set(&out, &"stopped".into(), &stopped))
            .map_err(|_| JsError::new("could not return the training result"))?;
        Ok(out.into())
    }

    /// `weight(name)`: one weight's values, row-major.
    pub fn weight(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<Float64Array, JsError> {
        let name = convert::name(&name, "the weight's name")?;
        self.session()?
            .state()
            .weights
            .get(&name)
            .map(flat)
            .ok_or_else(|| JsError::new(&format!("weights.{name} does not exist in this model")))
    }

    /// `weightGradient(name)`: ∂L/∂(that weight), row-major.
    #[wasm_bindgen(js_name = weightGradient)]
    pub fn weight_gradient(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<Float64Array, JsError> {
        let name = convert::name(&name, "the weight's name")?;
        let mut session = self.session()?;
        let g = session.backward().map_err(error)?;
        g.weights
            .get(&name)
            .map(flat)
            .ok_or_else(|| JsError::new(&format!("weights.{name} does not exist in this model")))
    }

    /// `activation(name)`: one activation, row-major (scores and attention: head after head).
    pub fn activation(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<Float64Array, JsError> {
        let name = convert::name(&name, "the activation's name")?;
        let mut session = self.session()?;
        let acts = session.forward().map_err(error)?;
        activation_flat(acts.get(&name), &name)
    }

    /// `activationGradient(name)`: ∂L/∂(that activation), laid out like `activation(name)`.
    #[wasm_bindgen(js_name = activationGradient)]
    pub fn activation_gradient(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<Float64Array, JsError> {
        let name = convert::name(&name, "the activation's name")?;
        let mut session = self.session()?;
        let g = session.backward().map_err(error)?;
        activation_flat(g.activations.get(&name), &name)
    }
}

/// A row or column argument: a whole number that fits the core's indices (range is checked there).
fn index(value: &JsValue, what: &'static str) -> Result<usize, JsError> {
    let x = convert::number(value, what)?;
    if x.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&x) {
        return Err(JsError::new(&format!(
            "{what} must be a whole number from 0 to {}, found {}",
            u32::MAX,
            crate::float_text(x)
        )));
    }
    Ok(x as usize)
}

/// `Model.setState`'s body, out of line: a call on a freed `Model` is refused by wasm-bindgen's
/// shim with a JS exception thrown through it, which never gives back the shim's stack frame.
/// Inlined, the state read here made that frame 3.5 KB (with the core built for size), and the
/// fuzz test's freed models used up the 1 MiB stack within 50,000 calls; out of line it is a few
/// bytes, as in the build at opt-level 3.
#[inline(never)]
fn set_state(model: &Model, state_in: &JsValue) -> Result<(), JsError> {
    let next = state(state_in)?;
    model.session()?.set_state(next).map_err(error)
}
