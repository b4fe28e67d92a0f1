//! The core against golden files written by JAX autodiff in float64 (tests/golden/make.py): the
//! article's example and a variant with every switch on. Only the input state in those files
//! came from the core; every number compared here was computed by JAX, so a wrong forward pass,
//! gradient or optimiser step in the core fails here even if every other test agrees with it.

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
