//! The parser and everything behind it never panic, whatever JSON arrives: arbitrary values, and
//! valid states with one field replaced by anything. Each accepted state is also run through every
//! function. The case count defaults to 100,000 mutations (FUZZ_CASES overrides it).
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

use how_llms_learn::{
    article_example, backward, derivation, finite_difference, forward, loss, resize, step, Cell,
    Resize, State, StepOptions,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

fn cases(default: u32) -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        -3.0f64..3.0,
        Just(0.0),
        Just(1e300),
        Just(-1e300),
        (0i64..600).prop_map(|i| i as f64)
    ]
    .prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number))
}

/// Any JSON value, with the numbers and strings most likely to break things over-represented.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(1.0),
            Just(2.0),
            Just(-1.0),
            Just(0.5),
            Just(1e300),
            Just(-1e300),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(4294967296.0),
            Just(1e20),
            any::<f64>(),
            (0i64..600).prop_map(|i| i as f64),
        ]
        .prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just(String::new()),
            Just("AI".to_string()),
            Just("rocks".to_string()),
            Just("relu".to_string()),
            Just("adam".to_string()),
            Just("<img src=x onerror=alert(1)>".to_string()),
            ".{0,80}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("vocab".to_string()),
                    Just("tokens".to_string()),
                    Just("config".to_string()),
                    Just("weights".to_string()),
                    Just("wq".to_string()),
                    Just("dModel".to_string()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path (object keys and array indices) in a JSON value.
fn paths(v: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(json!(k));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(json!(i));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn replace(v: &mut Value, path: &[Value], with: Value) {
    let mut cur = v;
    for key in path {
        cur = match key {
            Value::String(k) => &mut cur[k.as_str()],
            Value::Number(i) => &mut cur[i.as_u64().unwrap_or(0) as usize],
            _ => unreachable!(),
        };
    }
    *cur = with;
}

/// Runs every function on an accepted state; only errors are allowed, never panics.
fn exercise(state: &State, pick: u64) {
    let _ = forward(state);
    let _ = loss(state);
    let _ = backward(state);
    let _ = step(state, &StepOptions::sgd(0.1));
    let _ = step(state, &StepOptions::adam(0.01));
    let names: Vec<_> = state.weights.params().collect();
    let (name, m) = names[(pick as usize) % names.len()];
    let cell = Cell::weight(
        name,
        &[
            (pick as usize / 3) % m.nrows(),
            (pick as usize / 5) % m.ncols(),
        ],
    );
    let _ = derivation(state, &cell);
    let _ = finite_difference(state, &Cell::activation("scores", &[0, 0, 0]), None);
    let _ = resize(
        state,
        &Resize {
            vocab: Some(vec!["AI".into(), "x".into()]),
            config: None,
        },
    );
}

#[test]
fn arbitrary_json_never_panics_the_parsers() {
    let mut runner = TestRunner::new(Config {
        cases: cases(100_000) / 5,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&any_json(), |v| {
            if let Ok(s) = State::from_json(&v) {
                exercise(&s, 0);
            }
            let _ = StepOptions::from_json(&v);
            let _ = Cell::from_json(&v);
            let _ = Resize::from_json(&v);
            Ok(())
        })
        .unwrap();
}

#[test]
fn valid_states_with_one_field_replaced_never_panic() {
    let mut base = serde_json::to_value(article_example()).unwrap();
    base["eos"] = json!("rocks");
    let mut all = Vec::new();
    paths(&base, &mut Vec::new(), &mut all);
    let all_paths = all;
    let accepted = AtomicUsize::new(0);
    let total = cases(100_000);
    let mut runner = TestRunner::new(Config {
        cases: total,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        // Mostly numbers (so many mutants are valid and run), sometimes any JSON at all.
        .run(
            &(
                0..all_paths.len(),
                prop_oneof![3 => number(), 1 => any_json()],
                any::<u64>(),
            ),
            |(p, with, pick)| {
                let mut v = base.clone();
                replace(&mut v, &all_paths[p], with);
                if let Ok(s) = State::from_json(&v) {
                    accepted.fetch_add(1, Ordering::Relaxed);
                    exercise(&s, pick);
                }
                Ok(())
            },
        )
        .unwrap();
    eprintln!(
        "{total} mutated states over {} paths: {} accepted and run through every function, the rest refused with a message; no panic",
        all_paths.len(),
        accepted.load(Ordering::Relaxed)
    );
}
