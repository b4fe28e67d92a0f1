//! Explaining one gradient entry: the chain-rule sum that produces it, with the actual numbers,
//! and an independent numerical check of it by central finite differences.
//!
//! The page shows these when a reader clicks a gradient cell; it never computes them itself.
//! Each layer module explains its own entries beside its backward code (see explain.rs for the
//! shape of an answer); this module only knows which layer explains which matrix, in two
//! tables, and hands it the numbers of one forward and backward pass.

use crate::activations::{Activations, MlpActivations};
use crate::cell::Cell;
use crate::error::{fail, ModelError};
use crate::explain::{self, Explained, Named, Positions, Term};
use crate::model::{self, Backward, Workspace};
use crate::residual::{self, Norm};
use crate::state::State;
use crate::weights::{LayerNormWeights, Weights};
use crate::{attention, embedding, feedforward, layernorm, loss};
use serde::Serialize;

/// The sum behind one gradient entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Derivation {
    /// The value `backward` reports for the cell.
    pub gradient: f64,
    pub terms: Vec<Term>,
    /// Σ terms; equal to `gradient` up to rounding.
    pub total: f64,
    /// Why the sum is empty or has a special form, in plain words (may be empty).
    pub note: String,
}

/// One forward and backward pass of the state, and the entry asked about: [h][i][j] for a
/// head's scores or attention, [i][j] otherwise (i = 0 for a vector).
struct Ctx<'a> {
    state: &'a State,
    trace: &'a Workspace,
    p: Positions<'a>,
    h: usize,
    i: usize,
    j: usize,
}

type Explainer = fn(&Ctx) -> Result<Explained, ModelError>;

fn no_mlp() -> ModelError {
    ModelError::new("this model has no feed-forward block (config.dFf is 0)")
}

fn no_ln() -> ModelError {
    ModelError::new("this model has no layer norm (config.layerNorm is false)")
}

impl<'a> Ctx<'a> {
    fn a(&self) -> &'a Activations {
        &self.trace.acts
    }
    fn ga(&self) -> &'a Activations {
        &self.trace.grad.activations
    }
    fn g(&self) -> &'a Backward {
        &self.trace.grad
    }
    fn w(&self) -> &'a Weights {
        &self.state.weights
    }
    fn mlp(&self) -> Result<(&'a MlpActivations, &'a MlpActivations), ModelError> {
        Ok((
            self.a().mlp.as_ref().ok_or_else(no_mlp)?,
            self.ga().mlp.as_ref().ok_or_else(no_mlp)?,
        ))
    }
    fn head_size(&self) -> usize {
        self.state.config.head_size()
    }
    /// The gradient `backward` reports for weight `name` at the entry.
    fn weight_grad(&self, name: &str) -> f64 {
        self.g()
            .weights
            .get(name)
            .map(|m| m[(self.i, self.j)])
            .unwrap_or(0.0)
    }
    /// Σ_t a[t][i]·∇out[t][j] for the weight `name` of `out = a·W`.
    fn outer(&self, name: &str, a: Named, d_out: Named) -> Result<Explained, ModelError> {
        Ok(Explained::new(
            explain::outer(&self.p, a, d_out, self.i, self.j),
            self.weight_grad(name),
        ))
    }
    fn column(&self, name: &str, d_out: Named) -> Result<Explained, ModelError> {
        Ok(Explained::new(
            explain::column(&self.p, d_out, self.j),
            self.weight_grad(name),
        ))
    }
    fn back_through(
        &self,
        d_out: Named,
        w: Named,
        d_in: &crate::mat::Mat,
    ) -> Result<Explained, ModelError> {
        Ok(Explained::new(
            explain::back_through(d_out, w, self.i, self.j),
            d_in[(self.i, self.j)],
        ))
    }
    /// The layer norm `ln` with its weights and cache, when the model has it.
    fn norm(
        &self,
        ln: &'static str,
        gain: &'static str,
        w: &'a Option<LayerNormWeights>,
        cache: &'a Option<layernorm::Cache>,
    ) -> Option<Norm<'a>> {
        match (w, cache) {
            (Some(w), Some(cache)) => Some(Norm {
                ln,
                gain: (gain, &w.gain),
                cache,
            }),
            _ => None,
        }
    }
    /// A layer norm's gain or bias: (which norm, the gradient at its output).
    fn norm_weight(&self, name: &str) -> Result<Explained, ModelError> {
        let (ln, out, cache): (&'static str, Named, _) = match &name[..3] {
            "ln1" => ("ln1", ("attnIn", &self.ga().attn_in), &self.trace.ln1),
            "ln2" => ("ln2", ("mlpIn", &self.mlp()?.1.mlp_in), &self.trace.ln2),
            _ => ("lnf", ("xf", &self.ga().xf), &self.trace.lnf),
        };
        let cache = cache.as_ref().ok_or_else(no_ln)?;
        if name.ends_with("Gain") {
            Ok(Explained::new(
                layernorm::explain_gain(&self.p, ln, out, cache, self.j),
                self.weight_grad(name),
            ))
        } else {
            self.column(name, out)
        }
    }
}

