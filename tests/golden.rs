//! The core against golden files written by JAX autodiff in float64 (tests/golden/make.py): the
//! article's example and a variant with every switch on. Only the input state in those files
//! came from the core; every number compared here was computed by JAX, so a wrong forward pass,
//! gradient or optimiser step in the core fails here even if every other test agrees with it.

use how_llms_learn::{backward, forward, loss, step, State, StepOptions};
use serde_json::Value;

fn json<T: serde::Serialize>(x: &T) -> Value {
    serde_json::to_value(x).expect("serialisable")
}

fn golden(name: &str) -> Value {
    let path = format!("{}/tests/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

/// Every number of a nested JSON array in order; `None` for null (a masked score).
fn flatten(v: &Value, out: &mut Vec<Option<f64>>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flatten(x, out)),
        Value::Null => out.push(None),
        x => out.push(Some(x.as_f64().expect("a number"))),
    }
}

/// max|a − b| ≤ 1e-9·max|b| + 1e-14 over the matrix, with nulls in the same places.
fn assert_normwise(what: &str, core: &Value, jax: &Value) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten(core, &mut a);
    flatten(jax, &mut b);
    assert_eq!(
        a.len(),
        b.len(),
        "{what}: {} numbers in the core, {} from JAX",
        a.len(),
        b.len()
    );
    let scale = b.iter().flatten().fold(0.0_f64, |m, x| m.max(x.abs()));
    let mut worst = 0.0_f64;
    for (k, (x, y)) in a.iter().zip(&b).enumerate() {
        match (x, y) {
            (Some(x), Some(y)) => worst = worst.max((x - y).abs()),
            (None, None) => {}
            _ => panic!("{what}: entry {k} is {x:?} in the core, {y:?} from JAX"),
        }
    }
    assert!(
        worst <= 1e-9 * scale + 1e-14,
        "{what}: max |core − JAX| = {worst:e} at scale {scale:e}"
    );
}

/// Every entry of `jax` (an object of matrices) against the same key of `core`.
fn assert_all(what: &str, core: &Value, jax: &Value) -> usize {
    let jax = jax.as_object().expect(what);
    for (name, m) in jax {
        let mine = core
            .get(name)
            .unwrap_or_else(|| panic!("{what}: the core has no {name}"));
        assert_normwise(&format!("{what} {name}"), mine, m);
    }
    jax.len()
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
