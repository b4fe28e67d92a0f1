//! Browser tests of the WebAssembly API (`crate/src/wasm.rs`), run in headless Chromium by
//! `wasm-pack test --headless --chrome` (npm test's browser stage).
//!
//! Each export is called the way a page calls it, with plain JS objects, and its answer must be
//! the core's own answer for the same input, number for number. Bad input must come back as a JS
//! `Error` whose message names the field.
#![cfg(target_arch = "wasm32")]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

mod common;

use how_llms_learn::{self as core, wasm, Cell, Resize, State, StepOptions};
use js_sys::{Array, Reflect};
use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsError, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A JSON value as the plain JS object a page would pass.
fn js(value: &Value) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
}

/// A JS answer read back as JSON.
fn from_js(value: JsValue) -> Value {
    serde_wasm_bindgen::from_value(value).unwrap()
}

/// What the core itself gives, as JSON.
fn core_json<T: Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap()
}

fn example() -> Value {
    core_json(core::article_example())
}

fn example_state() -> State {
    State::from_json(&example()).unwrap()
}

/// Same structure and the very same numbers. Numbers are compared as f64 because a whole number
/// comes back from JS as an integer while the core serialises it as a float.
fn assert_same(got: &Value, want: &Value, path: &str) {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!(a == b, "{path}: got {a}, want {b}");
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: length");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_same(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let mut ka: Vec<_> = a.keys().collect();
            let mut kb: Vec<_> = b.keys().collect();
            ka.sort();
            kb.sort();
            assert_eq!(ka, kb, "{path}: keys");
            for (k, y) in b {
                assert_same(&a[k], y, &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(got, want, "{path}"),
    }
}

/// The message of the JS Error an export threw; fails if it returned normally or threw a non-Error.
fn thrown(result: Result<JsValue, JsError>) -> String {
    let error = match result {
        Ok(value) => panic!("expected an Error, got {value:?}"),
        Err(e) => JsValue::from(e),
    };
    let error: js_sys::Error = error
        .dyn_into()
        .expect("threw something that is not an Error");
    String::from(error.message())
}

#[wasm_bindgen_test]
fn article_example_is_the_core_example_as_a_plain_object() {
    let got = wasm::article_example().unwrap();
    assert!(got.is_object());
    assert!(Array::is_array(
        &Reflect::get(&got, &"vocab".into()).unwrap()
    ));
    // Matrices are arrays of rows.
    let weights = Reflect::get(&got, &"weights".into()).unwrap();
    let wq = Reflect::get(&weights, &"wq".into()).unwrap();
    assert!(Array::is_array(&wq.unchecked_into::<Array>().get(0)));
    // No optimizer field, or null: both mean "no moments yet".
    let optimizer = Reflect::get(&got, &"optimizer".into()).unwrap();
    assert!(optimizer.is_undefined() || optimizer.is_null());
    assert_same(&from_js(got), &example(), "articleExample()");
}

#[wasm_bindgen_test]
fn article_example_round_trips_through_validate() {
    let state = wasm::article_example().unwrap();
    let got = wasm::validate(state).unwrap();
    assert_same(&from_js(got), &example(), "validate(articleExample())");
}

#[wasm_bindgen_test]
fn forward_matches_the_core() {
    let got = from_js(wasm::forward(js(&example())).unwrap());
    let want = core_json(core::forward(&example_state()).unwrap());
    assert_same(&got, &want, "forward");
    // Masked scores are null: position 0 cannot see position 1.
    assert_eq!(got["scores"][0][0][1], Value::Null);
    assert_eq!(got["attention"][0][0][1].as_f64(), Some(0.0));
    let t = got["probs"].as_array().unwrap().len();
    assert_eq!(t, 2);
}

#[wasm_bindgen_test]
fn loss_matches_the_core() {
    let got = from_js(wasm::loss(js(&example())).unwrap());
    let want = core_json(core::loss(&example_state()).unwrap());
    assert_same(&got, &want, "loss");
    assert_eq!(got["count"].as_f64(), Some(1.0));
    assert_eq!(got["targets"], json!([1, null]));
    assert_eq!(got["terms"][1], Value::Null);
    assert!(got["value"].as_f64().unwrap() > 0.0);
}

#[wasm_bindgen_test]
fn backward_matches_the_core() {
    let got = from_js(wasm::backward(js(&example())).unwrap());
    let want = core_json(core::backward(&example_state()).unwrap());
    assert_same(&got, &want, "backward");
    let weight_keys: Vec<_> = got["weights"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let state_keys: Vec<_> = example()["weights"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(weight_keys.len(), state_keys.len());
}

#[wasm_bindgen_test]
fn step_matches_the_core_for_sgd_and_adam() {
    for options in [
        json!({ "optimizer": "sgd", "learningRate": 0.1 }),
        json!({ "optimizer": "adam", "learningRate": 0.01, "beta1": 0.8 }),
    ] {
        let got = from_js(wasm::step(js(&example()), js(&options)).unwrap());
        let core_options = StepOptions::from_json(&options).unwrap();
        let want = core_json(core::step(&example_state(), &core_options).unwrap());
        assert_same(&got, &want, &format!("step({options})"));
        assert!(got["lossAfter"].as_f64() < got["lossBefore"].as_f64());
        // The new state is valid input for the next call.
        from_js(wasm::loss(js(&got["state"])).unwrap());
    }
}

#[wasm_bindgen_test]
fn derivation_and_finite_difference_match_the_core() {
    let cell = json!({ "group": "weights", "name": "wq", "index": [0, 1] });
    let core_cell = Cell::from_json(&cell).unwrap();
    let got = from_js(wasm::derivation(js(&example()), js(&cell)).unwrap());
    let want = core_json(core::derivation(&example_state(), &core_cell).unwrap());
    assert_same(&got, &want, "derivation");

    let got =
        from_js(wasm::finite_difference(js(&example()), js(&cell), JsValue::UNDEFINED).unwrap());
    let want = core_json(core::finite_difference(&example_state(), &core_cell, None).unwrap());
    assert_same(&got, &want, "finiteDifference");
    let got =
        from_js(wasm::finite_difference(js(&example()), js(&cell), JsValue::from(1e-4)).unwrap());
    let want =
        core_json(core::finite_difference(&example_state(), &core_cell, Some(1e-4)).unwrap());
    assert_same(&got, &want, "finiteDifference(epsilon 1e-4)");
}

#[wasm_bindgen_test]
fn resize_matches_the_core() {
    let change = json!({ "vocab": ["AI", "rocks", "rolls"] });
    let got = from_js(wasm::resize(js(&example()), js(&change)).unwrap());
    let want =
        core_json(core::resize(&example_state(), &Resize::from_json(&change).unwrap()).unwrap());
    assert_same(&got, &want, "resize");
    assert_eq!(got["weights"]["embedding"].as_array().unwrap().len(), 3);
}

#[wasm_bindgen_test]
fn a_row_with_too_many_numbers_names_the_row() {
    let mut state = example();
    state["weights"]["wq"][1] = json!([0.1, 0.4, 0.9]);
    let message = thrown(wasm::forward(js(&state)));
    assert!(message.contains("weights.wq row 1"), "{message}");
    assert!(message.contains("3 numbers, expected 2"), "{message}");
    // Every export that takes a state reports it the same way.
    for result in [
        wasm::loss(js(&state)),
        wasm::backward(js(&state)),
        wasm::validate(js(&state)),
        wasm::step(js(&state), js(&json!({ "learningRate": 0.1 }))),
    ] {
        assert!(thrown(result).contains("weights.wq row 1"));
    }
}

#[wasm_bindgen_test]
fn nan_and_missing_fields_are_named() {
    // NaN cannot be written in JSON but a page can pass it.
    let state = js(&example());
    let weights = Reflect::get(&state, &"weights".into()).unwrap();
    let embedding: Array = Reflect::get(&weights, &"embedding".into())
        .unwrap()
        .unchecked_into();
    let row: Array = embedding.get(0).unchecked_into();
    row.set(1, JsValue::from_f64(f64::NAN));
    let message = thrown(wasm::forward(state));
    assert!(message.contains("weights.embedding"), "{message}");

    let mut state = example();
    state.as_object_mut().unwrap().remove("tokens");
    assert!(thrown(wasm::loss(js(&state))).contains("tokens"));

    let mut state = example();
    state["tokens"] = json!(["AI", "paper"]);
    assert!(thrown(wasm::loss(js(&state))).contains("paper"));

    assert!(thrown(wasm::forward(JsValue::from_str("AI rocks"))).contains("state"));
    assert!(thrown(wasm::forward(JsValue::UNDEFINED)).contains("state"));
}

#[wasm_bindgen_test]
fn bad_options_cells_and_changes_are_named() {
    let state = example();
    let message = thrown(wasm::step(js(&state), js(&json!({ "learningRate": 0 }))));
    assert!(message.contains("learningRate"), "{message}");
    let message = thrown(wasm::step(
        js(&state),
        js(&json!({ "optimizer": "momentum", "learningRate": 0.1 })),
    ));
    assert!(message.contains("optimizer"), "{message}");

    let cell = json!({ "group": "gradients", "name": "wq", "index": [0, 0] });
    assert!(thrown(wasm::derivation(js(&state), js(&cell))).contains("cell.group"));
    let cell = json!({ "group": "weights", "name": "wq", "index": [5, 0] });
    assert!(thrown(wasm::finite_difference(
        js(&state),
        js(&cell),
        JsValue::UNDEFINED
    ))
    .contains("wq"));

    let change = json!({ "config": { "dModel": 3, "nHeads": 2, "dFf": 4, "layerNorm": false,
                                     "activation": "relu", "context": 4 } });
    assert!(thrown(wasm::resize(js(&state), js(&change))).contains("nHeads"));
}

#[wasm_bindgen_test]
fn a_single_token_without_eos_has_nothing_to_predict() {
    let mut state = example();
    state["tokens"] = json!(["AI"]);
    let message = thrown(wasm::loss(js(&state)));
    assert!(!message.is_empty());
    // With eos the last position gets a target and the loss exists.
    state["eos"] = json!("rocks");
    let got = from_js(wasm::loss(js(&state)).unwrap());
    assert_eq!(got["count"].as_f64(), Some(1.0));
}

fn float64(array: js_sys::Float64Array) -> Vec<f64> {
    array.to_vec()
}

#[wasm_bindgen_test]
fn the_model_handle_gives_the_contract_functions_numbers() {
    let model = wasm::Model::new(js(&example())).unwrap();
    assert_same(
        &from_js(model.forward().unwrap()),
        &core_json(core::forward(&example_state()).unwrap()),
        "Model.forward",
    );
    assert_same(
        &from_js(model.backward().unwrap()),
        &core_json(core::backward(&example_state()).unwrap()),
        "Model.backward",
    );
    // Typed arrays are row-major.
    assert_eq!(
        float64(model.weight("wo".into()).unwrap()),
        vec![1.0, -0.5, 0.3, 0.7]
    );
    assert_eq!(
        float64(model.activation("x".into()).unwrap()),
        vec![1.1, 0.0, 0.0, 1.1]
    );
    let dlogits = float64(model.activation_gradient("logits".into()).unwrap());
    assert_eq!(dlogits[2..], [0.0, 0.0]);

    // An edit in place gives exactly what the contract's backward gives for the edited state.
    model
        .set_weight("wo".into(), 0.into(), 1.into(), JsValue::from(-0.25))
        .unwrap();
    let mut edited = example();
    edited["weights"]["wo"][0][1] = json!(-0.25);
    let want = core_json(core::backward(&State::from_json(&edited).unwrap()).unwrap());
    assert_same(
        &from_js(model.backward().unwrap()),
        &want,
        "Model.backward after setWeight",
    );
    assert_same(
        &from_js(model.get_state().unwrap()),
        &edited,
        "Model.getState",
    );
    assert_eq!(
        float64(model.weight_gradient("wo".into()).unwrap())[1],
        want["weights"]["wo"][0][1].as_f64().unwrap()
    );

    // A step in place equals the contract's step.
    let options = json!({ "optimizer": "adam", "learningRate": 0.01 });
    let got = from_js(model.step(js(&options)).unwrap());
    let reference = core::step(
        &State::from_json(&edited).unwrap(),
        &StepOptions::from_json(&options).unwrap(),
    )
    .unwrap();
    assert_eq!(got["lossAfter"].as_f64(), Some(reference.loss_after));
    assert_same(
        &from_js(model.get_state().unwrap()),
        &core_json(&reference.state),
        "state after Model.step",
    );
}

#[wasm_bindgen_test]
fn the_model_handle_refuses_bad_edits_and_stops_diverging_training() {
    let model = wasm::Model::new(js(&example())).unwrap();
    let message = thrown(
        model
            .set_weight("wo".into(), 5.into(), 0.into(), 1.0.into())
            .map(|_| JsValue::UNDEFINED),
    );
    assert!(message.contains("weights.wo[5][0] is outside"), "{message}");
    let message = thrown(
        model
            .set_weight("wo".into(), 0.into(), 0.into(), f64::NAN.into())
            .map(|_| JsValue::UNDEFINED),
    );
    assert!(message.contains("finite"), "{message}");
    let before = from_js(model.get_state().unwrap());
    assert_same(&before, &example(), "state after refused edits");

    let run = model
        .train(js(&json!({ "learningRate": 1e308 })), 5.into())
        .unwrap();
    let stopped = Reflect::get(&run, &"stopped".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(stopped.contains("too large"), "{stopped}");
    let losses: js_sys::Float64Array = Reflect::get(&run, &"losses".into())
        .unwrap()
        .unchecked_into();
    assert_eq!(losses.length(), 0);
    assert_same(
        &from_js(model.get_state().unwrap()),
        &example(),
        "state after a diverging step",
    );

    let run = model
        .train(js(&json!({ "learningRate": 0.1 })), 20.into())
        .unwrap();
    let losses: js_sys::Float64Array = Reflect::get(&run, &"losses".into())
        .unwrap()
        .unchecked_into();
    let losses = losses.to_vec();
    assert_eq!(losses.len(), 20);
    assert!(losses[19] < losses[0]);
    assert_eq!(model.loss_value().unwrap(), losses[19]);
}

type Edit = fn(&mut Value);

/// Issue 6's bad states: what is done to the article example, and words the message must hold.
fn bad_states() -> Vec<(&'static str, Edit, &'static str)> {
    vec![
        (
            "text in a weight",
            |v| v["weights"]["wo"][0][1] = json!("abc"),
            "weights.wo[0][1] is the text \"abc\"; expected a number",
        ),
        (
            "comma decimal",
            |v| v["weights"]["wo"][0][1] = json!("0,5"),
            "weights.wo[0][1] is the text \"0,5\"",
        ),
        (
            "empty weight",
            |v| v["weights"]["wo"][0][1] = json!(null),
            "weights.wo[0][1] is empty (null)",
        ),
        (
            "empty token name",
            |v| v["vocab"][1] = json!(""),
            "vocab[1] is empty",
        ),
        (
            "duplicate token",
            |v| v["vocab"][1] = json!("AI"),
            "the same as vocab[0]",
        ),
        (
            "65-character token",
            |v| v["vocab"][1] = json!("x".repeat(65)),
            "vocab[1] has 65 characters; a token may have at most 64",
        ),
        (
            "513 vocabulary entries",
            |v| v["vocab"] = Value::Array((0..513).map(|i| json!(format!("t{i}"))).collect()),
            "vocab has 513 tokens; it must have 1 to 512",
        ),
        (
            "no input token",
            |v| v["tokens"] = json!([]),
            "tokens is empty",
        ),
        (
            "input token not in the vocabulary",
            |v| v["tokens"][1] = json!("<img src=x onerror=alert(1)>"),
            "which is not in vocab",
        ),
        (
            "input longer than the context",
            |v| v["tokens"] = json!(["AI", "rocks", "AI", "rocks", "AI"]),
            "tokens has 5 tokens but config.context is 4",
        ),
        (
            "heads that do not divide d_model",
            |v| v["config"]["nHeads"] = json!(3),
            "config.nHeads is 3, which does not divide config.dModel = 2",
        ),
        (
            "d_model too large",
            |v| v["config"]["dModel"] = json!(257),
            "config.dModel must be a whole number from 1 to 256",
        ),
        (
            "feed-forward weights with dFf 0",
            |v| v["config"]["dFf"] = json!(0),
            "weights.w1 is present but config.dFf is 0",
        ),
        (
            "layer norm on without its weights",
            |v| v["config"]["layerNorm"] = json!(true),
            "weights.ln1Gain is missing",
        ),
        (
            "a weight of the wrong type",
            |v| v["weights"]["wq"] = json!("[[1,2],[3,4]]"),
            "weights.wq must be an array",
        ),
        (
            "the forward pass overflows",
            |v| v["weights"]["embedding"][0][0] = json!(1e200),
            "the forward pass overflowed",
        ),
    ]
}

/// Issue 6's catalogue of bad input, through the API a page uses: each case must be refused with
/// a message naming what is wrong, and the `Model` handle must keep its last good state.
#[wasm_bindgen_test]
fn the_bad_input_catalogue_is_refused_with_a_message_through_the_api() {
    let model = wasm::Model::new(js(&example())).unwrap();
    for (what, edit, want) in &bad_states() {
        let mut state = example();
        edit(&mut state);
        // The contract functions refuse it…
        let message = thrown(wasm::validate(js(&state)).and_then(|_| wasm::backward(js(&state))));
        assert!(message.contains(want), "{what}: {message}");
        // …and so does the Model handle, which keeps the state it had.
        let message = thrown(
            model
                .set_state(js(&state))
                .and_then(|_| model.backward())
                .map(|_| JsValue::UNDEFINED),
        );
        assert!(message.contains(want), "{what} (Model): {message}");
        if *what != "the forward pass overflows" {
            assert_same(
                &from_js(model.get_state().unwrap()),
                &example(),
                &format!("Model state after {what}"),
            );
        }
        model.set_state(js(&example())).unwrap();
    }
}

/// The rest of the catalogue: single weights, a state with no target, a diverging run and bad
/// learning rates, each refused or stopped with a message, the last good state kept.
#[wasm_bindgen_test]
fn bad_edits_and_step_options_are_refused_through_the_api() {
    let model = wasm::Model::new(js(&example())).unwrap();
    // Single weights: NaN, ±Infinity and 1e309 (which is Infinity) are refused in place.
    for value in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        "1e309".parse().unwrap(),
    ] {
        let message = thrown(
            model
                .set_weight("wo".into(), 0.into(), 1.into(), value.into())
                .map(|_| JsValue::UNDEFINED),
        );
        assert!(message.contains("finite"), "{value}: {message}");
    }
    assert_same(
        &from_js(model.get_state().unwrap()),
        &example(),
        "after refused edits",
    );

    // A single token without eos: no loss, said in words.
    let mut state = example();
    state["tokens"] = json!(["AI"]);
    model.set_state(js(&state)).unwrap();
    let message = thrown(model.backward());
    assert!(!message.is_empty(), "no-target message");

    // Learning rate 1000 diverges: train stops with a message at the last finite state.
    model.set_state(js(&example())).unwrap();
    let run = model
        .train(js(&json!({ "learningRate": 1000 })), 50.into())
        .unwrap();
    let stopped = Reflect::get(&run, &"stopped".into())
        .unwrap()
        .as_string()
        .expect("training with learning rate 1000 should stop");
    assert!(stopped.contains("too small for a float64"), "{stopped}");
    let kept = from_js(model.get_state().unwrap());
    assert!(wasm::validate(js(&kept)).is_ok());
    assert!(model.loss_value().unwrap().is_finite());

    // Bad learning rates are named.
    for (options, want) in [
        (json!({ "learningRate": 0 }), "learningRate is 0"),
        (json!({ "learningRate": -1 }), "learningRate is -1"),
        (json!({ "learningRate": "abc" }), "learningRate"),
    ] {
        let message = thrown(wasm::step(js(&example()), js(&options)));
        assert!(message.contains(want), "{options}: {message}");
    }
}

/// The wasm build (simd128 kernels) through the page's own API against JAX's numbers: the
/// tests above compare the API with the core compiled for the same target, this one with an
/// independent computation.
#[wasm_bindgen_test]
fn the_api_matches_jax_autodiff() {
    use common::golden::{assert_all, assert_normwise, golden};
    for name in ["article", "everything"] {
        let g = golden(name);
        let state = js(&g["state"]);
        let fwd = from_js(wasm::forward(state.clone()).unwrap());
        assert_all(&format!("{name}: forward"), &fwd, &g["forward"]);
        let l = from_js(wasm::loss(state.clone()).unwrap());
        assert_normwise(&format!("{name}: loss"), &l["value"], &g["loss"]["value"]);
        let b = from_js(wasm::backward(state.clone()).unwrap());
        assert_all(
            &format!("{name}: ∂L/∂weights"),
            &b["weights"],
            &g["backward"]["weights"],
        );
        assert_all(
            &format!("{name}: ∂L/∂activations"),
            &b["activations"],
            &g["backward"]["activations"],
        );
        let options = json!({ "optimizer": "adam", "learningRate": 0.01 });
        let adam = from_js(wasm::step(state, js(&options)).unwrap());
        assert_all(
            &format!("{name}: after an Adam step"),
            &adam["state"]["weights"],
            &g["adam"]["weights"],
        );
    }
}
