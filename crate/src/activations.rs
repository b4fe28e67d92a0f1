//! Every intermediate of the forward pass (and, with the same shapes, its gradient), by the
//! contract's names; see model.rs for the formulas and shapes.

use crate::json::{Causal, Rows, Stack};
use crate::mat::{all_finite, Mat};
use crate::state::State;
use serde::ser::{Serialize, SerializeMap, Serializer};
use ActivationRef::{Heads, Matrix};

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

/// The size of an activation's rows or columns: positions, a configuration size, or the
/// vocabulary. Scores and attention are one T×T matrix per head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ADim {
    Positions,
    Model,
    /// dModel columns in one block per attention head (Q, K, V and Z).
    Heads,
    Ff,
    Vocab,
}

impl ADim {
    pub fn name(self) -> &'static str {
        match self {
            ADim::Positions => "T",
            ADim::Model | ADim::Heads => "dModel",
            ADim::Ff => "dFf",
            ADim::Vocab => "vocab size",
        }
    }

    fn size(self, d: &Dims) -> usize {
        match self {
            ADim::Positions => d.t,
            ADim::Model | ADim::Heads => d.c,
            ADim::Ff => d.f,
            ADim::Vocab => d.v,
        }
    }
}

/// One activation of the forward pass: the registry's row.
pub struct ActivationDef {
    pub name: &'static str,
    pub rows: ADim,
    pub cols: ADim,
    /// One matrix per head (scores, attention).
    pub per_head: bool,
    /// Only with a feed-forward block.
    pub feed_forward: bool,
    /// The module whose forward pass writes it.
    pub layer: &'static str,
    get: for<'a> fn(&'a Activations) -> Option<ActivationRef<'a>>,
}

impl ActivationDef {
    /// [heads, rows, cols] or [rows, cols] for a model of these sizes.
    pub(crate) fn shape(&self, d: &Dims) -> Vec<usize> {
        let (r, c) = (self.rows.size(d), self.cols.size(d));
        if self.per_head {
            vec![d.h, r, c]
        } else {
            vec![r, c]
        }
    }
}

macro_rules! activation {
    ($name:literal, $rows:ident by $cols:ident, $layer:literal, |$a:ident| $get:expr) => {
        ActivationDef {
            name: $name,
            rows: ADim::$rows,
            cols: ADim::$cols,
            per_head: false,
            feed_forward: false,
            layer: $layer,
            get: |$a| $get,
        }
    };
    ($name:literal, heads of $rows:ident by $cols:ident, $layer:literal, |$a:ident| $get:expr) => {
        ActivationDef {
            name: $name,
            rows: ADim::$rows,
            cols: ADim::$cols,
            per_head: true,
            feed_forward: false,
            layer: $layer,
            get: |$a| $get,
        }
    };
    ($name:literal, feed-forward $rows:ident by $cols:ident, $layer:literal, |$a:ident| $get:expr) => {
        ActivationDef {
            name: $name,
            rows: ADim::$rows,
            cols: ADim::$cols,
            per_head: false,
            feed_forward: true,
            layer: $layer,
            get: |$a| $get,
        }
    };
}

/// Every activation, in the order the forward pass computes them: the one list of their names,
/// shapes and owners.
pub const ACTIVATIONS: [ActivationDef; 18] = [
    activation!("x", Positions by Model, "embedding", |a| Some(Matrix(&a.x))),
    activation!("attnIn", Positions by Model, "layernorm", |a| Some(Matrix(&a.attn_in))),
    activation!("q", Positions by Heads, "attention", |a| Some(Matrix(&a.q))),
    activation!("k", Positions by Heads, "attention", |a| Some(Matrix(&a.k))),
    activation!("v", Positions by Heads, "attention", |a| Some(Matrix(&a.v))),
    activation!("scores", heads of Positions by Positions, "attention", |a| Some(Heads(&a.scores))),
    activation!("attention", heads of Positions by Positions, "attention", |a| Some(Heads(&a.attention))),
    activation!("z", Positions by Heads, "attention", |a| Some(Matrix(&a.z))),
    activation!("attnOut", Positions by Model, "attention", |a| Some(Matrix(&a.attn_out))),
    activation!("x1", Positions by Model, "residual", |a| Some(Matrix(&a.x1))),
    activation!("mlpIn", feed-forward Positions by Model, "layernorm", |a| a.mlp.as_ref().map(|m| Matrix(&m.mlp_in))),
    activation!("u", feed-forward Positions by Ff, "feedforward", |a| a.mlp.as_ref().map(|m| Matrix(&m.u))),
    activation!("hidden", feed-forward Positions by Ff, "feedforward", |a| a.mlp.as_ref().map(|m| Matrix(&m.hidden))),
    activation!("mlpOut", feed-forward Positions by Model, "feedforward", |a| a.mlp.as_ref().map(|m| Matrix(&m.mlp_out))),
    activation!("x2", Positions by Model, "residual", |a| Some(Matrix(&a.x2))),
    activation!("xf", Positions by Model, "layernorm", |a| Some(Matrix(&a.xf))),
    activation!("logits", Positions by Vocab, "unembedding", |a| Some(Matrix(&a.logits))),
    activation!("probs", Positions by Vocab, "unembedding", |a| Some(Matrix(&a.probs))),
];

/// Contract names of all activations, in the contract's order (from `ACTIVATIONS`).
pub const ACTIVATION_NAMES: [&str; 18] = {
    let mut names = [""; 18];
    let mut i = 0;
    while i < names.len() {
        names[i] = ACTIVATIONS[i].name;
        i += 1;
    }
    names
};

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
    /// over the registry: walking it allocates nothing.)
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, ActivationRef<'_>)> {
        ACTIVATIONS
            .iter()
            .filter_map(move |d| (d.get)(self).map(|a| (d.name, a)))
    }

    pub fn get(&self, name: &str) -> Option<ActivationRef<'_>> {
        self.entries().find(|(n, _)| *n == name).map(|(_, a)| a)
    }

    /// Multiplies every entry by `k` (a batch's gradient counts each copy of the shown sequence).
    pub(crate) fn scale(&mut self, k: f64) {
        let mats = [
            &mut self.x,
            &mut self.attn_in,
            &mut self.q,
            &mut self.k,
            &mut self.v,
            &mut self.z,
            &mut self.attn_out,
            &mut self.x1,
            &mut self.x2,
            &mut self.xf,
            &mut self.logits,
            &mut self.probs,
        ];
        let heads = self.scores.iter_mut().chain(self.attention.iter_mut());
        let mlp = self
            .mlp
            .iter_mut()
            .flat_map(|m| [&mut m.mlp_in, &mut m.u, &mut m.hidden, &mut m.mlp_out]);
        for m in mats.into_iter().chain(heads).chain(mlp) {
            *m *= k;
        }
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
