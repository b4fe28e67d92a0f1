//! The learned parameters: their structs, the registry of their names and shapes, and their JSON.

use crate::config::Config;
use crate::error::{fail, ModelError};
use crate::json::{self, Flat, Rows};
use crate::mat::{all_finite, Mat};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

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

/// Which size of the configuration a weight's rows or columns have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    Vocab,
    Context,
    Model,
    /// dModel columns in one block per attention head, each head reading its own d_model/H
    /// (the columns of W_Q, W_K, W_V).
    Heads,
    Ff,
    /// A vector: one row (written to JSON as a flat array).
    One,
}

impl Dim {
    pub fn size(self, config: &Config, vocab_size: usize) -> usize {
        match self {
            Dim::Vocab => vocab_size,
            Dim::Context => config.context,
            Dim::Model | Dim::Heads => config.d_model,
            Dim::Ff => config.d_ff,
            Dim::One => 1,
        }
    }

    /// The size's name in messages and in `schema`.
    pub fn name(self) -> &'static str {
        match self {
            Dim::Vocab => "vocab size",
            Dim::Context => "context",
            Dim::Model | Dim::Heads => "dModel",
            Dim::Ff => "dFf",
            Dim::One => "1",
        }
    }
}

/// When a configuration has a weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Always,
    /// config.dFf > 0.
    FeedForward,
    /// config.layerNorm.
    LayerNorm,
    /// Both: layer norm 2 sits in front of the feed-forward block.
    LayerNormAndFeedForward,
}

impl Presence {
    pub fn holds(self, config: &Config) -> bool {
        let (ffn, ln) = (config.d_ff > 0, config.layer_norm);
        match self {
            Presence::Always => true,
            Presence::FeedForward => ffn,
            Presence::LayerNorm => ln,
            Presence::LayerNormAndFeedForward => ln && ffn,
        }
    }

    /// Why a configuration leaves the weight out (when `holds` is false).
    fn absent_reason(self, config: &Config) -> &'static str {
        let no_ffn = "config.dFf is 0 (no feed-forward block)";
        match self {
            Presence::FeedForward => no_ffn,
            Presence::LayerNormAndFeedForward if config.layer_norm => no_ffn,
            _ => "config.layerNorm is false",
        }
    }
}

/// How a weight of a new model starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Normal with standard deviation 1/√fan_in (its row count), as a product x·W keeps the
    /// scale of x.
    Scaled,
    /// Normal with standard deviation 1: a table whose rows are looked up, not multiplied.
    Lookup,
    /// All 1: a layer norm's gain, which starts by passing the normalised value on.
    Ones,
    /// All 0: a bias.
    Zeros,
}

/// One weight of the model: the registry's row.
pub struct WeightDef {
    pub name: &'static str,
    pub rows: Dim,
    pub cols: Dim,
    pub presence: Presence,
    /// The module whose forward pass reads it (and whose backward pass writes its gradient).
    pub layer: &'static str,
    /// How a new model's weight starts (`corpusState`).
    pub init: Init,
    get: fn(&Weights) -> Option<&Mat>,
    get_mut: fn(&mut Weights) -> Option<&mut Mat>,
}

impl WeightDef {
    pub fn is_vector(&self) -> bool {
        self.rows == Dim::One
    }

    /// "dModel × dFf", or "dFf" for a vector.
    pub fn shape_words(&self) -> String {
        if self.is_vector() {
            self.cols.name().to_string()
        } else {
            format!("{} × {}", self.rows.name(), self.cols.name())
        }
    }
}

macro_rules! weight {
    ($name:literal, $rows:ident by $cols:ident, $presence:ident, $layer:literal, $init:ident, |$w:ident| $field:expr, |$m:ident| $field_mut:expr) => {
        WeightDef {
            name: $name,
            rows: Dim::$rows,
            cols: Dim::$cols,
            presence: Presence::$presence,
            layer: $layer,
            init: Init::$init,
            get: |$w| $field,
            get_mut: |$m| $field_mut,
        }
    };
}

