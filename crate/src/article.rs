//! The article's default state: the toy model that the walkthrough follows step by step.

use crate::config::{Activation, Config};
use crate::mat::Mat;
use crate::state::State;
use crate::weights::{FeedForwardWeights, Weights};

fn rows<const R: usize, const C: usize>(values: [[f64; C]; R]) -> Mat {
    Mat::from_fn(R, C, |i, j| values[i][j])
}

fn row<const C: usize>(values: [f64; C]) -> Mat {
    Mat::from_fn(1, C, |_, j| values[j])
}

/// The state the article starts from, chosen so a reader can follow every number by hand:
///
/// - **Vocabulary {AI, rocks}, input "AI rocks", no end-of-sequence token.** The article's own
///   example. Only position 0 has a target ("rocks"), so the loss is a single term,
///   L = −ln P[0][rocks], and the skipped last position is visible in every panel.
/// - **dModel 2, one head, dFf 4.** Every matrix has at most 4 columns and fits on a phone screen
///   with its numbers; one head keeps the attention panel to one table. The feed-forward block is
///   on (ReLU) so its part of back propagation is shown; dFf 4 is the customary 2×–4× of dModel.
/// - **Layer norm off.** With dModel 2 a normalised row is always (−1, 1) or (1, −1), which hides
///   everything the embeddings do; the switch is there for readers who want it.
/// - **context 4.** Two positions more than the input, so a reader can lengthen the input without
///   resizing, and sees that unused positions get a zero gradient.
/// - **Embeddings one-hot** (AI = (1, 0), rocks = (0, 1)): x is then read off at a glance.
/// - **Other weights with one decimal**, picked so position 1 attends to both positions with
///   visibly unequal weights, some ReLU inputs are negative (so the reader sees a gradient blocked)
///   while none sits at exactly 0 (where ReLU has no slope), and P[0][rocks] starts below one half
///   so a training step has something to improve.
pub fn article_example() -> State {
    let vocab = vec!["AI".to_string(), "rocks".to_string()];
    State {
        tokens: vocab.clone(),
        vocab,
        eos: None,
        config: Config {
            d_model: 2,
            n_heads: 1,
            d_ff: 4,
            layer_norm: false,
            activation: Activation::Relu,
            context: 4,
        },
        weights: Weights {
            embedding: rows([[1.0, 0.0], [0.0, 1.0]]),
            position: rows([[0.1, 0.0], [0.0, 0.1], [0.2, -0.1], [-0.1, 0.2]]),
            wq: rows([[0.5, 0.2], [0.1, 0.4]]),
            wk: rows([[0.3, -0.2], [0.6, 0.5]]),
            wv: rows([[0.8, 0.1], [-0.2, 0.9]]),
            wo: rows([[1.0, -0.5], [0.3, 0.7]]),
            ffn: Some(FeedForwardWeights {
                w1: rows([[0.4, -0.3, 0.2, 0.5], [-0.1, 0.6, 0.3, -0.4]]),
                b1: row([0.1, 0.0, -0.1, 0.2]),
                w2: rows([[0.5, -0.2], [0.3, 0.4], [-0.6, 0.1], [0.2, 0.3]]),
                b2: row([0.0, 0.1]),
            }),
            ln1: None,
            ln2: None,
            lnf: None,
            unembedding: rows([[0.4, 0.2], [-0.3, 0.9]]),
        },
        optimizer: None,
        sequences: None,
        held_out: None,
    }
}
