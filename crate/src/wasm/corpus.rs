//! The corpus exports: turning a reader's text into a training batch and a model, and letting the
//! model write. Each reads its arguments with `convert`'s bounded reader like every other export.

use super::{convert, error, js, state, Model};
use crate::{CorpusOptions, GenerateOptions};
use serde_json::Value;
use wasm_bindgen::prelude::*;

fn corpus_options(value: &JsValue) -> Result<CorpusOptions, JsError> {
    CorpusOptions::from_json(&convert::corpus_options(value)?).map_err(error)
}

fn generate_options(value: &JsValue) -> Result<GenerateOptions, JsError> {
    GenerateOptions::from_json(&convert::generate_options(value)?).map_err(error)
}

/// The prompt's token names; each is checked against the vocabulary by `generate`.
fn prompt(value: &JsValue) -> Result<Vec<String>, JsError> {
    match convert::prompt(value)? {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(JsError::new(&format!(
                    "prompt[{i}] must be a token name (a text)"
                ))),
            })
            .collect(),
        _ => Err(JsError::new(
            "the prompt must be an array of token names, such as [\"ai\"]",
        )),
    }
}

/// `presetCorpus()`: `{ text, heldOut }`, the preset corpus the page and the bench share.
#[wasm_bindgen(js_name = presetCorpus)]
pub fn preset_corpus() -> Result<JsValue, JsError> {
    js(Ok(crate::preset_corpus()))
}

/// `tokenize(text, options)`: `{ vocab, eos, sequences, heldOut }` by the corpus rules.
#[wasm_bindgen(js_name = tokenize)]
pub fn tokenize(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "{ heldOut?: string, seed?: number }")]
    options: JsValue,
) -> Result<JsValue, JsError> {
    let text = convert::corpus_text(&text, "the text")?;
    js(crate::tokenize(&text, &corpus_options(&options)?))
}

/// `corpusState(text, options)`: a complete state that trains on the text.
#[wasm_bindgen(js_name = corpusState)]
pub fn corpus_state(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "{ heldOut?: string, seed?: number }")]
    options: JsValue,
) -> Result<JsValue, JsError> {
    let text = convert::corpus_text(&text, "the text")?;
    js(crate::corpus_state(&text, &corpus_options(&options)?))
}

/// `generate(state, prompt, options)`: the model writes after the prompt (forward pass only).
#[wasm_bindgen(js_name = generate)]
pub fn generate(
    state_in: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] prompt_in: JsValue,
    #[wasm_bindgen(
        unchecked_optional_param_type = "{ maxTokens?: number, temperature?: number, seed?: number }"
    )]
    options: JsValue,
) -> Result<JsValue, JsError> {
    let prompt = prompt(&prompt_in)?;
    let options = generate_options(&options)?;
    js(crate::generate(&state(&state_in)?, &prompt, &options))
}

#[wasm_bindgen]
impl Model {
    /// `heldOutLoss()`: the held-out set's loss now, or null without one.
    #[wasm_bindgen(js_name = heldOutLoss)]
    pub fn held_out_loss(&self) -> Result<Option<f64>, JsError> {
        self.session()?.held_out_loss().map_err(error)
    }

    /// `generate(prompt, options)`: `generate(state, prompt, options)` on the current state.
    #[wasm_bindgen(js_name = generate)]
    pub fn generate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string[]")] prompt_in: JsValue,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ maxTokens?: number, temperature?: number, seed?: number }"
        )]
        options: JsValue,
    ) -> Result<JsValue, JsError> {
        let prompt = prompt(&prompt_in)?;
        let options = generate_options(&options)?;
        js(crate::generate(self.session()?.state(), &prompt, &options))
    }
}
