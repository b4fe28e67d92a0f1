//! Reading JS values into `serde_json::Value` with every size bounded before it is read.
//!
//! A state can come from anywhere: a share link, local storage, a pasted file, a script. Converting
//! it wholesale (serde-wasm-bindgen) trusted its shape: a value nested 10,000 deep overflowed the
//! wasm stack (a trap that breaks the module until reload), `a = [a, a]` nested 23 times took a
//! gigabyte, and a million-row matrix was copied before its row count was checked. So this reader
//! knows the contract's shapes and reads each field only as deep as the contract goes: a container
//! where a number or text belongs is read as an *empty* container, which the core's parser then
//! refuses with its usual message (`weights.wq[0][0] must be a number, found an array`). Lists,
//! texts and object keys are measured before they are read, and one budget bounds the values read
//! per call (shared references are read once per use, so they count once per use).
//!
//! Every JS operation that can run user code or throw (a getter, a Proxy trap, a revoked Proxy) is
//! imported with `catch`: a JS exception unwinding through wasm frames would skip Rust's cleanup
//! and leave the module in a broken state, so it must come back as a `Result` instead.

use crate::config::{MAX_CONTEXT, MAX_D_FF, MAX_D_MODEL};
use crate::names::{MAX_TOKEN_CHARS, MAX_VOCAB};
use crate::num::float_text;
use corpus::MAX_BATCH_VALUES;
#[cfg(feature = "extras")]
use fields::CELL;
use fields::{Field, BATCH, CHANGE, CONFIG, OPTIMIZER, OPTIONS, STATE};
use js_sys::JsString;
use serde_json::{Map, Number, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

mod corpus;
mod fields;
#[cfg(feature = "extras")]
pub(crate) use corpus::{corpus_options, corpus_text, generate_options, prompt};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn is_array(value: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn object_keys(value: &JsValue) -> Result<JsValue, JsValue>;
    // Keys are passed as JS strings: a `&str` would be decoded from wasm memory on every call.
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = get)]
    fn get_key(target: &JsValue, key: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = get)]
    fn get_index(target: &JsValue, index: u32) -> Result<JsValue, JsValue>;
    // Never throws and runs no user code (it reads an internal slot, not a property).
    #[wasm_bindgen(js_namespace = ArrayBuffer, js_name = isView)]
    fn is_view(value: &JsValue) -> bool;
}

/// The longest list a valid input holds: a row of `w1` or `b1` (dFf), and more than `vocab`,
/// `tokens`, `position` or any other dimension.
pub(crate) const MAX_LIST: usize = max(max(MAX_VOCAB, MAX_CONTEXT), max(MAX_D_MODEL, MAX_D_FF));

/// The longest text read, in UTF-16 units. Token names have at most 64 characters once in NFC; a
/// name typed in decomposed form (a letter and its accents apart) or with astral characters
/// (two units each) takes more units, so the limit leaves room for that.
pub(crate) const MAX_TEXT: usize = 1024;

/// The most keys an object may have: `weights` has at most 17; the others are read by name.
pub(crate) const MAX_KEYS: usize = 64;

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// The values in the largest model's weights (every size at its maximum, both optional blocks):
/// its numbers, and one more for each row, each matrix and vector, and the object itself.
const MAX_WEIGHT_VALUES: usize = {
    let (v, c, f, t) = (MAX_VOCAB, MAX_D_MODEL, MAX_D_FF, MAX_CONTEXT);
    let numbers = 2 * v * c + t * c + 4 * c * c + 2 * c * f + f + c + 6 * c;
    let rows = v + t + 4 * c + c + f + c;
    numbers + rows + 18
};

/// Values read per call: the largest valid state (its weights and Adam's two moments, the
/// vocabulary and the input) and a little room. Anything beyond cannot be valid.
pub(crate) const MAX_VALUES: usize =
    3 * MAX_WEIGHT_VALUES + MAX_VOCAB + MAX_CONTEXT + MAX_BATCH_VALUES + 1024;

thread_local! {
    static LENGTH: JsValue = JsValue::from_str("length");
}

