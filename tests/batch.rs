//! The batch loss: every weight gradient (whole batch and mini-batch) against finite differences,
//! the shown sequence's activation gradients counting its copies, exact derivations, and a batch
//! of one sequence giving exactly the single-sentence numbers.
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

mod common;

use common::{activation_cells, random_state, rel_error, Shape};
use how_llms_learn::{
    backward, derivation, finite_difference, loss, step, Activation, ActivationRef, BatchDraw,
    Cell, State, StepOptions,
};

const TOLERANCE: f64 = 1e-6;
const EPS: f64 = 1e-5;

fn names(state: &State, ids: &[usize]) -> Vec<String> {
    ids.iter().map(|&i| state.vocab[i].clone()).collect()
}

/// A state over `seqs` (vocabulary indices) with `tokens` shown.
fn batch_state(seqs: &[&[usize]], tokens: &[usize], eos: Option<usize>, seed: u64) -> State {
    let shape = Shape {
        vocab: 4,
        tokens: tokens.to_vec(),
        eos,
        d_model: 4,
        n_heads: 2,
        d_ff: 5,
        layer_norm: true,
        activation: Activation::Gelu,
        context: 5,
    };
    let mut s = random_state(&shape, seed, 0.8);
    s.sequences = Some(seqs.iter().map(|q| names(&s, q)).collect());
    s.validate().expect("valid batch state");
    s
}

/// Three or four sequences of different lengths, with and without eos; the shown sequence is in
/// the batch twice, once, or not at all.
fn states() -> Vec<(&'static str, State)> {
    vec![
        (
            "eos, 4 sequences, shown twice",
            batch_state(
                &[&[0, 1, 2], &[3, 1], &[0, 1, 2], &[2, 0, 0, 1, 3]],
                &[0, 1, 2],
                Some(3),
                11,
            ),
        ),
        (
            "no eos, 3 sequences, one of one token, shown once",
            batch_state(&[&[1, 2, 3, 0], &[2], &[0, 3]], &[0, 3], None, 12),
        ),
        (
            "eos, 2 sequences, shown not in the batch",
            batch_state(&[&[3, 3, 1], &[0, 2, 1, 1, 2]], &[1, 2], Some(0), 13),
        ),
    ]
}

fn loss_with(state: &State, name: &str, i: usize, j: usize, delta: f64) -> f64 {
    let mut s = state.clone();
    s.weights.get_mut(name).expect("weight")[(i, j)] += delta;
    loss(&s).expect("loss").value
}

/// Richardson extrapolation of two central differences (as in gradient_check.rs).
fn numeric(f: impl Fn(f64) -> f64) -> f64 {
    let central = |e: f64| (f(e) - f(-e)) / (2.0 * e);
    (4.0 * central(EPS / 2.0) - central(EPS)) / 3.0
}

