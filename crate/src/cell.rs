//! Which gradient entry a reader asks about: `{ group, name, index }`, checked against a state.

use crate::activations::ACTIVATION_NAMES;
use crate::error::{fail, ModelError};
use crate::json::{self, quote};
use crate::state::State;
use crate::weights::{is_vector, WEIGHT_NAMES};
use serde_json::Value;

/// One entry of a weight's or an activation's gradient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// `true` for `weights.<name>`, `false` for `activations.<name>`.
    pub weight: bool,
    pub name: String,
    /// [row, col]; [j] for vectors; [head, row, col] for scores and attention.
    pub index: Vec<usize>,
}

impl Cell {
    pub fn weight(name: &str, index: &[usize]) -> Cell {
        Cell {
            weight: true,
            name: name.to_string(),
            index: index.to_vec(),
        }
    }

    pub fn activation(name: &str, index: &[usize]) -> Cell {
        Cell {
            weight: false,
            name: name.to_string(),
            index: index.to_vec(),
        }
    }

    /// `{ group: "weights" | "activations", name, index }`.
    pub fn from_json(value: &Value) -> Result<Cell, ModelError> {
        let obj = json::object(value, "cell")?;
        let group = json::string(
            json::required(obj, "group", "cell.group", "\"weights\" or \"activations\"")?,
            "cell.group",
        )?;
        let weight = match group {
            "weights" => true,
            "activations" => false,
            other => fail!(
                "cell.group is {}; expected \"weights\" or \"activations\"",
                quote(other)
            ),
        };
        let name = json::string(
            json::required(obj, "name", "cell.name", "a name")?,
            "cell.name",
        )?;
        let items = json::array(
            json::required(obj, "index", "cell.index", "an array")?,
            "cell.index",
        )?;
        let index = items
            .iter()
            .enumerate()
            .map(|(i, v)| json::count(v, &format!("cell.index[{i}]"), 0, u32::MAX as u64))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cell {
            weight,
            name: name.to_string(),
            index,
        })
    }

    /// "weights.wq[1][0]".
    pub fn describe(&self) -> String {
        let group = if self.weight {
            "weights"
        } else {
            "activations"
        };
        let idx: String = self.index.iter().map(|i| format!("[{i}]")).collect();
        format!("{group}.{}{idx}", self.name)
    }

    /// For a weight cell, the (row, column) it names in this state's weight, checked.
    pub(crate) fn weight_entry(&self, state: &State) -> Result<(usize, usize), ModelError> {
        if !self.weight {
            fail!(
                "{} is not a weight; only weights can be set",
                self.describe()
            );
        }
        let (_, _, i, j) = self.resolve(state)?;
        Ok((i, j))
    }

    /// Checks the cell exists in this state's model and returns (name, index as (matrix, row, col)).
    pub(crate) fn resolve(
        &self,
        state: &State,
    ) -> Result<(&'static str, usize, usize, usize), ModelError> {
        let what = self.describe();
        if self.weight {
            let Some(&name) = WEIGHT_NAMES.iter().find(|n| **n == self.name) else {
                fail!(
                    "cell.name {} is not a weight (expected one of {})",
                    quote(&self.name),
                    WEIGHT_NAMES.join(", ")
                );
            };
            let Some(m) = state.weights.get(name) else {
                fail!("weights.{name} does not exist in this model (check config.dFf and config.layerNorm)");
            };
            let (i, j) = match (is_vector(name), &self.index[..]) {
                (true, [j]) => (0, *j),
                (false, [i, j]) => (*i, *j),
                (true, _) => {
                    fail!("{what}: weights.{name} is a vector, so the index needs 1 number")
                }
                (false, _) => {
                    fail!("{what}: weights.{name} is a matrix, so the index needs 2 numbers")
                }
            };
            if i >= m.nrows() || j >= m.ncols() {
                fail!(
                    "{what} is outside weights.{name}, which is {}×{}",
                    m.nrows(),
                    m.ncols()
                );
            }
            return Ok((name, 0, i, j));
        }
        let Some(&name) = ACTIVATION_NAMES.iter().find(|n| **n == self.name) else {
            fail!(
                "cell.name {} is not an activation (expected one of {})",
                quote(&self.name),
                ACTIVATION_NAMES.join(", ")
            );
        };
        let ffn_only = matches!(name, "mlpIn" | "u" | "hidden" | "mlpOut");
        if ffn_only && state.config.d_ff == 0 {
            fail!("{name} does not exist in this model: config.dFf is 0 (no feed-forward block)");
        }
        let t_len = state.tokens.len();
        let width = match name {
            "u" | "hidden" => state.config.d_ff,
            "logits" | "probs" => state.vocab.len(),
            "scores" | "attention" => t_len,
            _ => state.config.d_model,
        };
        let (h, t, j) = match (name, &self.index[..]) {
            ("scores" | "attention", [h, t, s]) => (*h, *t, *s),
            ("scores" | "attention", _) => {
                fail!("{what}: {name} is H×T×T, so the index needs 3 numbers (head, row, column)")
            }
            (_, [t, j]) => (0, *t, *j),
            _ => fail!("{what}: {name} is a matrix, so the index needs 2 numbers"),
        };
        if h >= state.config.n_heads || t >= t_len || j >= width {
            fail!("{what} is outside {name}");
        }
        if matches!(name, "scores" | "attention") && j > t {
            fail!("{what} is masked: position {t} cannot attend to the later position {j}, so it has no gradient");
        }
        Ok((name, h, t, j))
    }
}
