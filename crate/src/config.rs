//! The model's configuration (sizes and switches), its JSON and its rules.

use crate::error::{fail, ModelError};
use crate::json;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

pub const MAX_CONTEXT: usize = 256;
pub const MAX_D_MODEL: usize = 256;
pub const MAX_D_FF: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Gelu,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Gelu => "gelu",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// C, the width of every row of the residual stream.
    pub d_model: usize,
    /// H; each head reads D = C/H columns of q, k and v.
    pub n_heads: usize,
    /// F, the hidden width of the feed-forward block; 0 means the block is absent.
    pub d_ff: usize,
    pub layer_norm: bool,
    pub activation: Activation,
    /// The number of learned positions, so the longest input.
    pub context: usize,
}

impl Config {
    pub fn head_size(&self) -> usize {
        self.d_model / self.n_heads
    }
}

impl Config {
    pub(crate) fn from_json(value: &Value) -> Result<Config, ModelError> {
        let obj = json::object(value, "config")?;
        let get = |key: &str, expected: &str| {
            json::required(obj, key, &format!("config.{key}"), expected)
        };
        let d_model = json::count(
            get("dModel", "a whole number from 1 to 256")?,
            "config.dModel",
            1,
            MAX_D_MODEL as u64,
        )?;
        let n_heads = json::count(
            get("nHeads", "a whole number that divides dModel")?,
            "config.nHeads",
            1,
            MAX_D_MODEL as u64,
        )?;
        if d_model % n_heads != 0 {
            let divisors: Vec<String> = (1..=d_model)
                .filter(|h| d_model % h == 0)
                .map(|h| h.to_string())
                .collect();
            fail!(
                "config.nHeads is {n_heads}, which does not divide config.dModel = {d_model}; \
                 each head needs the same number of columns (choose one of {})",
                divisors.join(", ")
            );
        }
        let d_ff = json::count(
            get("dFf", "a whole number from 0 to 1024")?,
            "config.dFf",
            0,
            MAX_D_FF as u64,
        )?;
        let layer_norm = json::boolean(get("layerNorm", "true or false")?, "config.layerNorm")?;
        let activation = match obj.get("activation") {
            // A model without a feed-forward block has no activation; hand-written states may omit it.
            None => Activation::Relu,
            Some(v) => match json::string(v, "config.activation")? {
                "relu" => Activation::Relu,
                "gelu" => Activation::Gelu,
                other => fail!(
                    "config.activation is {}; expected \"relu\" or \"gelu\"",
                    json::quote(other)
                ),
            },
        };
        let context = json::count(
            get("context", "a whole number from 1 to 256")?,
            "config.context",
            1,
            MAX_CONTEXT as u64,
        )?;
        Ok(Config {
            d_model,
            n_heads,
            d_ff,
            layer_norm,
            activation,
            context,
        })
    }
}

impl Serialize for Config {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(6))?;
        map.serialize_entry("dModel", &self.d_model)?;
        map.serialize_entry("nHeads", &self.n_heads)?;
        map.serialize_entry("dFf", &self.d_ff)?;
        map.serialize_entry("layerNorm", &self.layer_norm)?;
        map.serialize_entry("activation", self.activation.name())?;
        map.serialize_entry("context", &self.context)?;
        map.end()
    }
}
