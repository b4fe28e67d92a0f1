//! The decoder block end to end: forward keeps what backward needs, backward walks the same
//! layers in reverse with the chain rule.
//!
//! Shape legend (row-vector convention, one row per position):
//!   T  tokens in the input          V  vocabulary size
//!   C  dModel (residual width)      H  heads, D = C/H columns each
//!   F  dFf (0: no feed-forward)     K  context (rows of `position`)
//!
//! ```text
//! x       = embedding[ids] + position[0..T]        T×C
//! attnIn  = LN1(x) or x                            T×C
//! q,k,v   = attnIn·wq, attnIn·wk, attnIn·wv        T×C
//! scores  = q_h·k_hᵀ/√D, causal                    H×T×T
//! attention = softmax(scores) over s ≤ t           H×T×T
//! z       = attention_h·v_h, heads side by side    T×C
//! attnOut = z·wo;  x1 = x + attnOut                T×C
//! mlpIn   = LN2(x1) or x1                          T×C
//! u       = mlpIn·w1 + b1;  hidden = act(u)        T×F
//! mlpOut  = hidden·w2 + b2; x2 = x1 + mlpOut       T×C
//! xf      = LNf(x2) or x2                          T×C
//! logits  = xf·unembedding;  probs = softmax       T×V
//! ```

use crate::error::{fail, ModelError};
use crate::json::{Causal, Rows, Stack};
use crate::loss::{self, LossReport};
use crate::state::{LayerNormWeights, Mat, State, Weights};
use crate::{attention, embedding, feedforward, layernorm, unembedding};
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
    /// The activations present in this model with their contract names, in order.
    pub fn entries(&self) -> Vec<(&'static str, ActivationRef<'_>)> {
        use ActivationRef::{Heads, Matrix};
        let mut out = vec![
            ("x", Matrix(&self.x)),
            ("attnIn", Matrix(&self.attn_in)),
            ("q", Matrix(&self.q)),
            ("k", Matrix(&self.k)),
            ("v", Matrix(&self.v)),
            ("scores", Heads(&self.scores)),
            ("attention", Heads(&self.attention)),
            ("z", Matrix(&self.z)),
            ("attnOut", Matrix(&self.attn_out)),
            ("x1", Matrix(&self.x1)),
        ];
        if let Some(m) = &self.mlp {
            out.extend([
                ("mlpIn", Matrix(&m.mlp_in)),
                ("u", Matrix(&m.u)),
                ("hidden", Matrix(&m.hidden)),
                ("mlpOut", Matrix(&m.mlp_out)),
            ]);
        }
        out.extend([
            ("x2", Matrix(&self.x2)),
            ("xf", Matrix(&self.xf)),
            ("logits", Matrix(&self.logits)),
            ("probs", Matrix(&self.probs)),
        ]);
        out
    }

    pub fn get(&self, name: &str) -> Option<ActivationRef<'_>> {
        self.entries()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a)
    }

    /// The first activation holding a NaN or infinity, if any.
    fn first_non_finite(&self) -> Option<&'static str> {
        self.entries().into_iter().find_map(|(name, a)| {
            let finite = match a {
                ActivationRef::Matrix(m) => m.iter().all(|x| x.is_finite()),
                ActivationRef::Heads(hs) => hs.iter().all(|m| m.iter().all(|x| x.is_finite())),
            };
            (!finite).then_some(name)
        })
    }
}

