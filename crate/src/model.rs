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

use crate::activations::{Activations, Dims};
use crate::config::Config;
use crate::error::{fail, ModelError};
use crate::loss::{self, LossReport};
use crate::mat::{all_finite, Mat};
use crate::state::State;
use crate::weights::{LayerNormWeights, Weights};
use crate::{attention, embedding, feedforward, layernorm, unembedding};
use serde::ser::{Serialize, SerializeMap, Serializer};

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

/// Every buffer of one forward + loss + backward at fixed sizes, in the spirit of llm.c: the
/// forward pass fills `acts` (and the layer-norm caches) and keeps them for the backward pass,
/// which fills `grad`. Once built, running the model again allocates nothing.
pub(crate) struct Workspace {
    pub dims: Dims,
    pub ids: Vec<usize>,             // T, vocabulary index of each input token
    pub targets: Vec<Option<usize>>, // T, what each position should predict
    pub acts: Activations,
    pub ln1: Option<layernorm::Cache>,
    pub ln2: Option<layernorm::Cache>,
    pub lnf: Option<layernorm::Cache>,
    pub terms: Vec<Option<f64>>, // T, −ln probs[t][target]
    pub lse: Vec<f64>,           // T, ln Σ_v exp logits[t][v], from the softmax
    pub count: usize,            // N
    pub grad: Backward,
    scratch: Mat, // T×C, a layer norm's input gradient before it joins the residual stream
    slope: Mat,   // T×F, act′(u): the forward pass computes it with act(u), backward uses it
}

impl Workspace {
    pub fn new(state: &State) -> Workspace {
        Workspace::for_ids(state, state.ids())
    }

    /// A workspace for the sequence `ids` (of `state`'s vocabulary) instead of `state.tokens`.
    pub fn for_ids(state: &State, ids: Vec<usize>) -> Workspace {
        let d = Dims {
            t: ids.len(),
            ..Dims::of(state)
        };
        let ln = |on: bool| on.then(|| layernorm::Cache::new(d.t, d.c));
        let targets = loss::targets(&ids, state.eos_id());
        Workspace {
            dims: d,
            ids,
            targets,
            acts: Activations::zeros(&d),
            ln1: ln(d.layer_norm),
            ln2: ln(d.layer_norm && d.f > 0),
            lnf: ln(d.layer_norm),
            terms: vec![None; d.t],
            lse: vec![0.0; d.t],
            count: 0,
            grad: Backward {
                loss: 0.0,
                weights: state.weights.zeros_like(),
                activations: Activations::zeros(&d),
                shown_in_batch: None,
            },
            scratch: Mat::zeros(d.t, d.c),
            slope: Mat::zeros(d.t, d.f),
        }
    }

    /// Whether this workspace's buffers fit `state`.
    pub fn fits(&self, state: &State) -> bool {
        self.dims == Dims::of(state)
    }

    /// Re-reads the input (ids and targets) of a state of the same sizes.
    pub fn refresh_input(&mut self, state: &State) {
        let eos = state.eos_id();
        for (slot, token) in self.ids.iter_mut().zip(&state.tokens) {
            *slot = state.vocab.iter().position(|v| v == token).unwrap_or(0);
        }
        let t_len = self.ids.len();
        for (t, target) in self.targets.iter_mut().enumerate() {
            *target = if t + 1 < t_len {
                Some(self.ids[t + 1])
            } else {
                eos
            };
        }
    }

    /// Reads another sequence of the same length (a batch reuses one workspace per length).
    pub fn set_ids(&mut self, ids: &[usize], eos: Option<usize>) {
        self.ids.copy_from_slice(ids);
        for (slot, target) in self.targets.iter_mut().zip(loss::targets(ids, eos)) {
            *slot = target;
        }
    }

    /// The loss report of the last `loss` call.
    pub fn report(&self) -> LossReport {
        let value = self.grad.loss;
        LossReport {
            value,
            count: self.count,
            targets: self.targets.clone(),
            terms: self.terms.clone(),
            batch: None,
            held_out: None,
        }
    }
}

/// `out` = LN(x) when layer norm is on, else a copy of x.
fn maybe_norm(
    x: &Mat,
    ln: &Option<LayerNormWeights>,
    cache: &mut Option<layernorm::Cache>,
    out: &mut Mat,
) {
    match (ln, cache) {
        (Some(w), Some(cache)) => layernorm::forward(x, &w.gain, &w.bias, out, cache),
        _ => out.copy_from(x),
    }
}