/// Which layer explains each weight's gradient.
const WEIGHTS: [(&str, Explainer); 17] = [
    ("embedding", |c| {
        let (g, w) = (c.g(), &c.state.vocab);
        Ok(embedding::explain_embedding(
            &c.p,
            w,
            &c.trace.ids,
            &g.activations.x,
            &g.weights.embedding,
            c.i,
            c.j,
        ))
    }),
    ("position", |c| {
        Ok(embedding::explain_position(
            &c.p,
            &c.ga().x,
            &c.g().weights.position,
            c.i,
            c.j,
        ))
    }),
    ("ln1Gain", |c| c.norm_weight("ln1Gain")),
    ("ln1Bias", |c| c.norm_weight("ln1Bias")),
    ("wq", |c| {
        c.outer("wq", ("attnIn", &c.a().attn_in), ("q", &c.ga().q))
    }),
    ("wk", |c| {
        c.outer("wk", ("attnIn", &c.a().attn_in), ("k", &c.ga().k))
    }),
    ("wv", |c| {
        c.outer("wv", ("attnIn", &c.a().attn_in), ("v", &c.ga().v))
    }),
    ("wo", |c| {
        c.outer("wo", ("z", &c.a().z), ("attnOut", &c.ga().attn_out))
    }),
    ("ln2Gain", |c| c.norm_weight("ln2Gain")),
    ("ln2Bias", |c| c.norm_weight("ln2Bias")),
    ("w1", |c| {
        let (m, gm) = c.mlp()?;
        c.outer("w1", ("mlpIn", &m.mlp_in), ("u", &gm.u))
    }),
    ("b1", |c| c.column("b1", ("u", &c.mlp()?.1.u))),
    ("w2", |c| {
        let (m, gm) = c.mlp()?;
        c.outer("w2", ("hidden", &m.hidden), ("mlpOut", &gm.mlp_out))
    }),
    ("b2", |c| c.column("b2", ("mlpOut", &c.mlp()?.1.mlp_out))),
    ("lnfGain", |c| c.norm_weight("lnfGain")),
    ("lnfBias", |c| c.norm_weight("lnfBias")),
    ("unembedding", |c| {
        c.outer("unembedding", ("xf", &c.a().xf), ("logits", &c.ga().logits))
    }),
];

