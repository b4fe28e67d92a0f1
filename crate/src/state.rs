//! The reader's state: vocabulary, input, configuration, weights and optimiser moments, with the
//! contract's JSON schema and every validation rule.

use crate::config::Config;
use crate::error::{fail, ModelError};
use crate::json;
use crate::names::Vocab;
use crate::weights::{weight_specs, Weights, WeightsJson};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState {
    /// k, the number of Adam steps taken so far.
    pub step: u64,
    pub m: Weights,
    pub v: Weights,
}

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub vocab: Vec<String>,
    pub eos: Option<String>,
    pub tokens: Vec<String>,
    pub config: Config,
    pub weights: Weights,
    pub optimizer: Option<OptimizerState>,
    /// The training batch; `None` means `[tokens]` (see batch.rs).
    pub sequences: Option<Vec<Vec<String>>>,
    /// Sequences never trained on, whose loss is reported; `None` means there are none.
    pub held_out: Option<Vec<Vec<String>>>,
}

impl State {
    /// Parses and validates a whole state. Every rule of the contract is checked here, so a
    /// `State` that exists is always one the model can run.
    pub fn from_json(value: &Value) -> Result<State, ModelError> {
        let obj = json::object(value, "the state")?;
        let vocab = Vocab::parse(json::required(
            obj,
            "vocab",
            "vocab",
            "an array of token names",
        )?)?;
        let eos = match obj.get("eos") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let name = json::string(v, "eos")?;
                match vocab.find(name) {
                    Some(known) => Some(known.to_string()),
                    None => fail!(
                        "eos is {}, which is not in vocab; the end-of-sequence token must be a vocabulary token (or null)",
                        json::quote(name)
                    ),
                }
            }
        };
        let config = Config::from_json(json::required(obj, "config", "config", "an object")?)?;
        let tokens_value = json::required(obj, "tokens", "tokens", "an array of input tokens")?;
        let tokens = parse_tokens(tokens_value, &vocab, config.context)?;
        let weights = Weights::from_json(
            json::required(
                obj,
                "weights",
                "weights",
                "an object with the model's weights",
            )?,
            "weights",
            &config,
            vocab.names.len(),
        )?;
        let optimizer = match obj.get("optimizer") {
            None | Some(Value::Null) => None,
            Some(v) => Some(parse_optimizer(v, &config, &weights, vocab.names.len())?),
        };
        let sequences = match obj.get("sequences") {
            None | Some(Value::Null) => None,
            Some(_) if !BATCHES => return Err(needs_full_module("sequences")),
            Some(v) => Some(parse_sequences(
                v,
                "sequences",
                &vocab,
                &config,
                1,
                MAX_SEQUENCES,
            )?),
        };
        let held_out = match obj.get("heldOut") {
            None | Some(Value::Null) => None,
            Some(_) if !BATCHES => return Err(needs_full_module("heldOut")),
            Some(v) => Some(parse_sequences(
                v,
                "heldOut",
                &vocab,
                &config,
                0,
                MAX_HELD_OUT,
            )?),
        };
        Ok(State {
            vocab: vocab.names,
            eos,
            tokens,
            config,
            weights,
            optimizer,
            sequences,
            held_out,
        })
    }

    /// Parses JSON text (the format of exported files).
    pub fn from_json_str(text: &str) -> Result<State, ModelError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ModelError::new(format!("the state is not valid JSON: {e}")))?;
        State::from_json(&value)
    }

    /// Checks a state built in Rust (rather than parsed) by round-tripping it through the parser,
    /// so both paths obey exactly the same rules.
    pub fn validate(&self) -> Result<(), ModelError> {
        let value = serde_json::to_value(self)
            .map_err(|e| ModelError::new(format!("the state cannot be written as JSON: {e}")))?;
        State::from_json(&value).map(|_| ())
    }

    pub fn to_json_string(&self) -> String {
        // Serialising our own types to a String cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A cheap structural check for states built in Rust rather than parsed: every shape matches
    /// the configuration and every token is in the vocabulary, so the model cannot index out of
    /// bounds. (Parsed states always pass; [`State::validate`] checks every rule.)
    pub(crate) fn check_shapes(&self) -> Result<(), ModelError> {
        let cfg = &self.config;
        if cfg.n_heads == 0 || cfg.d_model == 0 || cfg.d_model % cfg.n_heads != 0 {
            fail!("config.nHeads must divide config.dModel");
        }
        if self.tokens.is_empty() || self.tokens.len() > cfg.context {
            fail!(
                "tokens must have 1 to config.context = {} tokens",
                cfg.context
            );
        }
        if let Some(t) = self.tokens.iter().find(|t| !self.vocab.contains(t)) {
            fail!("tokens holds {}, which is not in vocab", json::quote(t));
        }
        for seq in self.sequences.iter().chain(&self.held_out).flatten() {
            if seq.is_empty() || seq.len() > cfg.context {
                fail!(
                    "every sequence must have 1 to config.context = {} tokens",
                    cfg.context
                );
            }
            if let Some(t) = seq.iter().find(|t| !self.vocab.contains(t)) {
                fail!("a sequence holds {}, which is not in vocab", json::quote(t));
            }
        }
        if self.eos.as_ref().is_some_and(|e| !self.vocab.contains(e)) {
            fail!("eos is not in vocab");
        }
        let specs = weight_specs(cfg, self.vocab.len());
        let names: Vec<&str> = self.weights.params().map(|(n, _)| n).collect();
        let expected: Vec<&str> = specs.iter().map(|s| s.name).collect();
        if names != expected {
            fail!(
                "weights has {}, expected {} for this config",
                names.join(", "),
                expected.join(", ")
            );
        }
        for (s, (name, m)) in specs.iter().zip(self.weights.params()) {
            if m.shape() != (s.rows, s.cols) {
                fail!(
                    "weights.{name} is {}×{}, expected {}×{} ({})",
                    m.nrows(),
                    m.ncols(),
                    s.rows,
                    s.cols,
                    s.meaning
                );
            }
        }
        Ok(())
    }

    /// The vocabulary index of every input token.
    pub fn ids(&self) -> Vec<usize> {
        self.ids_of(&self.tokens)
    }

    /// The vocabulary index of every token of `seq` (a sequence of this state's vocabulary).
    pub fn ids_of(&self, seq: &[String]) -> Vec<usize> {
        let index: HashMap<&str, usize> = self
            .vocab
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i))
            .collect();
        // `from_json` guarantees every token is in vocab; an unknown token maps to 0 only if a
        // caller built an invalid State by hand, and `validate` reports that.
        seq.iter()
            .map(|t| index.get(t.as_str()).copied().unwrap_or(0))
            .collect()
    }

    pub fn eos_id(&self) -> Option<usize> {
        let eos = self.eos.as_ref()?;
        self.vocab.iter().position(|t| t == eos)
    }
}

