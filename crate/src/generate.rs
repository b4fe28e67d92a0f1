//! Generation: the forward pass alone, run again and again. Each step reads the tokens so far,
//! takes the last position's next-token probabilities and picks one, greedily (the most probable;
//! ties go to the lowest vocabulary index) or by sampling with a temperature. No loss, no
//! gradient, no update: this is what a trained model is used for.

use crate::error::{fail, ModelError};
use crate::json::{self, quote};
use crate::model::{self, Workspace};
use crate::rng::SplitMix64;
use crate::state::State;
use serde::Serialize;
use serde_json::Value;

/// The most tokens one call writes.
pub const MAX_GENERATE: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub struct GenerateOptions {
    pub max_tokens: usize,
    /// 0: greedy. Otherwise the choice is drawn from probs^(1/T), renormalised.
    pub temperature: f64,
    pub seed: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            max_tokens: MAX_GENERATE,
            temperature: 0.0,
            seed: 0,
        }
    }
}

pub const MAX_TEMPERATURE: f64 = 100.0;

impl GenerateOptions {
    pub fn from_json(value: &Value) -> Result<GenerateOptions, ModelError> {
        let mut o = GenerateOptions::default();
        if value.is_null() {
            return Ok(o);
        }
        let obj = json::object(value, "the options")?;
        if let Some(v) = obj.get("maxTokens").filter(|v| !v.is_null()) {
            o.max_tokens = json::count(v, "maxTokens", 0, MAX_GENERATE as u64)?;
        }
        if let Some(v) = obj.get("temperature").filter(|v| !v.is_null()) {
            let t = json::number(v, "temperature")?;
            if !(0.0..=MAX_TEMPERATURE).contains(&t) {
                fail!("temperature is {t}; it must be from 0 (greedy) to {MAX_TEMPERATURE}");
            }
            o.temperature = t;
        }
        if let Some(v) = obj.get("seed").filter(|v| !v.is_null()) {
            o.seed = crate::optimizer::seed(v, "seed")?;
        }
        Ok(o)
    }
}

/// One step: the model's next-token probabilities (temperature 1) and the choice.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GenerateStep {
    pub probs: Vec<f64>,
    /// The chosen token's vocabulary index.
    pub chosen: usize,
    /// Its name.
    pub token: String,
    /// probs[chosen].
    pub probability: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Generated {
    /// The prompt and every chosen token but ⟨eos⟩ (and but a last choice with no room, below).
    pub tokens: Vec<String>,
    pub steps: Vec<GenerateStep>,
    /// "eos": the model chose the end-of-sequence token; "context": a token was chosen when the
    /// tokens already filled the context, so it could not be read (it is in `steps` only);
    /// "maxTokens": `maxTokens` steps were taken.
    pub stopped: &'static str,
}

/// The prompt as vocabulary indices, with the contract's messages.
fn prompt_ids(state: &State, prompt: &[String]) -> Result<Vec<usize>, ModelError> {
    if prompt.is_empty() {
        fail!("the prompt is empty; give at least one token");
    }
    if prompt.len() > state.config.context {
        fail!(
            "the prompt has {} tokens but config.context is {}; it may be at most as long as the context",
            prompt.len(),
            state.config.context
        );
    }
    let mut ids = Vec::with_capacity(prompt.len());
    for (i, t) in prompt.iter().enumerate() {
        // Vocabulary names are stored in NFC; a prompt typed otherwise names the same tokens.
        let t = crate::names::nfc(t);
        match state.vocab.iter().position(|v| *v == t) {
            Some(id) => ids.push(id),
            None => fail!("prompt[{i}] is {}, which is not in vocab", quote(&t)),
        }
    }
    Ok(ids)
}

/// Greedy: the first index of the largest probability.
fn argmax(p: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in p.iter().enumerate() {
        if x > p[best] {
            best = i;
        }
    }
    best
}

/// A draw from softmax(logits/T): one uniform u per step, the first index whose running sum of
/// exp((logit − max)/T) exceeds u times their total.
fn sample(logits: &[f64], temperature: f64, rng: &mut SplitMix64) -> usize {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = logits
        .iter()
        .map(|l| ((l - max) / temperature).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let u = rng.uniform() * total;
    let mut run = 0.0;
    for (i, w) in weights.iter().enumerate() {
        run += w;
        if run > u {
            return i;
        }
    }
    // Rounding can leave u at the very top: the last token with any weight.
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

/// `generate(state, prompt, options)`. The sampling generator is `SplitMix64::for_step(seed, 0)`.
pub fn generate(
    state: &State,
    prompt: &[String],
    options: &GenerateOptions,
) -> Result<Generated, ModelError> {
    state.check_shapes()?;
    let mut ids = prompt_ids(state, prompt)?;
    let eos = state.eos_id();
    let mut rng = SplitMix64::for_step(options.seed, 0);
    let mut steps = Vec::new();
    let stopped = loop {
        if steps.len() >= options.max_tokens {
            break "maxTokens";
        }
        let mut ws = Workspace::for_ids(state, ids.clone());
        model::forward_into(&mut ws, &state.weights, &state.config)?;
        let last = ids.len() - 1;
        let probs: Vec<f64> = ws.acts.probs.row(last).iter().copied().collect();
        let chosen = if options.temperature == 0.0 {
            argmax(&probs)
        } else {
            let logits: Vec<f64> = ws.acts.logits.row(last).iter().copied().collect();
            sample(&logits, options.temperature, &mut rng)
        };
        steps.push(GenerateStep {
            probability: probs[chosen],
            probs,
            chosen,
            token: state.vocab[chosen].clone(),
        });
        if Some(chosen) == eos {
            break "eos";
        }
        if ids.len() >= state.config.context {
            break "context";
        }
        ids.push(chosen);
    };
    Ok(Generated {
        tokens: ids.iter().map(|&i| state.vocab[i].clone()).collect(),
        steps,
        stopped,
    })
}