/// Every weight, in the contract's order: the one list of their names, shapes and owners. The
/// JSON reader and writer, validation, `Model`'s accessors and `schema` all read it.
pub const WEIGHTS: [WeightDef; 17] = [
    weight!("embedding", Vocab by Model, Always, "embedding", Lookup, |w| Some(&w.embedding), |w| Some(&mut w.embedding)),
    weight!("position", Context by Model, Always, "embedding", Lookup, |w| Some(&w.position), |w| Some(&mut w.position)),
    weight!("wq", Model by Heads, Always, "attention", Scaled, |w| Some(&w.wq), |w| Some(&mut w.wq)),
    weight!("wk", Model by Heads, Always, "attention", Scaled, |w| Some(&w.wk), |w| Some(&mut w.wk)),
    weight!("wv", Model by Heads, Always, "attention", Scaled, |w| Some(&w.wv), |w| Some(&mut w.wv)),
    weight!("wo", Model by Model, Always, "attention", Scaled, |w| Some(&w.wo), |w| Some(&mut w.wo)),
    weight!("w1", Model by Ff, FeedForward, "feedforward", Scaled, |w| w.ffn.as_ref().map(|f| &f.w1), |w| w.ffn.as_mut().map(|f| &mut f.w1)),
    weight!("b1", One by Ff, FeedForward, "feedforward", Zeros, |w| w.ffn.as_ref().map(|f| &f.b1), |w| w.ffn.as_mut().map(|f| &mut f.b1)),
    weight!("w2", Ff by Model, FeedForward, "feedforward", Scaled, |w| w.ffn.as_ref().map(|f| &f.w2), |w| w.ffn.as_mut().map(|f| &mut f.w2)),
    weight!("b2", One by Model, FeedForward, "feedforward", Zeros, |w| w.ffn.as_ref().map(|f| &f.b2), |w| w.ffn.as_mut().map(|f| &mut f.b2)),
    weight!("ln1Gain", One by Model, LayerNorm, "layernorm", Ones, |w| w.ln1.as_ref().map(|l| &l.gain), |w| w.ln1.as_mut().map(|l| &mut l.gain)),
    weight!("ln1Bias", One by Model, LayerNorm, "layernorm", Zeros, |w| w.ln1.as_ref().map(|l| &l.bias), |w| w.ln1.as_mut().map(|l| &mut l.bias)),
    weight!("ln2Gain", One by Model, LayerNormAndFeedForward, "layernorm", Ones, |w| w.ln2.as_ref().map(|l| &l.gain), |w| w.ln2.as_mut().map(|l| &mut l.gain)),
    weight!("ln2Bias", One by Model, LayerNormAndFeedForward, "layernorm", Zeros, |w| w.ln2.as_ref().map(|l| &l.bias), |w| w.ln2.as_mut().map(|l| &mut l.bias)),
    weight!("lnfGain", One by Model, LayerNorm, "layernorm", Ones, |w| w.lnf.as_ref().map(|l| &l.gain), |w| w.lnf.as_mut().map(|l| &mut l.gain)),
    weight!("lnfBias", One by Model, LayerNorm, "layernorm", Zeros, |w| w.lnf.as_ref().map(|l| &l.bias), |w| w.lnf.as_mut().map(|l| &mut l.bias)),
    weight!("unembedding", Model by Vocab, Always, "unembedding", Scaled, |w| Some(&w.unembedding), |w| Some(&mut w.unembedding)),
];

/// Contract names of all weights, in the order the contract lists them (from `WEIGHTS`).
pub const WEIGHT_NAMES: [&str; 17] = {
    let mut names = [""; 17];
    let mut i = 0;
    while i < names.len() {
        names[i] = WEIGHTS[i].name;
        i += 1;
    }
    names
};

/// The registry's row for a weight name.
pub fn def(name: &str) -> Option<&'static WeightDef> {
    WEIGHTS.iter().find(|d| d.name == name)
}

/// Vectors are stored as 1×n matrices but written to JSON as flat arrays.
pub fn is_vector(name: &str) -> bool {
    def(name).is_some_and(WeightDef::is_vector)
}

impl Weights {
    /// The weights present in this model, with their contract names, in contract order. (An
    /// iterator over the registry, so walking the weights in a training step allocates nothing.)
    pub fn params(&self) -> impl Iterator<Item = (&'static str, &Mat)> {
        WEIGHTS
            .iter()
            .filter_map(move |d| (d.get)(self).map(|m| (d.name, m)))
    }

    /// Each present weight of `self` with the same weight of `other` (same structure), mutably:
    /// an update, a gradient step, a copy.
    pub fn zip_mut(&mut self, other: &Weights, mut f: impl FnMut(&'static str, &mut Mat, &Mat)) {
        for d in &WEIGHTS {
            if let (Some(a), Some(b)) = ((d.get_mut)(self), (d.get)(other)) {
                f(d.name, a, b);
            }
        }
    }

    /// Mutable twin of [`Weights::params`], same order. The borrow checker cannot hand out the
    /// registry's accessors' borrows all at once, so the fields are listed here in the registry's
    /// order and named from it (`params_mut_follows_the_registry` checks the order).
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
        let fields = [
            Some(embedding),
            Some(position),
            Some(wq),
            Some(wk),
            Some(wv),
            Some(wo),
            w1,
            b1,
            w2,
            b2,
            g1,
            c1,
            g2,
            c2,
            gf,
            cf,
            Some(unembedding),
        ];
        WEIGHT_NAMES
            .into_iter()
            .zip(fields)
            .filter_map(|(name, m)| m.map(|m| (name, m)))
    }

