//! The stateful handle gives exactly the numbers of the contract's functions, and a failed step
//! keeps the last good state.
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

mod common;

use common::{random_state, Shape};
use how_llms_learn::{
    article_example, backward, forward, loss, step, Activation, Cell, Session, StepOptions,
};

fn states() -> Vec<how_llms_learn::State> {
    let shape = |tokens: &[usize], eos, c, h, f, ln, act| Shape {
        vocab: 3,
        tokens: tokens.to_vec(),
        eos,
        d_model: c,
        n_heads: h,
        d_ff: f,
        layer_norm: ln,
        activation: act,
        context: 6,
    };
    vec![
        article_example(),
        random_state(
            &shape(&[0, 2, 1, 1], Some(2), 4, 2, 5, true, Activation::Gelu),
            11,
            0.8,
        ),
        random_state(
            &shape(&[1, 0, 1], None, 3, 3, 0, false, Activation::Relu),
            12,
            1.0,
        ),
    ]
}

#[test]
fn results_equal_the_contract_functions() {
    for state in states() {
        let mut s = Session::new(state.clone()).unwrap();
        assert_eq!(s.forward().unwrap(), &forward(&state).unwrap());
        assert_eq!(s.loss().unwrap(), loss(&state).unwrap());
        assert_eq!(s.backward().unwrap(), &backward(&state).unwrap());
    }
}

#[test]
fn editing_a_weight_recomputes_exactly_what_the_edited_state_gives() {
    let mut s = Session::new(article_example()).unwrap();
    s.backward().unwrap();
    s.set_weight(&Cell::weight("wo", &[0, 1]), -0.25).unwrap();
    let mut edited = article_example();
    edited.weights.wo[(0, 1)] = -0.25;
    assert_eq!(s.state(), &edited);
    assert_eq!(s.backward().unwrap(), &backward(&edited).unwrap());
    s.set_weight(&Cell::weight("b1", &[2]), 0.3).unwrap();
    edited.weights.ffn.as_mut().unwrap().b1[(0, 2)] = 0.3;
    assert_eq!(s.loss().unwrap(), loss(&edited).unwrap());
    // Bad edits are refused and change nothing.
    let err = s.set_weight(&Cell::weight("wo", &[2, 0]), 1.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "weights.wo[2][0] is outside weights.wo, which is 2×2"
    );
    let err = s
        .set_weight(&Cell::weight("wo", &[0, 0]), f64::NAN)
        .unwrap_err();
    assert_eq!(err.to_string(), "weights.wo[0][0] must be a finite number");
    let err = s
        .set_weight(&Cell::activation("x", &[0, 0]), 1.0)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "activations.x[0][0] is not a weight; only weights can be set"
    );
    assert_eq!(s.state(), &edited);
}

#[test]
fn steps_equal_the_contract_step_for_sgd_and_adam() {
    for options in [StepOptions::sgd(0.05), StepOptions::adam(0.01)] {
        for state in states() {
            let mut s = Session::new(state.clone()).unwrap();
            let mut reference = state;
            for _ in 0..5 {
                let r = step(&reference, &options).unwrap();
                let (before, after) = s.step(&options).unwrap();
                assert_eq!((before, after), (r.loss_before, r.loss_after));
                reference = r.state;
                assert_eq!(s.state(), &reference);
            }
            assert_eq!(s.backward().unwrap(), &backward(&reference).unwrap());
        }
    }
}

#[test]
fn a_diverging_step_keeps_the_last_good_state() {
    let mut s = Session::new(article_example()).unwrap();
    s.step(&StepOptions::sgd(0.1)).unwrap();
    let good = s.state().clone();
    let good_loss = s.loss_value().unwrap();
    let err = s.step(&StepOptions::sgd(1e308)).unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
    assert_eq!(s.state(), &good);
    assert_eq!(s.loss_value().unwrap(), good_loss);
    // Training stops at the first bad step and reports why.
    let t = s.train(&StepOptions::sgd(1e308), 10);
    assert!(t.losses.is_empty() && t.stopped.is_some());
    let t = s.train(&StepOptions::sgd(0.1), 10);
    assert_eq!(t.losses.len(), 10);
    assert!(t.stopped.is_none());
    assert!(t.losses[9] < good_loss);
}