/// Every entry of `grads` against the finite difference of `state`'s batch loss.
fn check_every_weight(label: &str, state: &State, grads: &how_llms_learn::Weights) -> usize {
    let mut checked = 0;
    for (name, g) in grads.params() {
        for i in 0..g.nrows() {
            for j in 0..g.ncols() {
                let n = numeric(|e| loss_with(state, name, i, j, e));
                let err = rel_error(g[(i, j)], n);
                assert!(
                    err <= TOLERANCE,
                    "{label}: weights.{name}[{i}][{j}] backward {} vs numeric {n} ({err:e})",
                    g[(i, j)]
                );
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn every_weight_gradient_of_a_batch_matches_finite_differences() {
    for (label, state) in states() {
        let g = backward(&state).expect(label);
        let checked = check_every_weight(label, &state, &g.weights);
        assert_eq!(
            checked,
            state.weights.params().map(|(_, m)| m.len()).sum::<usize>()
        );
        eprintln!("{label}: {checked} weight entries");
    }
}

#[test]
fn a_mini_batch_step_uses_the_gradient_of_the_drawn_sequences() {
    for (label, state) in states() {
        let draw = BatchDraw {
            size: 2,
            seed: 7,
            step: 3,
        };
        let mut options = StepOptions::sgd(0.5);
        options.batch = Some(draw);
        let result = step(&state, &options).expect(label);
        let total = state.sequences.as_ref().unwrap().len();
        let drawn = result.batch.clone().expect("indices");
        assert_eq!(
            drawn,
            draw.indices(total).unwrap(),
            "{label}: the documented draw"
        );
        assert_eq!(drawn.len(), 2);
        // The mini-batch as a batch of its own: its loss is the step's lossBefore, and the SGD
        // update is −η times its gradient, which finite differences check entry by entry.
        let mut sub = state.clone();
        let seqs = state.sequences.as_ref().unwrap();
        sub.sequences = Some(drawn.iter().map(|&i| seqs[i].clone()).collect());
        assert_eq!(result.loss_before, loss(&sub).unwrap().value, "{label}");
        let mut g = result.update.clone();
        for (_, m) in g.params_mut() {
            *m *= -1.0 / 0.5;
        }
        check_every_weight(label, &sub, &g);
        // Any step's draw is reproducible alone, and different steps draw differently.
        let again = step(&state, &options).unwrap();
        assert_eq!(again.batch, result.batch);
    }
}

#[test]
fn activation_gradients_count_the_copies_of_the_shown_sequence() {
    for (label, state) in states() {
        let g = backward(&state).expect(label);
        let copies = state
            .sequences
            .as_ref()
            .unwrap()
            .iter()
            .filter(|s| **s == state.tokens)
            .count();
        assert_eq!(g.shown_in_batch, Some(copies), "{label}");
        let mut checked = 0;
        for (name, a) in g.activations.entries() {
            let cells = activation_cells(a);
            for (index, analytic) in cells {
                let cell = Cell::activation(name, &index);
                if copies == 0 {
                    assert_eq!(analytic, 0.0, "{label}: {name}{index:?}");
                }
                // The probe moves the entry in every copy of the shown sequence.
                let fd = |e: f64| finite_difference(&state, &cell, Some(e)).unwrap().numeric;
                let n = (4.0 * fd(EPS / 2.0) - fd(EPS)) / 3.0;
                let err = rel_error(analytic, n);
                assert!(
                    err <= TOLERANCE,
                    "{label}: {name}{index:?} {analytic} vs {n} ({err:e})"
                );
                checked += 1;
            }
        }
        assert!(checked > 0);
    }
}

#[test]
fn derivations_of_a_batch_are_exact_and_name_their_sequences() {
    for (label, state) in states() {
        let g = backward(&state).unwrap();
        for (name, m) in g.weights.params() {
            let vector = how_llms_learn::WEIGHT_NAMES[6..16].contains(&name) && m.nrows() == 1;
            for i in 0..m.nrows() {
                for j in 0..m.ncols() {
                    let index = if vector { vec![j] } else { vec![i, j] };
                    let d = derivation(&state, &Cell::weight(name, &index)).unwrap();
                    assert_eq!(
                        d.gradient,
                        m[(i, j)],
                        "{label}: {name}{index:?} is backward's"
                    );
                    let bound = 1e-9 * d.gradient.abs() + 1e-14;
                    assert!(
                        (d.total - d.gradient).abs() <= bound.max(1e-12),
                        "{label}: {name}{index:?}"
                    );
                    assert!(d.terms.iter().all(|t| t.sequence.is_some()));
                }
            }
        }
        let copies = g.shown_in_batch.unwrap();
        for (name, index) in [
            ("logits", vec![0, 1]),
            ("x", vec![1, 2]),
            ("attention", vec![1, 1, 0]),
        ] {
            let d = derivation(&state, &Cell::activation(name, &index)).unwrap();
            let want = match g.activations.get(name).unwrap() {
                ActivationRef::Matrix(m) => m[(index[0], index[1])],
                ActivationRef::Heads(hs) => hs[index[0]][(index[1], index[2])],
            };
            assert_eq!(d.gradient, want, "{label}: {name}");
            assert!(
                (d.total - d.gradient).abs() <= 1e-9 * want.abs() + 1e-14,
                "{label}: {name} total {} vs {}",
                d.total,
                want
            );
            let seqs: std::collections::BTreeSet<_> =
                d.terms.iter().filter_map(|t| t.sequence).collect();
            assert!(
                seqs.len() == copies || d.terms.is_empty(),
                "{label}: {name} terms from {seqs:?}"
            );
        }
    }
}

#[test]
fn a_batch_of_the_shown_sentence_alone_gives_the_single_sentence_numbers_exactly() {
    for (label, mut state) in states() {
        state.sequences = None;
        state.held_out = None;
        let single_loss = loss(&state).unwrap();
        let single = backward(&state).unwrap();
        state.sequences = Some(vec![state.tokens.clone()]);
        let batch_loss = loss(&state).unwrap();
        let batch = backward(&state).unwrap();
        assert_eq!(batch_loss.value, single_loss.value, "{label}");
        assert_eq!(batch_loss.terms, single_loss.terms, "{label}");
        assert_eq!(batch.weights, single.weights, "{label}");
        assert_eq!(batch.activations, single.activations, "{label}");
        assert_eq!(batch.shown_in_batch, Some(1));
        assert_eq!(single.shown_in_batch, None);
    }
}

#[test]
fn the_held_out_loss_is_reported_and_never_trained_on() {
    let (_, mut state) = states().remove(0);
    let v = |ids: &[usize]| names(&state, ids);
    state.held_out = Some(vec![v(&[2, 1]), v(&[0, 0, 0])]);
    let report = loss(&state).unwrap();
    let held = report.held_out.clone().unwrap().unwrap();
    assert_eq!(held.positions, 2 + 3);
    // The held-out loss is the batch loss of a state whose batch is the held-out set.
    let mut as_batch = state.clone();
    as_batch.sequences = state.held_out.clone();
    as_batch.held_out = None;
    assert_eq!(held.value, loss(&as_batch).unwrap().value);
    // Training gradients do not depend on it.
    let mut without = state.clone();
    without.held_out = None;
    assert_eq!(
        backward(&state).unwrap().weights,
        backward(&without).unwrap().weights
    );
    assert_eq!(report.batch.unwrap().positions, 3 + 2 + 3 + 5);
}