/// Which layer explains each activation's gradient, from the loss back to the input.
const ACTIVATIONS: [(&str, Explainer); 18] = [
    ("probs", |c| {
        let t = c.trace;
        Ok(loss::explain_probs(
            &c.p,
            &c.state.vocab,
            &c.a().probs,
            &c.ga().probs,
            loss::Targets {
                of: &t.targets,
                count: t.count,
            },
            c.i,
            c.j,
        ))
    }),
    ("logits", |c| {
        Ok(loss::explain_logits(
            &c.a().probs,
            &c.ga().logits,
            loss::Targets {
                of: &c.trace.targets,
                count: c.trace.count,
            },
            c.i,
            c.j,
        ))
    }),
    ("xf", |c| {
        c.back_through(
            ("logits", &c.ga().logits),
            ("unembedding", &c.w().unembedding),
            &c.ga().xf,
        )
    }),
    ("x2", |c| {
        let norm = c.norm("lnf", "lnfGain", &c.w().lnf, &c.trace.lnf);
        Ok(residual::explain_last(
            norm,
            ("xf", &c.ga().xf),
            &c.ga().x2,
            c.i,
            c.j,
        ))
    }),
    ("mlpOut", |c| {
        Ok(residual::explain_sum(
            ("x2", &c.ga().x2),
            &c.mlp()?.1.mlp_out,
            c.i,
            c.j,
        ))
    }),
    ("hidden", |c| {
        let ffn = c.w().ffn.as_ref().ok_or_else(no_mlp)?;
        let gm = c.mlp()?.1;
        c.back_through(("mlpOut", &gm.mlp_out), ("w2", &ffn.w2), &gm.hidden)
    }),
    ("u", |c| {
        let (m, gm) = c.mlp()?;
        Ok(feedforward::explain_preactivation(
            c.state.config.activation,
            &m.u,
            &gm.hidden,
            &gm.u,
            c.i,
            c.j,
        ))
    }),
    ("mlpIn", |c| {
        let ffn = c.w().ffn.as_ref().ok_or_else(no_mlp)?;
        let gm = c.mlp()?.1;
        c.back_through(("u", &gm.u), ("w1", &ffn.w1), &gm.mlp_in)
    }),
    ("x1", |c| {
        let branch = c.ga().mlp.as_ref().map(|gm| {
            (
                ("mlpIn", &gm.mlp_in) as Named,
                c.norm("ln2", "ln2Gain", &c.w().ln2, &c.trace.ln2),
            )
        });
        let words = "feed-forward path (no layer norm)";
        Ok(residual::explain_fork(
            ("x2", &c.ga().x2),
            branch,
            words,
            &c.ga().x1,
            c.i,
            c.j,
        ))
    }),
    ("attnOut", |c| {
        Ok(residual::explain_sum(
            ("x1", &c.ga().x1),
            &c.ga().attn_out,
            c.i,
            c.j,
        ))
    }),
    ("z", |c| {
        c.back_through(("attnOut", &c.ga().attn_out), ("wo", &c.w().wo), &c.ga().z)
    }),
    ("attention", |c| {
        let (ga, hd) = (c.ga(), c.head_size());
        Ok(attention::explain_weights(
            &ga.z,
            &c.a().v,
            &ga.attention,
            hd,
            c.h,
            c.i,
            c.j,
        ))
    }),
    ("scores", |c| {
        Ok(attention::explain_scores(
            &c.a().attention,
            &c.ga().attention,
            &c.ga().scores,
            c.h,
            c.i,
            c.j,
        ))
    }),
    ("q", |c| {
        Ok(attention::explain_queries(
            &c.ga().scores,
            &c.a().k,
            &c.ga().q,
            c.head_size(),
            c.i,
            c.j,
        ))
    }),
    ("k", |c| {
        Ok(attention::explain_keys(
            &c.ga().scores,
            &c.a().q,
            &c.ga().k,
            c.head_size(),
            c.i,
            c.j,
        ))
    }),
    ("v", |c| {
        Ok(attention::explain_values(
            &c.a().attention,
            &c.ga().z,
            &c.ga().v,
            c.head_size(),
            c.i,
            c.j,
        ))
    }),
    ("attnIn", |c| {
        let (ga, w) = (c.ga(), c.w());
        let paths = [
            ("queries", ("q", &ga.q) as Named, ("wq", &w.wq) as Named),
            ("keys", ("k", &ga.k), ("wk", &w.wk)),
            ("values", ("v", &ga.v), ("wv", &w.wv)),
        ];
        Ok(attention::explain_input(paths, &ga.attn_in, c.i, c.j))
    }),
    ("x", |c| {
        let norm = c.norm("ln1", "ln1Gain", &c.w().ln1, &c.trace.ln1);
        let branch = Some((("attnIn", &c.ga().attn_in) as Named, norm));
        let words = "attention path (no layer norm)";
        Ok(residual::explain_fork(
            ("x1", &c.ga().x1),
            branch,
            words,
            &c.ga().x,
            c.i,
            c.j,
        ))
    }),
];

/// A single-sentence state's derivation (a batch state's is batch_explain's; lib.rs chooses).
pub(crate) fn derive(state: &State, cell: &Cell) -> Result<Derivation, ModelError> {
    let (name, h, i, j) = cell.resolve(state)?;
    let trace = model::backward_checked(state)?;
    let at = Entry {
        weight: cell.weight,
        name,
        h,
        i,
        j,
    };
    Ok(finish(explain_in(state, &trace, &state.tokens, at)?))
}

/// A resolved cell: which matrix, and [h][i][j] in it.
#[derive(Clone, Copy)]
pub(crate) struct Entry {
    pub weight: bool,
    pub name: &'static str,
    pub h: usize,
    pub i: usize,
    pub j: usize,
}

/// The layer's explanation of one entry in `trace`, the pass of the sequence `tokens`.
pub(crate) fn explain_in(
    state: &State,
    trace: &Workspace,
    tokens: &[String],
    at: Entry,
) -> Result<Explained, ModelError> {
    let Entry {
        weight,
        name,
        h,
        i,
        j,
    } = at;
    let p = Positions {
        tokens: &tokens[..trace.ids.len()],
    };
    let cx = Ctx {
        state,
        trace,
        p,
        h,
        i,
        j,
    };
    let table: &[(&str, Explainer)] = if weight { &WEIGHTS } else { &ACTIVATIONS };
    let Some((_, explainer)) = table.iter().find(|(n, _)| *n == name) else {
        fail!("{name} has no derivation");
    };
    explainer(&cx)
}

pub(crate) fn finish(e: Explained) -> Derivation {
    let Explained {
        terms,
        gradient,
        note,
    } = e;
    let total = terms.iter().map(|t| t.value).sum();
    Derivation {
        gradient,
        terms,
        total,
        note,
    }
}
