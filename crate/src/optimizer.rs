//! The update: plain gradient descent (SGD) or Adam with bias correction.

use crate::config::Config;
use crate::error::{fail, ModelError};
use crate::json::{self, quote};
use crate::mat::all_finite;
use crate::model::{self, Workspace};
use crate::num::float_text;
use crate::state::{OptimizerState, State};
use crate::weights::{Weights, WeightsJson};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Optimizer {
    Sgd,
    Adam,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepOptions {
    pub optimizer: Optimizer,
    /// η.
    pub learning_rate: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
    /// A mini-batch to draw from the training batch; `None` trains on the whole batch.
    pub batch: Option<BatchDraw>,
}

/// `options.batch`: `size` sequences drawn without replacement for training step `step` under
/// `seed` (rng.rs), so any step's mini-batch can be drawn again alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchDraw {
    pub size: usize,
    pub seed: u64,
    pub step: u64,
}

/// Seeds and step numbers are JS numbers: whole numbers up to 2^53 are exact.
pub const MAX_SEED: u64 = 1 << 53;

/// A seed or a step number: a whole number from 0 to 2^53 (read as u64: usize is 32 bits in wasm).
pub(crate) fn seed(value: &Value, path: &str) -> Result<u64, ModelError> {
    let x = json::number(value, path)?;
    if x.fract() != 0.0 || !(0.0..=MAX_SEED as f64).contains(&x) {
        fail!(
            "{path} must be a whole number from 0 to {MAX_SEED}, found {}",
            float_text(x)
        );
    }
    Ok(x as u64)
}

impl BatchDraw {
    /// The drawn indices of a batch of `total` sequences.
    pub fn indices(&self, total: usize) -> Result<Vec<usize>, ModelError> {
        if self.size > total {
            fail!(
                "batch.size is {}, but the training batch has only {total} sequence{}; draw at most {total}",
                self.size,
                if total == 1 { "" } else { "s" }
            );
        }
        let mut rng = crate::rng::SplitMix64::for_step(self.seed, self.step);
        Ok(crate::rng::draw_without_replacement(
            total, self.size, &mut rng,
        ))
    }

    fn from_json(value: &Value) -> Result<BatchDraw, ModelError> {
        let obj = json::object(value, "batch")?;
        let size = json::count(
            json::required(obj, "size", "batch.size", "a whole number from 1 to 256")?,
            "batch.size",
            1,
            crate::state::MAX_SEQUENCES as u64,
        )?;
        let whole = |key: &str| -> Result<u64, ModelError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(0),
                Some(v) => seed(v, &format!("batch.{key}")),
            }
        };
        Ok(BatchDraw {
            size,
            seed: whole("seed")?,
            step: whole("step")?,
        })
    }

    /// The same draw for the step `k` steps later.
    pub fn advanced(&self, k: u64) -> BatchDraw {
        BatchDraw {
            step: self.step.wrapping_add(k),
            ..*self
        }
    }
}

impl StepOptions {
    pub fn sgd(learning_rate: f64) -> Self {
        StepOptions {
            optimizer: Optimizer::Sgd,
            learning_rate,
            ..Self::adam(learning_rate)
        }
    }

    /// Adam with the usual defaults β1 = 0.9, β2 = 0.999, ε = 1e-8.
    pub fn adam(learning_rate: f64) -> Self {
        StepOptions {
            optimizer: Optimizer::Adam,
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            batch: None,
        }
    }

    pub fn from_json(value: &Value) -> Result<StepOptions, ModelError> {
        let obj = json::object(value, "the step options")?;
        let optimizer = match obj.get("optimizer") {
            None => Optimizer::Sgd,
            Some(v) => match json::string(v, "optimizer")? {
                "sgd" => Optimizer::Sgd,
                "adam" => Optimizer::Adam,
                other => fail!(
                    "optimizer is {}; expected \"sgd\" or \"adam\"",
                    quote(other)
                ),
            },
        };
        let lr = json::required(
            obj,
            "learningRate",
            "learningRate",
            "a number greater than 0",
        )?;
        let learning_rate = json::number(lr, "learningRate")?;
        if learning_rate <= 0.0 {
            fail!(
                "learningRate is {}; it must be greater than 0",
                float_text(learning_rate)
            );
        }
        let mut options = StepOptions {
            optimizer,
            ..StepOptions::adam(learning_rate)
        };
        for (key, slot) in [("beta1", &mut options.beta1), ("beta2", &mut options.beta2)] {
            if let Some(v) = obj.get(key) {
                let b = json::number(v, key)?;
                if !(0.0..1.0).contains(&b) {
                    fail!(
                        "{key} is {}; it must be at least 0 and less than 1",
                        float_text(b)
                    );
                }
                *slot = b;
            }
        }
        if let Some(v) = obj.get("epsilon") {
            let e = json::number(v, "epsilon")?;
            if e <= 0.0 {
                fail!("epsilon is {}; it must be greater than 0", float_text(e));
            }
            options.epsilon = e;
        }
        if let Some(v) = obj.get("batch").filter(|v| !v.is_null()) {
            if !crate::state::BATCHES {
                return Err(crate::state::needs_full_module("batch"));
            }
            options.batch = Some(BatchDraw::from_json(v)?);
        }
        Ok(options)
    }
}

