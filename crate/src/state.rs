//! The reader's state: vocabulary, input, configuration, weights and optimiser moments, with the
//! contract's JSON schema and every validation rule.

use crate::error::{fail, ModelError};
use crate::json::{self, Flat, Rows};
use crate::names::Vocab;
use nalgebra::DMatrix;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::HashMap;

/// Every matrix in the core. Row-vector convention: a sequence is T×C, one row per position.
pub type Mat = DMatrix<f64>;

/// Whether every entry is finite (no NaN, no ±∞). Every pass checks all its results this way, so
/// it is written to be cheap: x·0 is ±0 for a finite x and NaN otherwise, and a sum of those is
/// NaN exactly when one of them is. Four running sums and no early exit let it vectorise.
pub(crate) fn all_finite(m: &Mat) -> bool {
    let xs = m.as_slice();
    let mut sums = [0.0; 4];
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (s, x) in sums.iter_mut().zip(chunk) {
            *s += x * 0.0;
        }
    }
    let total = rest
        .iter()
        .fold(sums.iter().sum::<f64>(), |s, x| s + x * 0.0);
    total == 0.0
}

pub const MAX_VOCAB: usize = 512;
pub const MAX_TOKEN_CHARS: usize = 64;
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

#[derive(Clone, Debug, PartialEq)]
pub struct LayerNormWeights {
    pub gain: Mat, // 1×C
    pub bias: Mat, // 1×C
}

#[derive(Clone, Debug, PartialEq)]
pub struct FeedForwardWeights {
    pub w1: Mat, // C×F
    pub b1: Mat, // 1×F
    pub w2: Mat, // F×C
    pub b2: Mat, // 1×C
}

/// The learned parameters. The same struct also carries their gradients and Adam's moments,
/// which have exactly the same shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    pub embedding: Mat, // V×C
    pub position: Mat,  // context×C
    pub wq: Mat,        // C×C
    pub wk: Mat,        // C×C
    pub wv: Mat,        // C×C
    pub wo: Mat,        // C×C
    pub ffn: Option<FeedForwardWeights>,
    pub ln1: Option<LayerNormWeights>,
    pub ln2: Option<LayerNormWeights>,
    pub lnf: Option<LayerNormWeights>,
    pub unembedding: Mat, // C×V
}

/// Contract names of all weights, in the order the contract lists them.
pub const WEIGHT_NAMES: [&str; 17] = [
    "embedding",
    "position",
    "wq",
    "wk",
    "wv",
    "wo",
    "w1",
    "b1",
    "w2",
    "b2",
    "ln1Gain",
    "ln1Bias",
    "ln2Gain",
    "ln2Bias",
    "lnfGain",
    "lnfBias",
    "unembedding",
];

/// Vectors are stored as 1×n matrices but written to JSON as flat arrays.
pub fn is_vector(name: &str) -> bool {
    name.starts_with('b') || name.starts_with("ln")
}

impl Weights {
    /// The weights present in this model, with their contract names, in contract order. (An
    /// iterator over a fixed array, so walking the weights in a training step allocates nothing.)
    pub fn params(&self) -> impl Iterator<Item = (&'static str, &Mat)> {
        let f = self.ffn.as_ref();
        let (l1, l2, lf) = (self.ln1.as_ref(), self.ln2.as_ref(), self.lnf.as_ref());
        [
            Some(("embedding", &self.embedding)),
            Some(("position", &self.position)),
            Some(("wq", &self.wq)),
            Some(("wk", &self.wk)),
            Some(("wv", &self.wv)),
            Some(("wo", &self.wo)),
            f.map(|f| ("w1", &f.w1)),
            f.map(|f| ("b1", &f.b1)),
            f.map(|f| ("w2", &f.w2)),
            f.map(|f| ("b2", &f.b2)),
            l1.map(|l| ("ln1Gain", &l.gain)),
            l1.map(|l| ("ln1Bias", &l.bias)),
            l2.map(|l| ("ln2Gain", &l.gain)),
            l2.map(|l| ("ln2Bias", &l.bias)),
            lf.map(|l| ("lnfGain", &l.gain)),
            lf.map(|l| ("lnfBias", &l.bias)),
            Some(("unembedding", &self.unembedding)),
        ]
        .into_iter()
        .flatten()
    }

