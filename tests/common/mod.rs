//! Shared helpers for the native tests: deterministic random states covering every switch.
#![allow(dead_code)]

pub mod golden;

use how_llms_learn::{
    Activation, ActivationRef, Config, FeedForwardWeights, LayerNormWeights, Mat, State, Weights,
};

/// A tiny deterministic generator (SplitMix64), so every test run checks the same states.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [−scale, scale).
    pub fn uniform(&mut self, scale: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (2.0 * unit - 1.0) * scale
    }
    pub fn matrix(&mut self, rows: usize, cols: usize, scale: f64) -> Mat {
        Mat::from_fn(rows, cols, |_, _| self.uniform(scale))
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// What a test state should look like.
#[derive(Clone, Debug)]
pub struct Shape {
    pub vocab: usize,
    pub tokens: Vec<usize>,
    pub eos: Option<usize>,
    pub d_model: usize,
    pub n_heads: usize,
    pub d_ff: usize,
    pub layer_norm: bool,
    pub activation: Activation,
    pub context: usize,
}

/// A valid state of the given shape with random weights in [−scale, scale).
pub fn random_state(shape: &Shape, seed: u64, scale: f64) -> State {
    let mut rng = Rng::new(seed);
    let (c, f, v) = (shape.d_model, shape.d_ff, shape.vocab);
    let vocab: Vec<String> = (0..v).map(|i| format!("tok{i}")).collect();
    let ln = |rng: &mut Rng| LayerNormWeights {
        gain: Mat::from_fn(1, c, |_, _| 1.0 + rng.uniform(0.5)),
        bias: rng.matrix(1, c, 0.5),
    };
    let ln1 = shape.layer_norm.then(|| ln(&mut rng));
    let ln2 = (shape.layer_norm && f > 0).then(|| ln(&mut rng));
    let lnf = shape.layer_norm.then(|| ln(&mut rng));
    let weights = Weights {
        embedding: rng.matrix(v, c, scale),
        position: rng.matrix(shape.context, c, scale),
        wq: rng.matrix(c, c, scale),
        wk: rng.matrix(c, c, scale),
        wv: rng.matrix(c, c, scale),
        wo: rng.matrix(c, c, scale),
        ffn: (f > 0).then(|| FeedForwardWeights {
            w1: rng.matrix(c, f, scale),
            b1: rng.matrix(1, f, scale),
            w2: rng.matrix(f, c, scale),
            b2: rng.matrix(1, c, scale),
        }),
        ln1,
        ln2,
        lnf,
        unembedding: rng.matrix(c, v, scale),
    };
    State {
        tokens: shape.tokens.iter().map(|&i| vocab[i].clone()).collect(),
        eos: shape.eos.map(|i| vocab[i].clone()),
        vocab,
        config: Config {
            d_model: c,
            n_heads: shape.n_heads,
            d_ff: f,
            layer_norm: shape.layer_norm,
            activation: shape.activation,
            context: shape.context,
        },
        weights,
        optimizer: None,
        sequences: None,
        held_out: None,
    }
}

/// Relative error with the denominator floored at 1e-3: a gradient near zero is compared
/// absolutely, to 1e-9 at the 1e-6 bound. A central difference cannot resolve less: its rounding
/// error is about 1e-16·L/ε ≈ 1e-11·L, amplified by layer norm's 1/σ.
pub fn rel_error(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-3)
}

/// Every entry of an activation (or its gradient) with its index, as `Cell::activation` takes
/// it: `[i, j]`, or `[head, t, s]` for scores and attention, whose masked entries (s > t) are
/// left out.
pub fn activation_cells(a: ActivationRef<'_>) -> Vec<(Vec<usize>, f64)> {
    match a {
        ActivationRef::Matrix(m) => (0..m.nrows())
            .flat_map(|i| (0..m.ncols()).map(move |j| (vec![i, j], m[(i, j)])))
            .collect(),
        ActivationRef::Heads(hs) => hs
            .iter()
            .enumerate()
            .flat_map(|(h, m)| {
                (0..m.nrows()).flat_map(move |t| (0..=t).map(move |s| (vec![h, t, s], m[(t, s)])))
            })
            .collect(),
    }
}