/// w ← w − η·∇w.
pub fn sgd(weights: &mut Weights, grads: &Weights, learning_rate: f64) {
    for ((_, w), (_, g)) in weights.params_mut().zip(grads.params()) {
        w.zip_apply(g, |w, g| *w -= learning_rate * g);
    }
}

/// One Adam step (k ← k+1): moving averages of g and g², each divided by (1 − β^k) to undo their
/// pull towards the zero they started from.
pub fn adam(weights: &mut Weights, grads: &Weights, moments: &mut OptimizerState, o: &StepOptions) {
    moments.step += 1;
    let k = moments.step as f64;
    let m_correction = 1.0 - o.beta1.powf(k);
    let v_correction = 1.0 - o.beta2.powf(k);
    let params = weights.params_mut().zip(grads.params());
    let state = moments.m.params_mut().zip(moments.v.params_mut());
    for (((_, w), (_, g)), ((_, m), (_, v))) in params.zip(state) {
        for i in 0..w.len() {
            m[i] = o.beta1 * m[i] + (1.0 - o.beta1) * g[i];
            v[i] = o.beta2 * v[i] + (1.0 - o.beta2) * g[i] * g[i];
            let m_hat = m[i] / m_correction;
            let v_hat = v[i] / v_correction;
            w[i] -= o.learning_rate * m_hat / (v_hat.sqrt() + o.epsilon);
        }
    }
}

/// Updates `weights` (and Adam's `moments`) in place from the gradient `grads`. Refuses moments
/// of the wrong shapes, and an update that makes a weight non-finite (the caller keeps the last
/// good weights: it updates a copy).
pub(crate) fn apply(
    weights: &mut Weights,
    moments: &mut Option<OptimizerState>,
    grads: &Weights,
    options: &StepOptions,
) -> Result<(), ModelError> {
    match options.optimizer {
        Optimizer::Sgd => sgd(weights, grads, options.learning_rate),
        Optimizer::Adam => {
            let moments = moments.get_or_insert_with(|| OptimizerState {
                step: 0,
                m: weights.zeros_like(),
                v: weights.zeros_like(),
            });
            if !weights.same_shapes(&moments.m) || !weights.same_shapes(&moments.v) {
                fail!(
                    "optimizer.m and optimizer.v must have the same weights and shapes as weights"
                );
            }
            adam(weights, grads, moments, options);
        }
    }
    if let Some((name, _)) = weights.params().find(|(_, m)| !all_finite(m)) {
        fail!(
            "the step made weights.{name} non-finite: the learning rate {} is too large; lower it",
            float_text(options.learning_rate)
        );
    }
    Ok(())
}

/// The loss of the updated weights, computed in `ws` (whose shapes they share). A step so large
/// that the new loss overflows is reported as such.
pub(crate) fn loss_after(
    ws: &mut Workspace,
    weights: &Weights,
    config: &Config,
    options: &StepOptions,
) -> Result<f64, ModelError> {
    model::forward_into(ws, weights, config)
        .and_then(|_| model::loss_into(ws))
        .map_err(|e| after_step_error(e, options))
}

pub(crate) fn after_step_error(e: ModelError, options: &StepOptions) -> ModelError {
    ModelError::new(format!(
        "after the step the model no longer gives a finite loss ({e}); the learning rate {} is too large",
        float_text(options.learning_rate)
    ))
}

/// What `step` returns.
#[derive(Clone, Debug, PartialEq)]
pub struct StepResult {
    pub state: State,
    /// W′ − W for every weight: the change the step applied.
    pub update: Weights,
    pub loss_before: f64,
    pub loss_after: f64,
    /// With a training batch: the indices of the sequences this step trained on.
    pub batch: Option<Vec<usize>>,
}

impl Serialize for StepResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("state", &self.state)?;
        map.serialize_entry("update", &WeightsJson(&self.update))?;
        map.serialize_entry("lossBefore", &self.loss_before)?;
        map.serialize_entry("lossAfter", &self.loss_after)?;
        if let Some(indices) = &self.batch {
            map.serialize_entry("batch", indices)?;
        }
        map.end()
    }
}