    /// Mutable twin of [`Weights::params`], same order.
    pub fn params_mut(&mut self) -> impl Iterator<Item = (&'static str, &mut Mat)> {
        let Weights {
            embedding,
            position,
            wq,
            wk,
            wv,
            wo,
            ffn,
            ln1,
            ln2,
            lnf,
            unembedding,
        } = self;
        let (w1, b1, w2, b2) = match ffn {
            Some(f) => (
                Some(&mut f.w1),
                Some(&mut f.b1),
                Some(&mut f.w2),
                Some(&mut f.b2),
            ),
            None => (None, None, None, None),
        };
        fn split(ln: &mut Option<LayerNormWeights>) -> (Option<&mut Mat>, Option<&mut Mat>) {
            match ln {
                Some(l) => (Some(&mut l.gain), Some(&mut l.bias)),
                None => (None, None),
            }
        }
        let ((g1, c1), (g2, c2), (gf, cf)) = (split(ln1), split(ln2), split(lnf));
        [
            ("embedding", Some(embedding)),
            ("position", Some(position)),
            ("wq", Some(wq)),
            ("wk", Some(wk)),
            ("wv", Some(wv)),
            ("wo", Some(wo)),
            ("w1", w1),
            ("b1", b1),
            ("w2", w2),
            ("b2", b2),
            ("ln1Gain", g1),
            ("ln1Bias", c1),
            ("ln2Gain", g2),
            ("ln2Bias", c2),
            ("lnfGain", gf),
            ("lnfBias", cf),
            ("unembedding", Some(unembedding)),
        ]
        .into_iter()
        .filter_map(|(name, m)| m.map(|m| (name, m)))
    }

    pub fn get(&self, name: &str) -> Option<&Mat> {
        self.params()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Mat> {
        self.params_mut()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m)
    }

    /// Same structure, every entry 0: the starting gradient and Adam's starting moments.
    pub fn zeros_like(&self) -> Weights {
        let mut z = self.clone();
        for (_, m) in z.params_mut() {
            m.fill(0.0);
        }
        z
    }

    /// Whether `other` has the same weights with the same shapes (a gradient or an Adam moment
    /// of these weights, or a buffer they can be copied into).
    pub fn same_shapes(&self, other: &Weights) -> bool {
        self.params()
            .map(|(n, m)| (n, m.shape()))
            .eq(other.params().map(|(n, m)| (n, m.shape())))
    }

    pub fn all_finite(&self) -> bool {
        self.params().all(|(_, m)| all_finite(m))
    }
}

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
}

/// What one weight must look like for a given configuration.
pub(crate) struct Spec {
    pub name: &'static str,
    pub rows: usize,
    pub cols: usize,
    pub meaning: &'static str,
}

/// The weights a configuration requires, with their shapes.
pub(crate) fn weight_specs(config: &Config, vocab_size: usize) -> Vec<Spec> {
    let (c, f, v) = (config.d_model, config.d_ff, vocab_size);
    let spec = |name, rows, cols, meaning| Spec {
        name,
        rows,
        cols,
        meaning,
    };
    let mut out = vec![
        spec("embedding", v, c, "vocab size × dModel"),
        spec("position", config.context, c, "context × dModel"),
        spec("wq", c, c, "dModel × dModel"),
        spec("wk", c, c, "dModel × dModel"),
        spec("wv", c, c, "dModel × dModel"),
        spec("wo", c, c, "dModel × dModel"),
    ];
    if f > 0 {
        out.extend([
            spec("w1", c, f, "dModel × dFf"),
            spec("b1", 1, f, "dFf"),
            spec("w2", f, c, "dFf × dModel"),
            spec("b2", 1, c, "dModel"),
        ]);
    }
    if config.layer_norm {
        out.extend([
            spec("ln1Gain", 1, c, "dModel"),
            spec("ln1Bias", 1, c, "dModel"),
        ]);
        if f > 0 {
            out.extend([
                spec("ln2Gain", 1, c, "dModel"),
                spec("ln2Bias", 1, c, "dModel"),
            ]);
        }
        out.extend([
            spec("lnfGain", 1, c, "dModel"),
            spec("lnfBias", 1, c, "dModel"),
        ]);
    }
    out.push(spec("unembedding", c, v, "dModel × vocab size"));
    out
}

/// Why a known weight name is not allowed for this configuration.
fn absent_reason(name: &str, config: &Config) -> String {
    let ffn = matches!(name, "w1" | "b1" | "w2" | "b2");
    let ln2 = name.starts_with("ln2");
    if ffn || (ln2 && config.d_ff == 0 && config.layer_norm) {
        "config.dFf is 0 (no feed-forward block)".to_string()
    } else {
        "config.layerNorm is false".to_string()
    }
}