/// The gradient reaching a norm's input: through LN's backward (which also fills the gain and
/// bias gradients), or unchanged when LN is off. `add` accumulates into `dx` instead of
/// overwriting it, for the residual stream that also receives a gradient directly.
fn maybe_norm_backward(
    d_out: &Mat,
    cache: &Option<layernorm::Cache>,
    w: &Option<LayerNormWeights>,
    grad: &mut Option<LayerNormWeights>,
    dx: &mut Mat,
    scratch: &mut Mat,
) {
    match (cache, w, grad) {
        (Some(cache), Some(w), Some(g)) => {
            layernorm::backward(d_out, cache, &w.gain, scratch, &mut g.gain, &mut g.bias);
            *dx += &*scratch;
        }
        _ => *dx += d_out,
    }
}

/// The forward pass's stages in order, each named by the weights it is the first to read: after
/// an edit of one weight, the stages before that weight's hold the same numbers as before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    Embedding,   // x
    Ln1,         // attnIn
    Attention,   // q, k, v, scores, attention, z
    Output,      // attnOut, x1
    Ln2,         // mlpIn
    Expand,      // u, hidden
    Contract,    // mlpOut, x2
    Final,       // xf
    Unembedding, // logits, probs
}

impl Stage {
    /// The first stage that reads weight `name` (an unknown name: the whole pass).
    pub fn reading(name: &str) -> Stage {
        match name {
            "ln1Gain" | "ln1Bias" => Stage::Ln1,
            "wq" | "wk" | "wv" => Stage::Attention,
            "wo" => Stage::Output,
            "ln2Gain" | "ln2Bias" => Stage::Ln2,
            "w1" | "b1" => Stage::Expand,
            "w2" | "b2" => Stage::Contract,
            "lnfGain" | "lnfBias" => Stage::Final,
            "unembedding" => Stage::Unembedding,
            _ => Stage::Embedding,
        }
    }
}

/// Runs the forward pass into the workspace; `probe` shifts one activation as it is produced.
pub(crate) fn run(ws: &mut Workspace, w: &Weights, cfg: &Config, probe: Option<&Probe>) {
    run_from(ws, w, cfg, probe, Stage::Embedding);
}

/// The forward pass from stage `from` on: the workspace must hold the earlier stages' results
/// for these weights and this input (a probe needs the whole pass, `from` = Embedding).
fn run_from(ws: &mut Workspace, w: &Weights, cfg: &Config, probe: Option<&Probe>, from: Stage) {
    let a = &mut ws.acts;
    if from <= Stage::Embedding {
        embedding::forward(&ws.ids, &w.embedding, &w.position, &mut a.x);
        nudge(probe, "x", &mut a.x);
    }
    if from <= Stage::Ln1 {
        maybe_norm(&a.x, &w.ln1, &mut ws.ln1, &mut a.attn_in);
        nudge(probe, "attnIn", &mut a.attn_in);
    }
    if from <= Stage::Attention {
        attention::project(
            &a.attn_in, &w.wq, &w.wk, &w.wv, &mut a.q, &mut a.k, &mut a.v,
        );
        nudge(probe, "q", &mut a.q);
        nudge(probe, "k", &mut a.k);
        nudge(probe, "v", &mut a.v);
        attention::scores(&a.q, &a.k, &mut a.scores);
        nudge_heads(probe, "scores", &mut a.scores);
        attention::causal_softmax(&a.scores, &mut a.attention);
        nudge_heads(probe, "attention", &mut a.attention);
        attention::mix(&a.attention, &a.v, &mut a.z);
        nudge(probe, "z", &mut a.z);
    }
    if from <= Stage::Output {
        attention::output(&a.z, &w.wo, &mut a.attn_out);
        nudge(probe, "attnOut", &mut a.attn_out);
        a.x1.copy_from(&a.x);
        a.x1 += &a.attn_out;
        nudge(probe, "x1", &mut a.x1);
    }
    if from <= Stage::Contract {
        a.x2.copy_from(&a.x1);
        if let (Some(ffn), Some(m)) = (&w.ffn, &mut a.mlp) {
            if from <= Stage::Ln2 {
                maybe_norm(&a.x1, &w.ln2, &mut ws.ln2, &mut m.mlp_in);
                nudge(probe, "mlpIn", &mut m.mlp_in);
            }
            if from <= Stage::Expand {
                feedforward::expand(&m.mlp_in, ffn, &mut m.u);
                nudge(probe, "u", &mut m.u);
                feedforward::activate_all(&m.u, cfg.activation, &mut m.hidden, &mut ws.slope);
                nudge(probe, "hidden", &mut m.hidden);
            }
            feedforward::contract(&m.hidden, ffn, &mut m.mlp_out);
            nudge(probe, "mlpOut", &mut m.mlp_out);
            a.x2 += &m.mlp_out;
        }
        nudge(probe, "x2", &mut a.x2);
    }
    if from <= Stage::Final {
        maybe_norm(&a.x2, &w.lnf, &mut ws.lnf, &mut a.xf);
        nudge(probe, "xf", &mut a.xf);
    }
    unembedding::forward(&a.xf, &w.unembedding, &mut a.logits);
    nudge(probe, "logits", &mut a.logits);
    unembedding::softmax(&a.logits, &mut a.probs, &mut ws.lse);
    nudge(probe, "probs", &mut a.probs);
}

