//! The core against golden files written by JAX autodiff in float64 (tests/golden/make.py): the
//! article's example and a variant with every switch on. Only the input state in those files
//! came from the core; every number compared here was computed by JAX, so a wrong forward pass,
//! gradient or optimiser step in the core fails here even if every other test agrees with it.
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

mod common;

use common::golden::{assert_all, assert_normwise, golden};
use how_llms_learn::{backward, forward, loss, step, State, StepOptions};
use serde_json::Value;

fn json<T: serde::Serialize>(x: &T) -> Value {
    serde_json::to_value(x).expect("serialisable")
}

fn check(name: &str) {
    let g = golden(name);
    let state = State::from_json(&g["state"]).expect("the golden state is valid");
    let fwd = json(&forward(&state).unwrap());
    let n_fwd = assert_all(&format!("{name}: forward"), &fwd, &g["forward"]);
    let l = json(&loss(&state).unwrap());
    assert_normwise(&format!("{name}: loss"), &l["value"], &g["loss"]["value"]);
    assert_normwise(
        &format!("{name}: loss terms"),
        &l["terms"],
        &g["loss"]["terms"],
    );
    let b = json(&backward(&state).unwrap());
    let n_w = assert_all(
        &format!("{name}: ∂L/∂weights"),
        &b["weights"],
        &g["backward"]["weights"],
    );
    let n_a = assert_all(
        &format!("{name}: ∂L/∂activations"),
        &b["activations"],
        &g["backward"]["activations"],
    );
    let sgd = json(&step(&state, &StepOptions::sgd(0.1)).unwrap().state);
    assert_all(
        &format!("{name}: after an SGD step"),
        &sgd["weights"],
        &g["sgd"]["weights"],
    );
    let adam = json(&step(&state, &StepOptions::adam(0.01)).unwrap().state);
    assert_all(
        &format!("{name}: after an Adam step"),
        &adam["weights"],
        &g["adam"]["weights"],
    );
    assert_all(
        &format!("{name}: Adam's m"),
        &adam["optimizer"]["m"],
        &g["adam"]["m"],
    );
    assert_all(
        &format!("{name}: Adam's v"),
        &adam["optimizer"]["v"],
        &g["adam"]["v"],
    );
    // The golden file must cover the model: every activation and weight, both ways.
    assert_eq!(
        n_fwd,
        fwd.as_object().unwrap().len(),
        "{name}: forward results missing from the golden file"
    );
    assert_eq!(
        n_w,
        b["weights"].as_object().unwrap().len(),
        "{name}: weight gradients missing"
    );
    assert_eq!(
        n_a,
        b["activations"].as_object().unwrap().len(),
        "{name}: activation gradients missing"
    );
}

#[test]
fn the_article_example_matches_jax() {
    check("article");
}

#[test]
fn every_switch_on_matches_jax() {
    check("everything");
}

/// A training batch (four sequences of three lengths, the shown one twice, one of a single token)
/// with a held-out sequence: the batch loss, each sequence's loss, the held-out loss, every weight
/// gradient, the shown sequence's activation gradients, SGD and Adam steps, and a mini-batch step
/// whose draw JAX's side redoes from the documented SplitMix64 rule.
#[test]
fn a_training_batch_matches_jax() {
    let name = "batch";
    let g = golden(name);
    let state = State::from_json(&g["state"]).expect("the golden state is valid");
    let l = json(&loss(&state).unwrap());
    assert_normwise("batch: loss", &l["value"], &g["loss"]["value"]);
    assert_eq!(l["batch"]["positions"], g["loss"]["positions"]);
    for (k, (mine, jax)) in l["batch"]["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .zip(g["loss"]["sequences"].as_array().unwrap())
        .enumerate()
    {
        assert_normwise(
            &format!("batch: sequence {k}'s loss"),
            &mine["value"],
            &jax["value"],
        );
        assert_eq!(mine["positions"], jax["positions"]);
    }
    assert_normwise(
        "batch: held-out loss",
        &l["heldOut"]["value"],
        &g["loss"]["heldOut"],
    );
    let b = json(&backward(&state).unwrap());
    assert_normwise("batch: backward's loss", &b["loss"], &g["loss"]["value"]);
    let n_w = assert_all(
        "batch: ∂L/∂weights",
        &b["weights"],
        &g["backward"]["weights"],
    );
    assert_eq!(n_w, b["weights"].as_object().unwrap().len());
    let n_a = assert_all(
        "batch: ∂L/∂activations of the shown sequence",
        &b["activations"],
        &g["backward"]["activations"],
    );
    assert_eq!(
        n_a + 1,
        b["activations"].as_object().unwrap().len(),
        "all but probs"
    );
    assert_eq!(b["shownInBatch"], 2);
    let sgd = json(&step(&state, &StepOptions::sgd(0.1)).unwrap().state);
    assert_all(
        "batch: after an SGD step",
        &sgd["weights"],
        &g["sgd"]["weights"],
    );
    let adam = json(&step(&state, &StepOptions::adam(0.01)).unwrap().state);
    assert_all(
        "batch: after an Adam step",
        &adam["weights"],
        &g["adam"]["weights"],
    );
    let mb = &g["miniBatch"];
    let mut options = StepOptions::sgd(0.1);
    options.batch = Some(how_llms_learn::BatchDraw {
        size: 2,
        seed: 5,
        step: 1,
    });
    let result = step(&state, &options).unwrap();
    assert_eq!(json(&result.batch), mb["indices"], "the draw");
    let after = json(&result.state);
    assert_all(
        "batch: after a mini-batch SGD step",
        &after["weights"],
        &mb["weights"],
    );
}