fn length(value: &JsValue) -> Option<f64> {
    LENGTH
        .with(|key| get_key(value, key))
        .ok()
        .and_then(|n| n.as_f64())
}

enum Seg {
    Key(String),
    Index(u32),
}

/// What kind of text a field holds: token names get the token's length message.
#[derive(Clone, Copy, PartialEq)]
enum Text {
    Token,
    Key,
    Other,
    /// A corpus: sentences, one per line (tokenize, corpusState).
    Corpus,
}

/// One bounded read of one argument.
pub(crate) struct Reader {
    root: &'static str,
    what: &'static str,
    path: Vec<Seg>,
    budget: usize,
}

impl Reader {
    /// `root` prefixes every path (`cell` gives `cell.index[0]`); `what` names the whole value
    /// in messages about it ("the state").
    pub(crate) fn new(root: &'static str, what: &'static str) -> Reader {
        Reader {
            root,
            what,
            path: Vec::new(),
            budget: MAX_VALUES,
        }
    }

    fn path(&self) -> String {
        let mut out = self.root.to_string();
        for seg in &self.path {
            match seg {
                Seg::Key(k) if out.is_empty() => out.push_str(k),
                Seg::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        if out.is_empty() {
            self.what.to_string()
        } else {
            out
        }
    }

    fn refuse(&self, why: impl std::fmt::Display) -> JsError {
        JsError::new(&format!("{} {why}", self.path()))
    }

    fn unreadable(&self) -> JsError {
        self.refuse(
            "could not be read: reading it raised an error (a getter or a Proxy that throws?)",
        )
    }

    fn spend(&mut self) -> Result<(), JsError> {
        if self.budget == 0 {
            return Err(JsError::new(&format!(
                "{} holds more than {MAX_VALUES} values in all (counting from {}), more than the \
                 largest model needs; is something repeated or shared many times?",
                self.what,
                self.path()
            )));
        }
        self.budget -= 1;
        Ok(())
    }

    fn field<T>(
        &mut self,
        obj: &JsValue,
        key: &'static str,
        read: impl FnOnce(&mut Self, &JsValue) -> Result<T, JsError>,
    ) -> Result<Option<T>, JsError> {
        self.path.push(Seg::Key(key.to_string()));
        let out = match get_key(obj, &JsValue::from_str(key)) {
            Err(_) => Err(self.unreadable()),
            // An absent key and `undefined` mean the same in JS: the parser's "missing" applies.
            Ok(v) if v.is_undefined() => Ok(None),
            Ok(v) => read(self, &v).map(Some),
        };
        self.path.pop();
        out
    }

    /// An object of which only the named keys are read (the parser ignores the others, so they
    /// are never touched); anything else is read as a scalar, for the parser to refuse.
    fn named(
        &mut self,
        value: &JsValue,
        fields: &[(&'static str, Field)],
    ) -> Result<Value, JsError> {
        if !is_plain_object(value, self)? {
            return self.any(value, 0, Text::Other);
        }
        self.spend()?;
        let mut map = Map::new();
        for (key, field) in fields {
            let read = |r: &mut Self, v: &JsValue| match field {
                Field::Scalar => r.any(v, 0, Text::Other),
                Field::Token => r.any(v, 0, Text::Token),
                Field::Tokens => r.any(v, 1, Text::Token),
                Field::Numbers => r.any(v, 1, Text::Other),
                Field::Weights => r.any(v, 3, Text::Other),
                Field::Config => r.named(v, CONFIG),
                Field::Optimizer => r.named(v, OPTIMIZER),
                Field::Sequences => r.any(v, 2, Text::Token),
                Field::Batch => r.named(v, BATCH),
                Field::Corpus => r.any(v, 0, Text::Corpus),
            };
            if let Some(v) = self.field(value, key, read)? {
                map.insert(key.to_string(), v);
            }
        }
        Ok(Value::Object(map))
    }

    /// Any value, with at most `depth` levels of containers below it: a container at depth 0 is
    /// read as an empty one (the parser then says a number or a text was expected there).
    fn any(&mut self, value: &JsValue, depth: u8, text: Text) -> Result<Value, JsError> {
        self.spend()?;
        // Numbers first: nearly every value is one, and each check is a call out of wasm.
        if let Some(x) = value.as_f64() {
            // NaN and ±Infinity have no JSON spelling; null makes the parser say so.
            return Ok(Number::from_f64(x).map_or(Value::Null, Value::Number));
        }
        if value.is_null() || value.is_undefined() {
            return Ok(Value::Null);
        }
        if let Some(b) = value.as_bool() {
            return Ok(Value::Bool(b));
        }
        if value.is_string() {
            return self.text(value.unchecked_ref(), text).map(Value::String);
        }
        if value.is_bigint() {
            return Err(self.refuse("is a BigInt (such as 2n); use an ordinary number"));
        }
        if !value.is_object() {
            let kind = if value.is_symbol() {
                "a symbol"
            } else if value.is_function() {
                "a function"
            } else {
                "a value that is not data"
            };
            return Err(self.refuse(format!(
                "must be plain data (a number, a text, true or false, null, an array or an \
                 object), found {kind}"
            )));
        }
        if is_view(value) {
            return Err(
                self.refuse("is a typed array (such as a Float64Array); use an ordinary array")
            );
        }
        let array = is_array(value).map_err(|_| self.unreadable())?;
        if depth == 0 {
            return Ok(if array {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            });
        }
        if array {
            self.list(value, depth, text)
        } else {
            self.object(value, depth, text)
        }
    }

    fn list(&mut self, value: &JsValue, depth: u8, text: Text) -> Result<Value, JsError> {
        let len = length(value).ok_or_else(|| self.unreadable())?;
        if !(0.0..=MAX_LIST as f64).contains(&len) {
            let root = self.path.len() == 1 && self.root.is_empty();
            return Err(match &self.path[..] {
                // The parser's own words for the vocabulary (the page maps them).
                [Seg::Key(k)] if root && k == "vocab" => JsError::new(&format!(
                    "vocab has {} tokens; it must have 1 to {MAX_VOCAB}",
                    float_text(len)
                )),
                _ => self.refuse(format!(
                    "has {} entries; no list here may have more than {MAX_LIST}",
                    float_text(len)
                )),
            });
        }
        let len = len as u32;
        let mut items = Vec::with_capacity(len as usize);
        for i in 0..len {
            self.path.push(Seg::Index(i));
            let item = get_index(value, i)
                .map_err(|_| self.unreadable())
                .and_then(|v| self.any(&v, depth - 1, text));
            self.path.pop();
            items.push(item?);
        }
        Ok(Value::Array(items))
    }

    fn object(&mut self, value: &JsValue, depth: u8, text: Text) -> Result<Value, JsError> {
        let keys = object_keys(value).map_err(|_| self.unreadable())?;
        let count = length(&keys).ok_or_else(|| self.unreadable())?;
        if count > MAX_KEYS as f64 {
            return Err(self.refuse(format!(
                "has {} keys; no object here may have more than {MAX_KEYS}",
                float_text(count)
            )));
        }
        let mut map = Map::new();
        for i in 0..count as u32 {
            let js_key = get_index(&keys, i).map_err(|_| self.unreadable())?;
            let Some(key) = js_key.dyn_ref::<JsString>() else {
                return Err(self.unreadable());
            };
            let key = self.text(key, Text::Key)?;
            self.path.push(Seg::Key(key.clone()));
            let item = get_key(value, &js_key)
                .map_err(|_| self.unreadable())
                .and_then(|v| self.any(&v, depth - 1, text));
            self.path.pop();
            map.insert(key, item?);
        }
        Ok(Value::Object(map))
    }

    /// A JS string, measured before it is copied. A lone surrogate (half of a UTF-16 pair, which
    /// JS strings may hold) would become U+FFFD on the way into Rust, so that two different broken
    /// names would read as one; it is refused instead.
    fn text(&self, s: &JsString, kind: Text) -> Result<String, JsError> {
        let units = s.length() as usize;
        corpus::check_length(self, units, kind)?;
        if kind != Text::Corpus && units > MAX_TEXT {
            return Err(match kind {
                Text::Token => self.refuse(format!(
                    "has {units} characters; a token may have at most {MAX_TOKEN_CHARS}"
                )),
                Text::Key => self.refuse(format!(
                    "has a key of {units} characters; no key here may have more than {MAX_TEXT}"
                )),
                Text::Other | Text::Corpus => self.refuse(format!(
                    "has {units} characters; no text here may have more than {MAX_TEXT}"
                )),
            });
        }
        let out = s.as_string().unwrap_or_default();
        if out.contains('\u{FFFD}') {
            if let Some((at, unit)) = lone_surrogate(s) {
                return Err(self.refuse(format!(
                    "has a broken character at position {at} (U+{unit:04X}, half of a UTF-16 \
                     surrogate pair, with no other half); remove it"
                )));
            }
        }
        Ok(out)
    }
}

/// The first unpaired surrogate: (its index in UTF-16 units, the unit).
fn lone_surrogate(s: &JsString) -> Option<(usize, u16)> {
    let units: Vec<u16> = s.iter().collect();
    let mut i = 0;
    while i < units.len() {
        let u = units[i];
        let high = (0xD800..0xDC00).contains(&u);
        let low = (0xDC00..0xE000).contains(&u);
        let next_low = units
            .get(i + 1)
            .is_some_and(|n| (0xDC00..0xE000).contains(n));
        if high && next_low {
            i += 2;
            continue;
        }
        if high || low {
            return Some((i, u));
        }
        i += 1;
    }
    None
}

/// Whether `value` is an object read by its keys (not null, an array or a typed array).
fn is_plain_object(value: &JsValue, reader: &Reader) -> Result<bool, JsError> {
    if !value.is_object() || is_view(value) {
        return Ok(false);
    }
    Ok(!is_array(value).map_err(|_| reader.unreadable())?)
}

/// A state (the contract's schema), as the parser's JSON.
pub(crate) fn state(value: &JsValue) -> Result<Value, JsError> {
    Reader::new("", "the state").named(value, STATE)
}

/// The step options of `step`, `train` and the exports.
pub(crate) fn options(value: &JsValue) -> Result<Value, JsError> {
    Reader::new("", "the step options").named(value, OPTIONS)
}

/// A gradient cell `{ group, name, index }`.
#[cfg(feature = "extras")]
pub(crate) fn cell(value: &JsValue) -> Result<Value, JsError> {
    Reader::new("cell", "cell").named(value, CELL)
}

/// A resize `{ vocab?, config? }`.
pub(crate) fn change(value: &JsValue) -> Result<Value, JsError> {
    Reader::new("", "the change").named(value, CHANGE)
}

/// A short name argument (a weight or an activation), without reading a huge string.
pub(crate) fn name(value: &JsValue, what: &'static str) -> Result<String, JsError> {
    let reader = Reader::new("", what);
    match value.dyn_ref::<JsString>() {
        Some(s) => reader.text(s, Text::Other),
        None => Err(reader.refuse(format!("must be a text, found {}", kind(value)))),
    }
}

/// A number argument, never coerced from another type.
pub(crate) fn number(value: &JsValue, what: &'static str) -> Result<f64, JsError> {
    value
        .as_f64()
        .ok_or_else(|| JsError::new(&format!("{what} must be a number, found {}", kind(value))))
}

/// How a JS value is described in messages.
pub(crate) fn kind(value: &JsValue) -> &'static str {
    if value.is_undefined() {
        "undefined"
    } else if value.is_null() {
        "null"
    } else if value.as_bool().is_some() {
        "a true/false value"
    } else if value.as_f64().is_some() {
        "a number"
    } else if value.is_string() {
        "a text"
    } else if value.is_bigint() {
        "a BigInt"
    } else if value.is_symbol() {
        "a symbol"
    } else if value.is_function() {
        "a function"
    } else {
        "an object"
    }
}