/// The forward pass, refusing results that overflowed.
pub(crate) fn forward_into(
    ws: &mut Workspace,
    w: &Weights,
    cfg: &Config,
) -> Result<(), ModelError> {
    forward_from(ws, w, cfg, Stage::Embedding)
}

/// `forward_into` from stage `from` on (see [`run_from`]). Every activation is checked, the
/// earlier ones too: an overflow there is still this state's.
pub(crate) fn forward_from(
    ws: &mut Workspace,
    w: &Weights,
    cfg: &Config,
    from: Stage,
) -> Result<(), ModelError> {
    run_from(ws, w, cfg, None, from);
    if let Some(name) = ws.acts.first_non_finite() {
        fail!(
            "the forward pass overflowed: {name} holds a value too large for a float64 (or NaN); \
             make the weights smaller"
        );
    }
    Ok(())
}

/// L from the logits of the last forward pass (fills the terms and N).
pub(crate) fn loss_into(ws: &mut Workspace) -> Result<f64, ModelError> {
    let (value, count) = loss::forward(&ws.lse, &ws.acts.logits, &ws.targets, &mut ws.terms)?;
    ws.count = count;
    ws.grad.loss = value;
    Ok(value)
}

/// A fresh workspace with the forward pass and the loss done: what most callers need first.
pub(crate) fn forward_checked(state: &State) -> Result<Workspace, ModelError> {
    state.check_shapes()?;
    let mut ws = Workspace::new(state);
    forward_into(&mut ws, &state.weights, &state.config)?;
    Ok(ws)
}

/// L with an optional probe. With a probe on `probs`, L is taken from the (shifted) probabilities
/// themselves, −ln probs[t][target]; otherwise from the logits through log-sum-exp.
pub(crate) fn loss_with_probe(state: &State, probe: Option<&Probe>) -> Result<f64, ModelError> {
    state.check_shapes()?;
    let mut ws = Workspace::new(state);
    run(&mut ws, &state.weights, &state.config, probe);
    if probe.is_some_and(|p| p.name == "probs") {
        let n = ws.targets.iter().flatten().count();
        if n == 0 {
            fail!("{}", loss::no_target_message(ws.targets.len()));
        }
        let sum: f64 = ws
            .targets
            .iter()
            .enumerate()
            .filter_map(|(t, y)| y.map(|y| -ws.acts.probs[(t, y)].ln()))
            .sum();
        return Ok(sum / n as f64);
    }
    loss_into(&mut ws)
}

/// The gradient of L with respect to every weight and every activation.
#[derive(Clone, Debug, PartialEq)]
pub struct Backward {
    pub loss: f64,
    pub weights: Weights,
    pub activations: Activations,
    /// With a training batch: how many of its sequences are the shown one (`tokens`).
    pub shown_in_batch: Option<usize>,
}

impl Serialize for Backward {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("loss", &self.loss)?;
        map.serialize_entry("weights", &crate::weights::WeightsJson(&self.weights))?;
        map.serialize_entry("activations", &self.activations)?;
        if let Some(copies) = self.shown_in_batch {
            map.serialize_entry("shownInBatch", &copies)?;
        }
        map.end()
    }
}

