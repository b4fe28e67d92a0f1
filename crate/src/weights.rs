//! The learned parameters: their structs, the registry of their names and shapes, and their JSON.

use crate::config::Config;
use crate::error::{fail, ModelError};
use crate::json::{self, Flat, Rows};
use crate::mat::{all_finite, Mat};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use std::collections::HashMap;

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
    pub(crate) fn from_json(
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