impl Serialize for Activations {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entries = self.entries();
        let mut map = s.serialize_map(Some(entries.len()))?;
        for (name, a) in entries {
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

/// An entry of one activation to shift by `delta` as the forward pass produces it, so the loss
/// can be differentiated numerically with respect to an intermediate (finite-difference checks).
#[derive(Clone, Debug)]
pub(crate) struct Probe {
    pub name: &'static str,
    /// [row, col] for matrices, [head, row, col] for scores and attention.
    pub index: Vec<usize>,
    pub delta: f64,
}

fn nudge(probe: Option<&Probe>, name: &str, m: &mut Mat) {
    if let Some(p) = probe.filter(|p| p.name == name) {
        if let [i, j] = p.index[..] {
            m[(i, j)] += p.delta;
        }
    }
}

fn nudge_heads(probe: Option<&Probe>, name: &str, hs: &mut [Mat]) {
    if let Some(p) = probe.filter(|p| p.name == name) {
        if let [h, t, s] = p.index[..] {
            hs[h][(t, s)] += p.delta;
        }
    }
}

/// Everything the forward pass computed, plus the caches the backward pass needs.
pub(crate) struct Trace {
    pub ids: Vec<usize>,
    pub acts: Activations,
    pub ln1: Option<layernorm::Cache>,
    pub ln2: Option<layernorm::Cache>,
    pub lnf: Option<layernorm::Cache>,
}

/// LN(x) when layer norm is on, else x itself.
fn maybe_norm(x: &Mat, ln: &Option<LayerNormWeights>) -> (Mat, Option<layernorm::Cache>) {
    match ln {
        Some(w) => {
            let (out, cache) = layernorm::forward(x, &w.gain, &w.bias);
            (out, Some(cache))
        }
        None => (x.clone(), None),
    }
}

/// The gradient reaching a norm's input: through LN's backward, or unchanged when LN is off.
/// Also fills the norm's gain and bias gradients.
fn maybe_norm_backward(
    d_out: &Mat,
    cache: &Option<layernorm::Cache>,
    w: &Option<LayerNormWeights>,
    grad: &mut Option<LayerNormWeights>,
) -> Mat {
    match (cache, w, grad) {
        (Some(cache), Some(w), Some(g)) => {
            let (dx, d_gain, d_bias) = layernorm::backward(d_out, cache, &w.gain);
            g.gain = d_gain;
            g.bias = d_bias;
            dx
        }
        _ => d_out.clone(),
    }
}

pub(crate) fn run(state: &State, probe: Option<&Probe>) -> Trace {
    let w = &state.weights;
    let cfg = &state.config;
    let ids = state.ids();

    let mut x = embedding::forward(&ids, &w.embedding, &w.position);
    nudge(probe, "x", &mut x);
    let (mut attn_in, ln1) = maybe_norm(&x, &w.ln1);
    nudge(probe, "attnIn", &mut attn_in);

    let (mut q, mut k, mut v) = attention::project(&attn_in, &w.wq, &w.wk, &w.wv);
    nudge(probe, "q", &mut q);
    nudge(probe, "k", &mut k);
    nudge(probe, "v", &mut v);
    let mut scores = attention::scores(&q, &k, cfg.n_heads);
    nudge_heads(probe, "scores", &mut scores);
    let mut attn = attention::causal_softmax(&scores);
    nudge_heads(probe, "attention", &mut attn);
    let mut z = attention::mix(&attn, &v);
    nudge(probe, "z", &mut z);
    let mut attn_out = &z * &w.wo;
    nudge(probe, "attnOut", &mut attn_out);
    let mut x1 = &x + &attn_out;
    nudge(probe, "x1", &mut x1);

    let (mlp, mut x2, ln2) = match &w.ffn {
        Some(ffn) => {
            let (mut mlp_in, ln2) = maybe_norm(&x1, &w.ln2);
            nudge(probe, "mlpIn", &mut mlp_in);
            let mut u = feedforward::expand(&mlp_in, ffn);
            nudge(probe, "u", &mut u);
            let mut hidden = feedforward::activate_all(&u, cfg.activation);
            nudge(probe, "hidden", &mut hidden);
            let mut mlp_out = feedforward::contract(&hidden, ffn);
            nudge(probe, "mlpOut", &mut mlp_out);
            let x2 = &x1 + &mlp_out;
            (
                Some(MlpActivations {
                    mlp_in,
                    u,
                    hidden,
                    mlp_out,
                }),
                x2,
                ln2,
            )
        }
        None => (None, x1.clone(), None),
    };
    nudge(probe, "x2", &mut x2);
    let (mut xf, lnf) = maybe_norm(&x2, &w.lnf);
    nudge(probe, "xf", &mut xf);
    let mut logits = unembedding::forward(&xf, &w.unembedding);
    nudge(probe, "logits", &mut logits);
    let mut probs = unembedding::softmax(&logits);
    nudge(probe, "probs", &mut probs);

    let acts = Activations {
        x,
        attn_in,
        q,
        k,
        v,
        scores,
        attention: attn,
        z,
        attn_out,
        x1,
        mlp,
        x2,
        xf,
        logits,
        probs,
    };
    Trace {
        ids,
        acts,
        ln1,
        ln2,
        lnf,
    }
}

fn check_forward(acts: &Activations) -> Result<(), ModelError> {
    if let Some(name) = acts.first_non_finite() {
        fail!(
            "the forward pass overflowed: {name} holds a value too large for a float64 (or NaN); \
             make the weights smaller"
        );
    }
    Ok(())
}

/// Runs the forward pass and checks that every value is finite.
pub(crate) fn forward_checked(state: &State) -> Result<Trace, ModelError> {
    state.check_shapes()?;
    let trace = run(state, None);
    check_forward(&trace.acts)?;
    Ok(trace)
}

pub(crate) fn loss_of(state: &State, trace: &Trace) -> Result<LossReport, ModelError> {
    let targets = loss::targets(&trace.ids, state.eos_id());
    loss::forward(&trace.acts.logits, &targets)
}

/// L with an optional probe. With a probe on `probs`, L is taken from the (shifted) probabilities
/// themselves, −ln probs[t][target]; otherwise from the logits through log-sum-exp.
pub(crate) fn loss_with_probe(state: &State, probe: Option<&Probe>) -> Result<f64, ModelError> {
    state.check_shapes()?;
    let trace = run(state, probe);
    let targets = loss::targets(&trace.ids, state.eos_id());
    if probe.is_some_and(|p| p.name == "probs") {
        let n = targets.iter().flatten().count();
        if n == 0 {
            fail!("{}", loss::no_target_message(targets.len()));
        }
        let sum: f64 = targets
            .iter()
            .enumerate()
            .filter_map(|(t, y)| y.map(|y| -trace.acts.probs[(t, y)].ln()))
            .sum();
        return Ok(sum / n as f64);
    }
    Ok(loss::forward(&trace.acts.logits, &targets)?.value)
}

/// The gradient of L with respect to every weight and every activation.
#[derive(Clone, Debug, PartialEq)]
pub struct Backward {
    pub loss: f64,
    pub weights: Weights,
    pub activations: Activations,
}

impl Serialize for Backward {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("loss", &self.loss)?;
        map.serialize_entry("weights", &crate::state::WeightsJson(&self.weights))?;
        map.serialize_entry("activations", &self.activations)?;
        map.end()
    }
}

pub(crate) fn backward_trace(
    state: &State,
    trace: &Trace,
    report: &LossReport,
) -> Result<Backward, ModelError> {
    let w = &state.weights;
    let cfg = &state.config;
    let a = &trace.acts;
    let mut g = w.zeros_like();

    // L = mean of −ln softmax(logits)[target]  ⇒  ∇logits = (P − Y)/N.
    let d_logits = loss::backward_logits(&a.probs, &report.targets, report.count);
    let d_probs = loss::backward_probs(&a.probs, &report.targets, report.count);
    let (d_xf, d_unembedding) = unembedding::backward(&d_logits, &a.xf, &w.unembedding);
    g.unembedding = d_unembedding;
    let d_x2 = maybe_norm_backward(&d_xf, &trace.lnf, &w.lnf, &mut g.lnf);

    // x2 = x1 + mlpOut: the residual hands ∇x2 to both branches unchanged.
    let (d_x1, d_mlp) = match (&w.ffn, &a.mlp) {
        (Some(ffn), Some(m)) => {
            let fg = feedforward::backward(&d_x2, &m.mlp_in, &m.u, &m.hidden, ffn, cfg.activation);
            let d_from_mlp = maybe_norm_backward(&fg.d_mlp_in, &trace.ln2, &w.ln2, &mut g.ln2);
            let d_acts = MlpActivations {
                mlp_in: fg.d_mlp_in,
                u: fg.du,
                hidden: fg.d_hidden,
                mlp_out: d_x2.clone(),
            };
            g.ffn = Some(fg.weights);
            (&d_x2 + d_from_mlp, Some(d_acts))
        }
        _ => (d_x2.clone(), None),
    };

    // x1 = x + attnOut, the same split again.
    let d_attn_out = d_x1.clone();
    let (dz, d_wo) = attention::output_backward(&d_attn_out, &a.z, &w.wo);
    let (d_attention, dv) = attention::mix_backward(&dz, &a.attention, &a.v);
    let d_scores = attention::softmax_backward(&d_attention, &a.attention);
    let (dq, dk) = attention::scores_backward(&d_scores, &a.q, &a.k);
    let (d_attn_in, d_wq, d_wk, d_wv) =
        attention::project_backward(&dq, &dk, &dv, &a.attn_in, &w.wq, &w.wk, &w.wv);
    g.wo = d_wo;
    g.wq = d_wq;
    g.wk = d_wk;
    g.wv = d_wv;
    let dx = &d_x1 + maybe_norm_backward(&d_attn_in, &trace.ln1, &w.ln1, &mut g.ln1);

    let (d_embedding, d_position) =
        embedding::backward(&trace.ids, &dx, state.vocab.len(), cfg.context);
    g.embedding = d_embedding;
    g.position = d_position;

    let activations = Activations {
        x: dx,
        attn_in: d_attn_in,
        q: dq,
        k: dk,
        v: dv,
        scores: d_scores,
        attention: d_attention,
        z: dz,
        attn_out: d_attn_out,
        x1: d_x1,
        mlp: d_mlp,
        x2: d_x2,
        xf: d_xf,
        logits: d_logits,
        probs: d_probs,
    };
    let out = Backward {
        loss: report.value,
        weights: g,
        activations,
    };
    if let Some((name, _)) = out
        .weights
        .params()
        .into_iter()
        .find(|(_, m)| m.iter().any(|x| !x.is_finite()))
    {
        fail!("the gradient of weights.{name} is not finite; make the weights smaller");
    }
    if let Some((t, y)) = report.targets.iter().enumerate().find_map(|(t, y)| {
        y.filter(|y| !out.activations.probs[(t, *y)].is_finite())
            .map(|y| (t, y))
    }) {
        fail!(
            "probs[{t}][{y}], the probability of position {t}'s target, is too small for a float64 \
             (its loss term is {:.1}), so the gradient with respect to it, −1/(N·P), is infinite; \
             make the weights smaller",
            report.terms[t].unwrap_or(f64::INFINITY)
        );
    }
    if let Some(name) = out.activations.first_non_finite() {
        fail!(
            "the gradient with respect to {name} is not finite (a probability underflowed to 0?); \
             make the weights smaller"
        );
    }
    Ok(out)
}
