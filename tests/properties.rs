//! Properties that must hold for every valid state, on random states of every configuration.
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

mod common;

use common::{random_state, Shape};
use how_llms_learn::{
    backward, derivation, forward, loss, step, Activation, ActivationRef, Cell, State, StepOptions,
};
use proptest::prelude::*;

/// Random shapes over every switch: heads 1–3 (D 1–3), dFf 0–6, layer norm on/off, both
/// activations, eos on/off, 1–6 tokens from a vocabulary of 1–5 (so repeats and unused tokens).
fn shapes() -> impl Strategy<Value = Shape> {
    (
        1usize..=3,
        1usize..=3,
        0usize..=6,
        any::<bool>(),
        any::<bool>(),
        1usize..=5,
        1usize..=6,
        0usize..=2,
    )
        .prop_flat_map(
            |(heads, head_size, d_ff, layer_norm, gelu, vocab, t_len, spare)| {
                (
                    proptest::collection::vec(0..vocab, t_len),
                    proptest::option::of(0..vocab),
                    Just((
                        heads,
                        head_size,
                        d_ff,
                        layer_norm,
                        gelu,
                        vocab,
                        t_len + spare,
                    )),
                )
            },
        )
        .prop_map(
            |(tokens, eos, (heads, head_size, d_ff, layer_norm, gelu, vocab, context))| Shape {
                vocab,
                tokens,
                eos,
                d_model: heads * head_size,
                n_heads: heads,
                d_ff,
                layer_norm,
                activation: if gelu {
                    Activation::Gelu
                } else {
                    Activation::Relu
                },
                context,
            },
        )
}

fn states() -> impl Strategy<Value = State> {
    (shapes(), any::<u64>(), 0.05f64..3.0)
        .prop_map(|(shape, seed, scale)| random_state(&shape, seed, scale))
}

fn has_target(s: &State) -> bool {
    s.tokens.len() > 1 || s.eos.is_some()
}

/// Backward, or `None` when the one documented refusal applies: a target's probability underflowed
/// to 0 (a loss term beyond ~745), so ∇probs = −1/(N·P) cannot be represented.
fn backward_unless_underflow(state: &State) -> Option<how_llms_learn::Backward> {
    match backward(state) {
        Ok(g) => Some(g),
        Err(e) => {
            assert!(
                e.message().contains("is too small for a float64"),
                "unexpected error: {e}"
            );
            let worst = loss(state)
                .unwrap()
                .terms
                .into_iter()
                .flatten()
                .fold(0.0, f64::max);
            assert!(worst > 700.0, "refused with a loss term of only {worst}");
            None
        }
    }
}

fn all_finite(values: impl IntoIterator<Item = f64>) -> bool {
    values.into_iter().all(f64::is_finite)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn forward_is_finite_and_softmax_rows_sum_to_one(state in states()) {
        let f = forward(&state).unwrap();
        for (name, a) in f.entries() {
            let ok = match a {
                ActivationRef::Matrix(m) => all_finite(m.iter().copied()),
                ActivationRef::Heads(hs) => hs.iter().all(|m| all_finite(m.iter().copied())),
            };
            prop_assert!(ok, "{} not finite", name);
        }
        for t in 0..state.tokens.len() {
            prop_assert!((f.probs.row(t).sum() - 1.0).abs() < 1e-12);
            for a in &f.attention {
                prop_assert!((a.row(t).sum() - 1.0).abs() < 1e-12);
                prop_assert!(a.row(t).iter().skip(t + 1).all(|x| *x == 0.0), "masked weight not 0");
            }
        }
    }

    #[test]
    fn loss_exists_exactly_when_some_position_has_a_target(state in states()) {
        match loss(&state) {
            Ok(l) => {
                prop_assert!(has_target(&state));
                prop_assert!(l.value.is_finite() && l.value >= 0.0);
                prop_assert_eq!(l.count, state.tokens.len() - usize::from(state.eos.is_none()));
            }
            Err(e) => {
                prop_assert!(!has_target(&state));
                prop_assert!(e.message().contains("no position has a target"), "{}", e);
            }
        }
    }

    #[test]
    fn gradients_are_finite_and_zero_where_nothing_is_used(state in states()) {
        prop_assume!(has_target(&state));
        let Some(g) = backward_unless_underflow(&state) else { return Ok(()) };
        prop_assert!(g.weights.all_finite());
        let t_len = state.tokens.len();
        for (v, name) in state.vocab.iter().enumerate() {
            if !state.tokens.contains(name) {
                prop_assert!(g.weights.embedding.row(v).iter().all(|x| *x == 0.0), "row of unused {}", name);
            }
        }
        for t in t_len..state.config.context {
            prop_assert!(g.weights.position.row(t).iter().all(|x| *x == 0.0), "position {} beyond input", t);
        }
    }

    #[test]
    fn a_small_enough_sgd_step_never_increases_the_loss(state in states()) {
        prop_assume!(has_target(&state));
        if backward_unless_underflow(&state).is_none() { return Ok(()) }
        // "Small enough" exists for any state: halve until the first-order decrease wins (a step
        // so large that the loss overflows is an error, which also means "too large").
        let mut lr = 0.1;
        let improves = |lr: f64| matches!(step(&state, &StepOptions::sgd(lr)), Ok(r) if r.loss_after <= r.loss_before);
        while !improves(lr) && lr > 1e-12 {
            lr /= 2.0;
        }
        prop_assert!(improves(lr), "the loss still rises at learning rate {}", lr);
    }

    #[test]
    fn json_round_trip_is_exact(state in states()) {
        let text = state.to_json_string();
        let back = State::from_json_str(&text).unwrap();
        prop_assert_eq!(back, state);
    }

    #[test]
    fn every_derivation_sums_to_its_gradient(state in states(), pick in any::<u64>()) {
        prop_assume!(has_target(&state));
        let Some(g) = backward_unless_underflow(&state) else { return Ok(()) };
        let params: Vec<_> = g.weights.params().collect();
        let (name, m) = params[(pick as usize) % params.len()];
        let (i, j) = ((pick as usize / 7) % m.nrows(), (pick as usize / 131) % m.ncols());
        let index = if m.nrows() == 1 && name != "embedding" && name != "position" && name != "unembedding" && !name.starts_with('w') { vec![j] } else { vec![i, j] };
        let d = derivation(&state, &Cell::weight(name, &index)).unwrap();
        prop_assert_eq!(d.gradient, m[(i, j)]);
        let scale = m.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        prop_assert!((d.total - d.gradient).abs() <= 1e-9 * scale + 1e-14, "{}: {} vs {}", name, d.total, d.gradient);
    }
}