    pub fn get(&self, name: &str) -> Option<&Mat> {
        def(name).and_then(|d| (d.get)(self))
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Mat> {
        def(name).and_then(|d| (d.get_mut)(self))
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

/// What one weight must look like for a given configuration.
pub(crate) struct Spec {
    pub name: &'static str,
    pub rows: usize,
    pub cols: usize,
    pub meaning: String,
}

/// The weights a configuration requires, with their shapes, in contract order.
pub(crate) fn weight_specs(config: &Config, vocab_size: usize) -> Vec<Spec> {
    WEIGHTS
        .iter()
        .filter(|d| d.presence.holds(config))
        .map(|d| Spec {
            name: d.name,
            rows: d.rows.size(config, vocab_size),
            cols: d.cols.size(config, vocab_size),
            meaning: d.shape_words(),
        })
        .collect()
}

impl Weights {
    /// Parses `weights` (or one of Adam's moments, which share the schema) for `config`.
    pub(crate) fn from_json(
        value: &Value,
        path: &str,
        config: &Config,
        vocab_size: usize,
    ) -> Result<Weights, ModelError> {
        let obj = json::object(value, path)?;
        let specs = weight_specs(config, vocab_size);
        // Known weights this configuration leaves out, in contract order, then unknown names.
        for d in &WEIGHTS {
            if obj.contains_key(d.name) && !d.presence.holds(config) {
                fail!(
                    "{path}.{} is present but {}; remove it",
                    d.name,
                    d.presence.absent_reason(config)
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
        let mut weights = Weights::zeros(config, vocab_size);
        for s in &specs {
            let field = format!("{path}.{}", s.name);
            let vector = is_vector(s.name);
            let expected = if vector {
                format!("{} numbers ({})", s.cols, s.meaning)
            } else {
                format!("a {}×{} matrix ({})", s.rows, s.cols, s.meaning)
            };
            let v = json::required(obj, s.name, &field, &expected)?;
            let m = if vector {
                json::vector(v, &field, s.cols, &s.meaning)?
            } else {
                json::matrix(v, &field, s.rows, s.cols, &s.meaning)?
            };
            // `zeros` made every weight `weight_specs` lists, so this only fails on a bug.
            let slot = weights
                .get_mut(s.name)
                .ok_or_else(|| ModelError::new(format!("internal error: {field} has no place")))?;
            *slot = m;
        }
        Ok(weights)
    }

    /// Every weight `config` has, at its shape, filled with 0.
    pub fn zeros(config: &Config, vocab_size: usize) -> Weights {
        let (v, c, f) = (vocab_size, config.d_model, config.d_ff);
        let ln = || LayerNormWeights {
            gain: Mat::zeros(1, c),
            bias: Mat::zeros(1, c),
        };
        let has_ln = config.layer_norm;
        Weights {
            embedding: Mat::zeros(v, c),
            position: Mat::zeros(config.context, c),
            wq: Mat::zeros(c, c),
            wk: Mat::zeros(c, c),
            wv: Mat::zeros(c, c),
            wo: Mat::zeros(c, c),
            ffn: (f > 0).then(|| FeedForwardWeights {
                w1: Mat::zeros(c, f),
                b1: Mat::zeros(1, f),
                w2: Mat::zeros(f, c),
                b2: Mat::zeros(1, c),
            }),
            ln1: has_ln.then(ln),
            ln2: (has_ln && f > 0).then(ln),
            lnf: has_ln.then(ln),
            unembedding: Mat::zeros(c, v),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn config(d_ff: usize, layer_norm: bool) -> Config {
        Config {
            d_model: 3,
            n_heads: 1,
            d_ff,
            layer_norm,
            activation: crate::config::Activation::Relu,
            context: 5,
        }
    }

    #[test]
    fn zeros_has_exactly_the_registry_s_weights_at_their_shapes() {
        for (d_ff, ln) in [(0, false), (0, true), (4, false), (4, true)] {
            let cfg = config(d_ff, ln);
            let w = Weights::zeros(&cfg, 7);
            let got: Vec<_> = w.params().map(|(n, m)| (n, m.shape())).collect();
            let want: Vec<_> = weight_specs(&cfg, 7)
                .iter()
                .map(|s| (s.name, (s.rows, s.cols)))
                .collect();
            assert_eq!(got, want, "dFf {d_ff}, layer norm {ln}");
            let mut w = w;
            let names: Vec<_> = w.params_mut().map(|(n, _)| n).collect();
            assert_eq!(names, want.iter().map(|(n, _)| *n).collect::<Vec<_>>());
        }
    }

    /// Each matrix `params_mut` names is the one the registry's accessor reaches by that name:
    /// a field listed out of order there would be trained, initialised or saved as another weight.
    #[test]
    fn params_mut_follows_the_registry() {
        for (d_ff, ln) in [(0, false), (0, true), (4, false), (4, true)] {
            let mut w = Weights::zeros(&config(d_ff, ln), 7);
            let named: Vec<(&str, *const Mat)> =
                w.params_mut().map(|(n, m)| (n, m as *const Mat)).collect();
            assert!(!named.is_empty());
            for (name, ptr) in named {
                assert!(
                    w.get(name).is_some_and(|m| std::ptr::eq(ptr, m)),
                    "{name}, dFf {d_ff}, layer norm {ln}"
                );
            }
        }
    }
}