/// Back propagation through the workspace's last forward pass (after `loss_into`): fills
/// `ws.grad` walking the layers in reverse.
pub(crate) fn backward_into(ws: &mut Workspace, w: &Weights) -> Result<(), ModelError> {
    let Workspace {
        ids,
        targets,
        acts: a,
        ln1,
        ln2,
        lnf,
        count,
        grad,
        scratch,
        slope,
        ..
    } = ws;
    let Backward {
        weights: g,
        activations: ga,
        ..
    } = grad;

    // L = mean of −ln softmax(logits)[target]  ⇒  ∇logits = (P − Y)/N.
    loss::backward_logits(&a.probs, targets, *count, &mut ga.logits);
    loss::backward_probs(&a.probs, targets, *count, &mut ga.probs);
    unembedding::backward(
        &ga.logits,
        &a.xf,
        &w.unembedding,
        &mut ga.xf,
        &mut g.unembedding,
    );
    // xf = LNf(x2): ∇x2 is LNf's backward of ∇xf (or ∇xf itself without layer norm).
    ga.x2.fill(0.0);
    maybe_norm_backward(&ga.xf, lnf, &w.lnf, &mut g.lnf, &mut ga.x2, scratch);

    // x2 = x1 + mlpOut: the residual hands ∇x2 to both branches unchanged.
    ga.x1.copy_from(&ga.x2);
    if let (Some(ffn), Some(m), Some(gm), Some(gffn)) = (&w.ffn, &a.mlp, &mut ga.mlp, &mut g.ffn) {
        gm.mlp_out.copy_from(&ga.x2);
        feedforward::backward(
            &gm.mlp_out,
            &m.mlp_in,
            &m.hidden,
            slope,
            ffn,
            feedforward::Grads {
                d_hidden: &mut gm.hidden,
                du: &mut gm.u,
                d_mlp_in: &mut gm.mlp_in,
                weights: gffn,
            },
        );
        // ∇x1 = ∇x2 + LN2's backward of ∇mlpIn.
        maybe_norm_backward(&gm.mlp_in, ln2, &w.ln2, &mut g.ln2, &mut ga.x1, scratch);
    }

    // x1 = x + attnOut, the same split again.
    ga.attn_out.copy_from(&ga.x1);
    attention::output_backward(&ga.attn_out, &a.z, &w.wo, &mut ga.z, &mut g.wo);
    attention::mix_backward(&ga.z, &a.attention, &a.v, &mut ga.attention, &mut ga.v);
    attention::softmax_backward(&ga.attention, &a.attention, &mut ga.scores);
    attention::scores_backward(&ga.scores, &a.q, &a.k, &mut ga.q, &mut ga.k);
    attention::project_backward(
        &ga.q,
        &ga.k,
        &ga.v,
        &a.attn_in,
        [&w.wq, &w.wk, &w.wv],
        &mut ga.attn_in,
        &mut g.wq,
        &mut g.wk,
        &mut g.wv,
    );
    // ∇x = ∇x1 (residual) + LN1's backward of ∇attnIn.
    ga.x.copy_from(&ga.x1);
    maybe_norm_backward(&ga.attn_in, ln1, &w.ln1, &mut g.ln1, &mut ga.x, scratch);

    embedding::backward(ids, &ga.x, &mut g.embedding, &mut g.position);

    if let Some(name) = g.params().find(|(_, m)| !all_finite(m)).map(|(n, _)| n) {
        fail!("the gradient of weights.{name} is not finite; make the weights smaller");
    }
    let underflow = targets
        .iter()
        .enumerate()
        .find_map(|(t, y)| y.filter(|y| !ga.probs[(t, *y)].is_finite()).map(|y| (t, y)));
    if let Some((t, y)) = underflow {
        fail!(
            "probs[{t}][{y}], the probability of position {t}'s target, is too small for a float64, \
             so the gradient with respect to it, −1/(N·P), is infinite; make the weights smaller"
        );
    }
    if let Some(name) = ga.first_non_finite() {
        fail!("the gradient with respect to {name} is not finite; make the weights smaller");
    }
    Ok(())
}

/// Forward, loss and backward on a fresh workspace.
pub(crate) fn backward_checked(state: &State) -> Result<Workspace, ModelError> {
    let mut ws = forward_checked(state)?;
    loss_into(&mut ws)?;
    backward_into(&mut ws, &state.weights)?;
    Ok(ws)
}