#[test]
fn replacing_the_state_with_other_sizes_works() {
    let all = states();
    let mut s = Session::new(all[0].clone()).unwrap();
    for state in all.iter().chain(all.iter().rev()) {
        s.set_state(state.clone()).unwrap();
        assert_eq!(s.backward().unwrap(), &backward(state).unwrap());
    }
    // Same sizes, different input: ids and targets are re-read.
    let mut swapped = article_example();
    swapped.tokens = vec!["rocks".into(), "AI".into()];
    s.set_state(article_example()).unwrap();
    s.set_state(swapped.clone()).unwrap();
    assert_eq!(s.loss().unwrap(), loss(&swapped).unwrap());
}

#[test]
fn setting_a_weight_by_position_is_the_same_edit() {
    let mut a = Session::new(article_example()).unwrap();
    let mut b = Session::new(article_example()).unwrap();
    a.set_weight_at("b1", 0, 2, 0.3).unwrap();
    b.set_weight(&Cell::weight("b1", &[2]), 0.3).unwrap();
    assert_eq!(a.state(), b.state());
    assert_eq!(a.backward().unwrap(), b.backward().unwrap());
    // Failures give set_weight's messages and change nothing.
    let err = a.set_weight_at("wo", 2, 0, 1.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "weights.wo[2][0] is outside weights.wo, which is 2×2"
    );
    let err = a.set_weight_at("ln1Gain", 0, 0, 1.0).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("weights.ln1Gain does not exist"),
        "{err}"
    );
    let err = a.set_weight_at("wo", 0, 0, f64::INFINITY).unwrap_err();
    assert_eq!(err.to_string(), "weights.wo[0][0] must be a finite number");
    assert_eq!(a.state(), b.state());
}

/// Numbers of a contract JSON value, depth first (rows in order, heads in order); `None` for
/// the contract's null (a masked attention score).
fn flatten(v: &serde_json::Value, out: &mut Vec<Option<f64>>) {
    match v {
        serde_json::Value::Array(items) => items.iter().for_each(|x| flatten(x, out)),
        serde_json::Value::Number(n) => out.push(n.as_f64()),
        serde_json::Value::Null => out.push(None),
        other => panic!("not a matrix: {other}"),
    }
}

/// The snapshot equals the contract's numbers everywhere the contract has one (it writes null
/// for a masked score; the page masks those positions itself).
fn assert_same(data: &[f64], expected: &[Option<f64>]) {
    assert_eq!(data.len(), expected.len(), "snapshot length");
    for (i, (x, e)) in data.iter().zip(expected).enumerate() {
        if let Some(e) = e {
            assert_eq!(x, e, "snapshot entry {i}");
        }
    }
}

/// The snapshot's one buffer, laid out by the schema, holds what the contract's JSON functions
/// give (a different path: their serialisers), and says why a part is missing.
#[test]
fn a_snapshot_holds_the_contract_results_in_schema_order() {
    for state in states() {
        let schema = how_llms_learn::schema(&state);
        let fwd = serde_json::to_value(forward(&state).unwrap()).unwrap();
        let bwd = serde_json::to_value(backward(&state).unwrap()).unwrap();
        let mut expected = Vec::new();
        for e in &schema.activations {
            flatten(&fwd[e.name], &mut expected);
        }
        for e in &schema.weights {
            flatten(&bwd["weights"][e.name], &mut expected);
        }
        for e in &schema.activations {
            flatten(&bwd["activations"][e.name], &mut expected);
        }
        let snap = Session::new(state.clone()).unwrap().snapshot();
        assert_same(&snap.data, &expected);
        assert_eq!(snap.loss.as_ref(), Some(&loss(&state).unwrap()));
        assert_eq!(snap.targets, loss(&state).unwrap().targets);
        assert!(
            snap.forward_error.is_none()
                && snap.loss_error.is_none()
                && snap.backward_error.is_none()
        );
    }
    // One token and no end-of-sequence token: a forward pass but no target, so no loss.
    let mut state = article_example();
    state.tokens.truncate(1);
    let snap = Session::new(state.clone()).unwrap().snapshot();
    let fwd = serde_json::to_value(forward(&state).unwrap()).unwrap();
    let mut expected = Vec::new();
    for e in &how_llms_learn::schema(&state).activations {
        flatten(&fwd[e.name], &mut expected);
    }
    assert_same(&snap.data, &expected);
    assert!(snap.loss.is_none() && snap.forward_error.is_none());
    assert!(snap.loss_error.is_some() && snap.backward_error.is_some());
    // The target list is still there, and says why: the one position predicts nothing.
    assert_eq!(snap.targets, vec![None]);
    // With an end-of-sequence token the same position has one (its index in the vocabulary).
    state.eos = Some("rocks".into());
    let snap = Session::new(state).unwrap().snapshot();
    assert_eq!(snap.targets, vec![Some(1)]);
    assert!(snap.loss_error.is_none());
}
