//! Reading JSON values with messages that name the field, and writing matrices as arrays of rows.
//!
//! The state arrives as a `serde_json::Value` (from JSON text natively, from a JS object through the
//! wasm facade). Parsing by hand rather than with `#[derive(Deserialize)]` lets every message carry
//! the full path of the offending field (`weights.wq row 1 has 3 numbers, expected 2`), which is what
//! an article author editing a state by hand needs.

use crate::error::{fail, ModelError};
use crate::mat::Mat;
use crate::num::float_text;
use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::{Map, Value};

pub(crate) type Object = Map<String, Value>;

/// How a value is described in messages ("a string", "an array", …).
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a true/false value",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Quotes user text for a message, shortened so a huge string cannot flood the page.
/// Characters that do not show (a zero-width space, a text-direction override, a line break) are
/// written as `\u{200B}`, so that a message cannot hide, reorder or break its own text.
pub(crate) fn quote(text: &str) -> String {
    const SHOWN: usize = 24;
    let mut out = String::from("\"");
    for (i, c) in text.chars().enumerate() {
        if i == SHOWN {
            out.push('…');
            break;
        }
        if crate::chars::is_hidden(c) {
            out.push_str(&format!("\\u{{{:04X}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

pub(crate) fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Object, ModelError> {
    match value {
        Value::Object(map) => Ok(map),
        other => fail!("{path} must be an object, found {}", kind(other)),
    }
}

pub(crate) fn array<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, ModelError> {
    match value {
        Value::Array(items) => Ok(items),
        other => fail!("{path} must be an array, found {}", kind(other)),
    }
}

pub(crate) fn required<'a>(
    obj: &'a Object,
    key: &str,
    path: &str,
    expected: &str,
) -> Result<&'a Value, ModelError> {
    match obj.get(key) {
        Some(value) => Ok(value),
        None => fail!("{path} is missing; expected {expected}"),
    }
}

pub(crate) fn string<'a>(value: &'a Value, path: &str) -> Result<&'a str, ModelError> {
    match value {
        Value::String(text) => Ok(text),
        other => fail!("{path} must be a string, found {}", kind(other)),
    }
}

pub(crate) fn boolean(value: &Value, path: &str) -> Result<bool, ModelError> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => fail!("{path} must be true or false, found {}", kind(other)),
    }
}

/// A finite f64. JS `NaN` and `±Infinity` reach us as `null` (JSON has no spelling for them).
pub(crate) fn number(value: &Value, path: &str) -> Result<f64, ModelError> {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(x),
            _ => fail!("{path} must be a finite number"),
        },
        Value::Null => {
            fail!("{path} is empty (null); expected a finite number (NaN and Infinity are not allowed)")
        }
        Value::String(text) => fail!("{path} is the text {}; expected a number", quote(text)),
        other => fail!("{path} must be a number, found {}", kind(other)),
    }
}

/// A whole number in `min..=max`.
pub(crate) fn count(value: &Value, path: &str, min: u64, max: u64) -> Result<usize, ModelError> {
    let x = number(value, path)?;
    if x.fract() != 0.0 || x < min as f64 || x > max as f64 {
        fail!(
            "{path} must be a whole number from {min} to {max}, found {}",
            float_text(x)
        );
    }
    Ok(x as usize)
}

/// A `rows×cols` matrix given as an array of rows. `meaning` explains the shape ("vocab size × dModel").
pub(crate) fn matrix(
    value: &Value,
    path: &str,
    rows: usize,
    cols: usize,
    meaning: &str,
) -> Result<Mat, ModelError> {
    let Value::Array(items) = value else {
        fail!(
            "{path} must be an array of {rows} rows ({meaning}), found {}",
            kind(value)
        );
    };
    if items.len() != rows {
        fail!(
            "{path} has {} rows, expected {rows} ({meaning})",
            items.len()
        );
    }
    let mut m = Mat::zeros(rows, cols);
    for (i, row) in items.iter().enumerate() {
        let Value::Array(cells) = row else {
            fail!(
                "{path} row {i} must be an array of {cols} numbers, found {}",
                kind(row)
            );
        };
        if cells.len() != cols {
            fail!(
                "{path} row {i} has {} numbers, expected {cols}",
                cells.len()
            );
        }
        for (j, cell) in cells.iter().enumerate() {
            m[(i, j)] = number(cell, &format!("{path}[{i}][{j}]"))?;
        }
    }
    Ok(m)
}

/// A vector of `len` numbers, kept as a 1×len row (row-vector convention: it broadcasts over rows).
pub(crate) fn vector(
    value: &Value,
    path: &str,
    len: usize,
    meaning: &str,
) -> Result<Mat, ModelError> {
    let Value::Array(items) = value else {
        fail!(
            "{path} must be an array of {len} numbers ({meaning}), found {}",
            kind(value)
        );
    };
    if items.len() != len {
        fail!(
            "{path} has {} numbers, expected {len} ({meaning})",
            items.len()
        );
    }
    let mut m = Mat::zeros(1, len);
    for (j, cell) in items.iter().enumerate() {
        m[(0, j)] = number(cell, &format!("{path}[{j}]"))?;
    }
    Ok(m)
}

/// Serialises a matrix as an array of rows (nalgebra stores columns; the contract wants rows).
pub(crate) struct Rows<'a>(pub &'a Mat);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.nrows()))?;
        for i in 0..self.0.nrows() {
            seq.serialize_element(&Row(self.0, i))?;
        }
        seq.end()
    }
}

struct Row<'a>(&'a Mat, usize);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.ncols()))?;
        for j in 0..self.0.ncols() {
            seq.serialize_element(&self.0[(self.1, j)])?;
        }
        seq.end()
    }
}

/// Serialises a 1×n matrix as a flat array.
pub(crate) struct Flat<'a>(pub &'a Mat);

impl Serialize for Flat<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Row(self.0, 0).serialize(s)
    }
}

/// Serialises H causal T×T matrices, writing `null` for the masked entries (s > t).
pub(crate) struct Causal<'a>(pub &'a [Mat]);

impl Serialize for Causal<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut heads = s.serialize_seq(Some(self.0.len()))?;
        for m in self.0 {
            let rows: Vec<Vec<Option<f64>>> = (0..m.nrows())
                .map(|t| {
                    (0..m.ncols())
                        .map(|u| (u <= t).then(|| m[(t, u)]))
                        .collect()
                })
                .collect();
            heads.serialize_element(&rows)?;
        }
        heads.end()
    }
}

/// Serialises H T×T matrices as plain arrays of rows.
pub(crate) struct Stack<'a>(pub &'a [Mat]);

impl Serialize for Stack<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut heads = s.serialize_seq(Some(self.0.len()))?;
        for m in self.0 {
            heads.serialize_element(&Rows(m))?;
        }
        heads.end()
    }
}
