//! Changing the vocabulary or the configuration of a state while keeping what the reader built:
//! overlapping entries keep their values, vocabulary rows and columns follow their token's name,
//! and new entries get small deterministic values (the same every time, so a reader who toggles a
//! switch off and on sees the same numbers).

use crate::config::Config;
use crate::error::ModelError;
use crate::json;
use crate::mat::Mat;
use crate::names::Vocab;
use crate::state::State;
use crate::weights::{FeedForwardWeights, LayerNormWeights, Weights};
use serde_json::Value;

/// What to change; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resize {
    pub vocab: Option<Vec<String>>,
    pub config: Option<Config>,
}

impl Resize {
    /// `{ vocab?: [...], config?: {...} }`; the result is validated as a whole by `resize`.
    pub fn from_json(value: &Value) -> Result<Resize, ModelError> {
        let obj = json::object(value, "the change")?;
        let vocab = match obj.get("vocab") {
            None | Some(Value::Null) => None,
            // Checked here, before any matrix is sized by it.
            Some(v) => Some(Vocab::parse(v)?.names),
        };
        let config = match obj.get("config") {
            None | Some(Value::Null) => None,
            Some(v) => Some(Config::from_json(v)?),
        };
        Ok(Resize { vocab, config })
    }
}

/// FNV-1a: a small, stable hash so fills do not depend on the platform or the Rust version.
fn hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(&[0xff]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A new entry: one of −0.4, −0.3, …, 0.4, chosen by the weight's name and the entry's keys.
/// One decimal keeps new numbers as readable as the article's.
pub(crate) fn fill(weight: &str, row: &[u8], col: usize) -> f64 {
    let h = hash(&[weight.as_bytes(), row, &(col as u64).to_le_bytes()]);
    ((h % 9) as f64 - 4.0) / 10.0
}

/// `rows×cols`, keeping `old` where it overlaps and taking `new(i, j)` elsewhere.
fn fit(old: Option<&Mat>, rows: usize, cols: usize, new: impl Fn(usize, usize) -> f64) -> Mat {
    Mat::from_fn(rows, cols, |i, j| match old {
        Some(m) if i < m.nrows() && j < m.ncols() => m[(i, j)],
        _ => new(i, j),
    })
}

fn fit_fill(old: Option<&Mat>, name: &str, rows: usize, cols: usize) -> Mat {
    fit(old, rows, cols, |i, j| {
        fill(name, &(i as u64).to_le_bytes(), j)
    })
}

fn fit_const(old: Option<&Mat>, cols: usize, value: f64) -> Mat {
    fit(old, 1, cols, |_, _| value)
}

/// Gain 1 and bias 0 make a fresh layer norm a plain normalisation, the usual starting point.
fn fit_ln(old: Option<&LayerNormWeights>, c: usize) -> LayerNormWeights {
    LayerNormWeights {
        gain: fit_const(old.map(|l| &l.gain), c, 1.0),
        bias: fit_const(old.map(|l| &l.bias), c, 0.0),
    }
}

pub(crate) fn resize(state: &State, change: &Resize) -> Result<State, ModelError> {
    let vocab = change.vocab.clone().unwrap_or_else(|| state.vocab.clone());
    let config = change
        .config
        .clone()
        .unwrap_or_else(|| state.config.clone());
    let old = &state.weights;
    let (c, f, v) = (config.d_model, config.d_ff, vocab.len());
    // Where each new vocabulary entry was before, if it existed.
    let before: Vec<Option<usize>> = vocab
        .iter()
        .map(|t| state.vocab.iter().position(|o| o == t))
        .collect();
    let oc = old.embedding.ncols();

    let embedding = Mat::from_fn(v, c, |r, j| match before[r] {
        Some(o) if j < oc => old.embedding[(o, j)],
        _ => fill("embedding", vocab[r].as_bytes(), j),
    });
    let unembedding = Mat::from_fn(c, v, |i, r| match before[r] {
        Some(o) if i < oc => old.unembedding[(i, o)],
        _ => fill("unembedding", vocab[r].as_bytes(), i),
    });
    let ffn = (f > 0).then(|| {
        let o = old.ffn.as_ref();
        FeedForwardWeights {
            w1: fit_fill(o.map(|x| &x.w1), "w1", c, f),
            b1: fit_const(o.map(|x| &x.b1), f, 0.0),
            w2: fit_fill(o.map(|x| &x.w2), "w2", f, c),
            b2: fit_const(o.map(|x| &x.b2), c, 0.0),
        }
    });
    let weights = Weights {
        embedding,
        position: fit_fill(Some(&old.position), "position", config.context, c),
        wq: fit_fill(Some(&old.wq), "wq", c, c),
        wk: fit_fill(Some(&old.wk), "wk", c, c),
        wv: fit_fill(Some(&old.wv), "wv", c, c),
        wo: fit_fill(Some(&old.wo), "wo", c, c),
        ffn,
        ln1: config.layer_norm.then(|| fit_ln(old.ln1.as_ref(), c)),
        ln2: (config.layer_norm && f > 0).then(|| fit_ln(old.ln2.as_ref(), c)),
        lnf: config.layer_norm.then(|| fit_ln(old.lnf.as_ref(), c)),
        unembedding,
    };
    // Adam's moments belong to the old shapes; they are kept only if every shape is unchanged.
    let same_shapes = vocab == state.vocab && weights.same_shapes(old);
    let next = State {
        vocab,
        eos: state.eos.clone(),
        tokens: state.tokens.clone(),
        config,
        weights,
        optimizer: if same_shapes {
            state.optimizer.clone()
        } else {
            None
        },
        sequences: state.sequences.clone(),
        held_out: state.held_out.clone(),
    };
    next.validate()?;
    Ok(next)
}
