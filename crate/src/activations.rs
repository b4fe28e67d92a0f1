//! Every intermediate of the forward pass (and, with the same shapes, its gradient), by the
//! contract's names; see model.rs for the formulas and shapes.

use crate::json::{Causal, Rows, Stack};
use crate::mat::{all_finite, Mat};
use crate::state::State;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The feed-forward block's activations, present when F > 0.
#[derive(Clone, Debug, PartialEq)]
pub struct MlpActivations {
    pub mlp_in: Mat,  // T×C
    pub u: Mat,       // T×F
    pub hidden: Mat,  // T×F
    pub mlp_out: Mat, // T×C
}

/// Every intermediate of the forward pass (or, in [`Backward`], the gradient of L with respect to
/// each of them: same struct, same shapes).
#[derive(Clone, Debug, PartialEq)]
pub struct Activations {
    pub x: Mat,              // T×C
    pub attn_in: Mat,        // T×C
    pub q: Mat,              // T×C
    pub k: Mat,              // T×C
    pub v: Mat,              // T×C
    pub scores: Vec<Mat>,    // H×T×T, masked entries unused
    pub attention: Vec<Mat>, // H×T×T, masked entries 0
    pub z: Mat,              // T×C
    pub attn_out: Mat,       // T×C
    pub x1: Mat,             // T×C
    pub mlp: Option<MlpActivations>,
    pub x2: Mat,     // T×C
    pub xf: Mat,     // T×C
    pub logits: Mat, // T×V
    pub probs: Mat,  // T×V
}

/// A borrowed activation: one T×n matrix, or H causal T×T matrices.
#[derive(Clone, Copy)]
pub enum ActivationRef<'a> {
    Matrix(&'a Mat),
    Heads(&'a [Mat]),
}

/// Contract names of all activations, in the contract's order.
pub const ACTIVATION_NAMES: [&str; 18] = [
    "x",
    "attnIn",
    "q",
    "k",
    "v",
    "scores",
    "attention",
    "z",
    "attnOut",
    "x1",
    "mlpIn",
    "u",
    "hidden",
    "mlpOut",
    "x2",
    "xf",
    "logits",
    "probs",
];

impl Activations {
    /// Zero-filled buffers for a model of these sizes.
    pub(crate) fn zeros(d: &Dims) -> Activations {
        let tc = || Mat::zeros(d.t, d.c);
        let heads = || vec![Mat::zeros(d.t, d.t); d.h];
        Activations {
            x: tc(),
            attn_in: tc(),
            q: tc(),
            k: tc(),
            v: tc(),
            scores: heads(),
            attention: heads(),
            z: tc(),
            attn_out: tc(),
            x1: tc(),
            mlp: (d.f > 0).then(|| MlpActivations {
                mlp_in: tc(),
                u: Mat::zeros(d.t, d.f),
                hidden: Mat::zeros(d.t, d.f),
                mlp_out: tc(),
            }),
            x2: tc(),
            xf: tc(),
            logits: Mat::zeros(d.t, d.v),
            probs: Mat::zeros(d.t, d.v),
        }
    }

    /// The activations present in this model with their contract names, in order. (An iterator
    /// over a fixed array: walking it allocates nothing.)
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, ActivationRef<'_>)> {
        use ActivationRef::{Heads, Matrix};
        let m = self.mlp.as_ref();
        [
            Some(("x", Matrix(&self.x))),
            Some(("attnIn", Matrix(&self.attn_in))),
            Some(("q", Matrix(&self.q))),
            Some(("k", Matrix(&self.k))),
            Some(("v", Matrix(&self.v))),
            Some(("scores", Heads(&self.scores))),
            Some(("attention", Heads(&self.attention))),
            Some(("z", Matrix(&self.z))),
            Some(("attnOut", Matrix(&self.attn_out))),
            Some(("x1", Matrix(&self.x1))),
            m.map(|m| ("mlpIn", Matrix(&m.mlp_in))),
            m.map(|m| ("u", Matrix(&m.u))),
            m.map(|m| ("hidden", Matrix(&m.hidden))),
            m.map(|m| ("mlpOut", Matrix(&m.mlp_out))),
            Some(("x2", Matrix(&self.x2))),
            Some(("xf", Matrix(&self.xf))),
            Some(("logits", Matrix(&self.logits))),
            Some(("probs", Matrix(&self.probs))),
        ]
        .into_iter()
        .flatten()
    }

    pub fn get(&self, name: &str) -> Option<ActivationRef<'_>> {
        self.entries().find(|(n, _)| *n == name).map(|(_, a)| a)
    }

    /// The first activation holding a NaN or infinity, if any.
    pub(crate) fn first_non_finite(&self) -> Option<&'static str> {
        self.entries().find_map(|(name, a)| {
            let finite = match a {
                ActivationRef::Matrix(m) => all_finite(m),
                ActivationRef::Heads(hs) => hs.iter().all(all_finite),
            };
            (!finite).then_some(name)
        })
    }
}

impl Serialize for Activations {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.entries().count()))?;
        for (name, a) in self.entries() {
            match a {
                ActivationRef::Matrix(m) => map.serialize_entry(name, &Rows(m))?,
                // Masked scores do not exist; masked attention weights are the number 0.
                ActivationRef::Heads(hs) if name == "scores" => {
                    map.serialize_entry(name, &Causal(hs))?
                }
                ActivationRef::Heads(hs) => map.serialize_entry(name, &Stack(hs))?,
            }
        }
        map.end()
    }
}

/// The sizes that fix every buffer of a workspace (model.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dims {
    pub t: usize,
    pub v: usize,
    pub c: usize,
    pub h: usize,
    pub f: usize,
    pub context: usize,
    pub layer_norm: bool,
}

impl Dims {
    pub fn of(state: &State) -> Dims {
        let cfg = &state.config;
        Dims {
            t: state.tokens.len(),
            v: state.vocab.len(),
            c: cfg.d_model,
            h: cfg.n_heads,
            f: cfg.d_ff,
            context: cfg.context,
            layer_norm: cfg.layer_norm,
        }
    }
}
