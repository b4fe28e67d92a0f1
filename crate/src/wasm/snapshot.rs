//! `Model.snapshot()`: the core's `Session::snapshot` (snapshot.rs) as one `Float64Array` and
//! the loss report, for the page's panels.

use js_sys::{Float64Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::{js, Model};

fn text(value: Option<String>) -> JsValue {
    value.map_or(JsValue::NULL, |s| JsValue::from_str(&s))
}

#[wasm_bindgen]
impl Model {
    /// `snapshot()`: `{ data: Float64Array, targets, loss, forwardError, lossError,
    /// backwardError }` —
    /// every activation, ∂L/∂ every weight and ∂L/∂ every activation in one buffer, in the
    /// order of `schema()` (see docs/API.md); `loss` as `loss()` returns it, or null.
    pub fn snapshot(&self) -> Result<JsValue, JsError> {
        let snap = self.session()?.snapshot();
        let loss = match snap.loss {
            Some(report) => js(Ok(report))?,
            None => JsValue::NULL,
        };
        let out = Object::new();
        let fields = [
            ("data", Float64Array::from(&snap.data[..]).into()),
            ("targets", js(Ok(&snap.targets))?),
            ("loss", loss),
            ("forwardError", text(snap.forward_error)),
            ("lossError", text(snap.loss_error)),
            ("backwardError", text(snap.backward_error)),
        ];
        for (key, value) in fields {
            Reflect::set(&out, &JsValue::from_str(key), &value)
                .map_err(|_| JsError::new("could not return the snapshot"))?;
        }
        Ok(out.into())
    }
}
