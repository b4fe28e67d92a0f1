//! The readers of the corpus exports' arguments (wasm/corpus.rs): the same bounded reader, with
//! the longer text limit a corpus needs.
// The readers of the corpus exports' own arguments exist only in the full module (`extras`).
#![cfg_attr(not(feature = "extras"), allow(dead_code))]

use super::{kind, Field, Reader, Text};
use crate::config::MAX_CONTEXT;
use crate::state::{MAX_BATCH_TOKENS, MAX_HELD_OUT, MAX_SEQUENCES};
use crate::MAX_CORPUS_CHARS;
use js_sys::JsString;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The values of a state's `sequences` and `heldOut` at their largest: every token and list.
pub(super) const MAX_BATCH_VALUES: usize =
    MAX_BATCH_TOKENS + MAX_SEQUENCES + 1 + MAX_HELD_OUT * (MAX_CONTEXT + 1) + 1;

/// The longest corpus text read, in UTF-16 units: 4,096 characters, each at most two units.
pub(super) const MAX_CORPUS_UNITS: usize = 2 * MAX_CORPUS_CHARS;

/// Refuses a corpus text longer than [`MAX_CORPUS_UNITS`] before it is copied.
pub(super) fn check_length(r: &Reader, units: usize, kind: Text) -> Result<(), JsError> {
    if kind == Text::Corpus && units > MAX_CORPUS_UNITS {
        return Err(r.refuse(format!(
            "has {units} UTF-16 units, more than {MAX_CORPUS_CHARS} characters can take; a text \
             may have at most {MAX_CORPUS_CHARS} characters"
        )));
    }
    Ok(())
}

const CORPUS_OPTIONS: &[(&str, Field)] = &[("heldOut", Field::Corpus), ("seed", Field::Scalar)];

const GENERATE_OPTIONS: &[(&str, Field)] = &[
    ("maxTokens", Field::Scalar),
    ("temperature", Field::Scalar),
    ("seed", Field::Scalar),
];

/// `tokenize`'s and `corpusState`'s options `{ heldOut?, seed? }` (undefined: none).
pub(crate) fn corpus_options(value: &JsValue) -> Result<Value, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Value::Null);
    }
    Reader::new("", "the options").named(value, CORPUS_OPTIONS)
}

/// `generate`'s options `{ maxTokens?, temperature?, seed? }` (undefined: the defaults).
pub(crate) fn generate_options(value: &JsValue) -> Result<Value, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Value::Null);
    }
    Reader::new("", "the options").named(value, GENERATE_OPTIONS)
}

/// A corpus text argument, measured before it is copied.
pub(crate) fn corpus_text(value: &JsValue, what: &'static str) -> Result<String, JsError> {
    let reader = Reader::new("", what);
    match value.dyn_ref::<JsString>() {
        Some(s) => reader.text(s, Text::Corpus),
        None => Err(reader.refuse(format!("must be a text, found {}", kind(value)))),
    }
}

/// A prompt: an array of token names.
pub(crate) fn prompt(value: &JsValue) -> Result<Value, JsError> {
    Reader::new("prompt", "the prompt").any(value, 1, Text::Token)
}
