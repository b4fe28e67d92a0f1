//! After an edit of one weight a `Session` recomputes the forward pass only from the first stage
//! that reads that weight. Whatever the order of edits, reads, steps and state changes, its
//! results must be exactly those of the contract's functions on the edited state, which compute
//! everything from scratch (the same operations in the same order, so equal bit for bit).
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

mod common;

use common::{random_state, Shape};
use how_llms_learn::{backward, forward, loss, Activation, Session, State, StepOptions};

fn states() -> Vec<State> {
    let shape = |tokens: &[usize], f, ln, act| Shape {
        vocab: 4,
        tokens: tokens.to_vec(),
        eos: Some(3),
        d_model: 6,
        n_heads: 2,
        d_ff: f,
        layer_norm: ln,
        activation: act,
        context: 7,
    };
    let full = random_state(&shape(&[0, 2, 1, 1, 3], 5, true, Activation::Gelu), 21, 0.7);
    let mut batch = full.clone();
    let names = |ids: &[usize]| ids.iter().map(|&i| full.vocab[i].clone()).collect();
    batch.sequences = Some(vec![
        names(&[0, 2, 1, 1, 3]),
        names(&[2, 2, 0]),
        names(&[1]),
    ]);
    vec![
        full,
        random_state(&shape(&[1, 0, 2], 4, false, Activation::Relu), 22, 0.9),
        random_state(&shape(&[3, 1, 0, 2], 0, true, Activation::Gelu), 23, 0.8),
        batch,
    ]
}

/// Every weight of the state with one of its entries: (name, index).
fn entries(state: &State) -> Vec<(&'static str, Vec<usize>)> {
    let vector =
        |name: &str| name.starts_with('b') || name.ends_with("Gain") || name.ends_with("Bias");
    let params = state.weights.params();
    params
        .map(|(name, m)| {
            let (i, j) = (1.min(m.nrows() - 1), m.ncols() / 2);
            (name, if vector(name) { vec![j] } else { vec![i, j] })
        })
        .collect()
}

fn same_as_from_scratch(s: &mut Session, what: &str) {
    let state = s.state().clone();
    assert_eq!(
        s.forward().unwrap(),
        &forward(&state).unwrap(),
        "{what}: forward"
    );
    assert_eq!(s.loss().unwrap(), loss(&state).unwrap(), "{what}: loss");
    assert_eq!(
        s.backward().unwrap(),
        &backward(&state).unwrap(),
        "{what}: backward"
    );
}

/// Edits every weight in turn, in the stages' order and in reverse, with the results read after
/// every edit, after every other edit (two stale stages at once, the earlier one first or the
/// later one first) or only the forward pass (a stale loss and gradient).
#[test]
fn every_edit_in_any_order_gives_the_results_computed_from_scratch() {
    for state in states() {
        let mut s = Session::new(state.clone()).unwrap();
        s.backward().unwrap();
        for reverse in [false, true] {
            let mut edits = entries(&state);
            if reverse {
                edits.reverse();
            }
            for (k, (name, index)) in edits.iter().enumerate() {
                let cell = how_llms_learn::Cell::weight(name, index);
                s.set_weight(&cell, 0.3 - 0.1 * k as f64).unwrap();
                let what = format!("{} after editing {name}{index:?}", state.config.d_ff);
                match k % 3 {
                    0 => same_as_from_scratch(&mut s, &what),
                    1 => {
                        let state = s.state().clone();
                        assert_eq!(s.forward().unwrap(), &forward(&state).unwrap(), "{what}");
                    }
                    _ => {}
                }
            }
            same_as_from_scratch(&mut s, "after the last edit");
        }
    }
}

/// The paths that change every weight or the input: a step, training, a new state of the same
/// sizes. Each is followed by an edit of a late stage, whose partial pass must start from the
/// new weights' earlier stages.
#[test]
fn steps_training_and_new_states_leave_no_stale_stage() {
    for state in states() {
        let mut s = Session::new(state.clone()).unwrap();
        s.backward().unwrap();
        s.set_weight_at("unembedding", 0, 1, 0.5).unwrap();
        s.step(&StepOptions::sgd(0.1)).unwrap();
        s.set_weight_at("unembedding", 1, 0, -0.5).unwrap();
        same_as_from_scratch(&mut s, "after a step and an edit");
        let run = s.train(&StepOptions::adam(0.01), 2);
        assert!(run.stopped.is_none());
        s.set_weight_at("wo", 0, 0, 0.25).unwrap();
        same_as_from_scratch(&mut s, "after training and an edit");

        let mut other = state.clone();
        other.tokens.rotate_left(1);
        other.weights.embedding[(0, 0)] += 0.5;
        s.forward().unwrap();
        s.set_state(other).unwrap();
        s.set_weight_at("unembedding", 0, 0, 0.125).unwrap();
        same_as_from_scratch(&mut s, "after setState and an edit");
    }
}