/// Whether this build computes training batches. The lean module (no `extras` feature) refuses
/// a state with `sequences` or `heldOut` and a step's `batch` option when it reads them
/// (here and in optimizer.rs), so every branch taken only for a batch (batch.rs, session_batch.rs)
/// is dead code there and left out of the module the page loads first.
pub(crate) const BATCHES: bool = cfg!(feature = "extras");

/// The lean module's refusal of a training batch's field (`sequences`, `heldOut`, `batch`).
pub(crate) fn needs_full_module(field: &str) -> ModelError {
    ModelError::new(format!(
        "{field} is for training on a batch of sentences, which this module \
         (how_llms_learn_lean) does not compute: use the full module, how_llms_learn"
    ))
}

/// The most sequences a training batch holds, the most tokens in all, and the most held-out
/// sequences: a few kilobytes of text, trained in the page's worker.
pub const MAX_SEQUENCES: usize = 256;
pub const MAX_BATCH_TOKENS: usize = 8192;
pub const MAX_HELD_OUT: usize = 64;

/// `sequences` or `heldOut`: `min..=max` lists, each a valid input.
fn parse_sequences(
    value: &Value,
    field: &str,
    vocab: &Vocab,
    config: &Config,
    min: usize,
    max: usize,
) -> Result<Vec<Vec<String>>, ModelError> {
    let items = json::array(value, field)?;
    if items.len() < min || items.len() > max {
        fail!(
            "{field} has {} sequences; it may have {min} to {max}",
            items.len()
        );
    }
    let mut out = Vec::with_capacity(items.len());
    let mut total = 0;
    for (i, item) in items.iter().enumerate() {
        let seq = parse_tokens_at(item, &format!("{field}[{i}]"), vocab, config.context)?;
        total += seq.len();
        if total > MAX_BATCH_TOKENS {
            fail!("{field} holds more than {MAX_BATCH_TOKENS} tokens in all; use fewer or shorter sequences");
        }
        out.push(seq);
    }
    Ok(out)
}