impl Weights {
    /// Parses `weights` (or one of Adam's moments, which share the schema) for `config`.
    fn from_json(
        value: &Value,
        path: &str,
        config: &Config,
        vocab_size: usize,
    ) -> Result<Weights, ModelError> {
        let obj = json::object(value, path)?;
        let specs = weight_specs(config, vocab_size);
        // Known weights this configuration leaves out, in contract order, then unknown names.
        for name in WEIGHT_NAMES {
            if obj.contains_key(name) && !specs.iter().any(|s| s.name == name) {
                fail!(
                    "{path}.{name} is present but {}; remove it",
                    absent_reason(name, config)
                );
            }
        }
        if let Some(key) = obj.keys().find(|k| !WEIGHT_NAMES.contains(&k.as_str())) {
            fail!(
                "{path}.{} is not a weight of this model (expected: {})",
                json::quote(key).trim_matches('"'),
                specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
            );
        }
        let mut parsed: HashMap<&'static str, Mat> = HashMap::new();
        for s in &specs {
            let field = format!("{path}.{}", s.name);
            let expected = if is_vector(s.name) {
                format!("{} numbers ({})", s.cols, s.meaning)
            } else {
                format!("a {}×{} matrix ({})", s.rows, s.cols, s.meaning)
            };
            let v = json::required(obj, s.name, &field, &expected)?;
            let m = if is_vector(s.name) {
                json::vector(v, &field, s.cols, s.meaning)?
            } else {
                json::matrix(v, &field, s.rows, s.cols, s.meaning)?
            };
            parsed.insert(s.name, m);
        }
        // Every name below was required by `weight_specs`, so `take` only fails on a bug.
        let mut take = |name: &str| {
            parsed
                .remove(name)
                .ok_or_else(|| ModelError::new(format!("internal error: {path}.{name} not parsed")))
        };
        let ln = |take: &mut dyn FnMut(&str) -> Result<Mat, ModelError>, g: &str, b: &str| {
            Ok::<_, ModelError>(LayerNormWeights {
                gain: take(g)?,
                bias: take(b)?,
            })
        };
        let has_ffn = config.d_ff > 0;
        let has_ln = config.layer_norm;
        Ok(Weights {
            embedding: take("embedding")?,
            position: take("position")?,
            wq: take("wq")?,
            wk: take("wk")?,
            wv: take("wv")?,
            wo: take("wo")?,
            ffn: if has_ffn {
                Some(FeedForwardWeights {
                    w1: take("w1")?,
                    b1: take("b1")?,
                    w2: take("w2")?,
                    b2: take("b2")?,
                })
            } else {
                None
            },
            ln1: if has_ln {
                Some(ln(&mut take, "ln1Gain", "ln1Bias")?)
            } else {
                None
            },
            ln2: if has_ln && has_ffn {
                Some(ln(&mut take, "ln2Gain", "ln2Bias")?)
            } else {
                None
            },
            lnf: if has_ln {
                Some(ln(&mut take, "lnfGain", "lnfBias")?)
            } else {
                None
            },
            unembedding: take("unembedding")?,
        })
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
        Ok(State {
            vocab: vocab.names,
            eos,
            tokens,
            config,
            weights,
            optimizer,
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
        let index: HashMap<&str, usize> = self
            .vocab
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i))
            .collect();
        // `from_json` guarantees every token is in vocab; an unknown token maps to 0 only if a
        // caller built an invalid State by hand, and `validate` reports that.
        self.tokens
            .iter()
            .map(|t| index.get(t.as_str()).copied().unwrap_or(0))
            .collect()
    }

    pub fn eos_id(&self) -> Option<usize> {
        let eos = self.eos.as_ref()?;
        self.vocab.iter().position(|t| t == eos)
    }
}

fn parse_tokens(value: &Value, vocab: &Vocab, context: usize) -> Result<Vec<String>, ModelError> {
    let items = json::array(value, "tokens")?;
    if items.is_empty() {
        fail!("tokens is empty; the input needs at least one token");
    }
    if items.len() > context {
        fail!(
            "tokens has {} tokens but config.context is {context}; the input may be at most as long as the context",
            items.len()
        );
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("tokens[{i}]");
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

/// Writes `weights` (or a gradient, or a moment) in the contract's shape.
pub(crate) struct WeightsJson<'a>(pub &'a Weights);

impl Serialize for WeightsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.params().count()))?;
        for (name, m) in self.0.params() {
            if is_vector(name) {
                map.serialize_entry(name, &Flat(m))?;
            } else {
                map.serialize_entry(name, &Rows(m))?;
            }
        }
        map.end()
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn all_finite_finds_a_nan_or_infinity_anywhere() {
        // 7 entries: a chunk of four and a remainder of three.
        let finite = Mat::from_fn(7, 1, |i, _| {
            [0.0, -0.0, 1e308, -1e308, 5e-324, 3.5, -2.0][i]
        });
        assert!(all_finite(&finite));
        assert!(all_finite(&Mat::zeros(0, 3)));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for i in 0..7 {
                let mut m = finite.clone();
                m[(i, 0)] = bad;
                assert!(!all_finite(&m), "{bad} at {i}");
            }
        }
    }
}