fn parse_tokens(value: &Value, vocab: &Vocab, context: usize) -> Result<Vec<String>, ModelError> {
    parse_tokens_at(value, "tokens", vocab, context)
}

fn parse_tokens_at(
    value: &Value,
    field: &str,
    vocab: &Vocab,
    context: usize,
) -> Result<Vec<String>, ModelError> {
    let items = json::array(value, field)?;
    if items.is_empty() {
        fail!("{field} is empty; the input needs at least one token");
    }
    if items.len() > context {
        fail!(
            "{field} has {} tokens but config.context is {context}; the input may be at most as long as the context",
            items.len()
        );
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let name = json::string(item, &path)?;
        // Stored as the vocabulary spells it, so later lookups can compare names as they are.
        match vocab.find(name) {
            Some(known) => out.push(known.to_string()),
            None => fail!("{path} is {}, which is not in vocab", json::quote(name)),
        }
    }
    Ok(out)
}

fn parse_optimizer(
    value: &Value,
    config: &Config,
    weights: &Weights,
    vocab_size: usize,
) -> Result<OptimizerState, ModelError> {
    let obj = json::object(value, "optimizer")?;
    let step = match obj.get("step") {
        None => 0,
        Some(v) => json::count(v, "optimizer.step", 0, u32::MAX as u64)? as u64,
    };
    let moment = |key: &str| match obj.get(key) {
        None | Some(Value::Null) => Ok(weights.zeros_like()),
        Some(v) => Weights::from_json(v, &format!("optimizer.{key}"), config, vocab_size),
    };
    let m = moment("m")?;
    let v = moment("v")?;
    if v.params().any(|(_, m)| m.iter().any(|x| *x < 0.0)) {
        fail!("optimizer.v holds a negative number; Adam's second moment is a mean of squares, so it is never negative");
    }
    Ok(OptimizerState { step, m, v })
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("vocab", &self.vocab)?;
        map.serialize_entry("eos", &self.eos)?;
        map.serialize_entry("tokens", &self.tokens)?;
        map.serialize_entry("config", &self.config)?;
        map.serialize_entry("weights", &WeightsJson(&self.weights))?;
        if let Some(opt) = &self.optimizer {
            map.serialize_entry("optimizer", &OptimizerJson(opt))?;
        }
        // Written only when present, so a single-sentence state reads and writes as before.
        if let Some(seqs) = &self.sequences {
            map.serialize_entry("sequences", seqs)?;
        }
        if let Some(seqs) = &self.held_out {
            map.serialize_entry("heldOut", seqs)?;
        }
        map.end()
    }
}

struct OptimizerJson<'a>(&'a OptimizerState);

impl Serialize for OptimizerJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("step", &self.0.step)?;
        map.serialize_entry("m", &WeightsJson(&self.0.m))?;
        map.serialize_entry("v", &WeightsJson(&self.0.v))?;
        map.end()
    }
}

/// Deserialising goes through [`State::from_json`], so serde users get the same validation.
impl<'de> Deserialize<'de> for State {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        State::from_json(&value).map_err(serde::de::Error::custom)
    }
}
