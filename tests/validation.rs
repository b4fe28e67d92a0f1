//! Every validation rule, with the message a reader or article author sees.
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

use how_llms_learn::{
    article_example, finite_difference, loss, step, Cell, Resize, State, StepOptions,
};
use serde_json::{json, Value};

fn example() -> Value {
    serde_json::to_value(article_example()).unwrap()
}

/// The message for the article example with `edit` applied.
fn message(edit: impl FnOnce(&mut Value)) -> String {
    let mut v = example();
    edit(&mut v);
    match State::from_json(&v) {
        Ok(_) => panic!("accepted an invalid state: {v}"),
        Err(e) => e.to_string(),
    }
}

fn expect(edit: impl FnOnce(&mut Value), expected: &str) {
    let got = message(edit);
    assert_eq!(got, expected);
}

#[test]
fn the_article_example_is_valid_and_round_trips() {
    let v = example();
    assert_eq!(State::from_json(&v).unwrap(), article_example());
    article_example().validate().unwrap();
}

#[test]
fn the_state_itself() {
    assert_eq!(
        State::from_json(&json!([1, 2])).unwrap_err().to_string(),
        "the state must be an object, found an array"
    );
    assert!(State::from_json_str("{\"vocab\": [")
        .unwrap_err()
        .to_string()
        .starts_with("the state is not valid JSON"));
}

#[test]
fn vocabulary_rules() {
    expect(
        |v| {
            v.as_object_mut().unwrap().remove("vocab");
        },
        "vocab is missing; expected an array of token names",
    );
    expect(
        |v| v["vocab"] = json!("AI rocks"),
        "vocab must be an array, found a string",
    );
    expect(
        |v| v["vocab"] = json!([]),
        "vocab has 0 tokens; it must have 1 to 512",
    );
    expect(
        |v| v["vocab"] = Value::Array((0..513).map(|i| json!(format!("t{i}"))).collect()),
        "vocab has 513 tokens; it must have 1 to 512",
    );
    expect(
        |v| v["vocab"][1] = json!(7),
        "vocab[1] must be a string, found a number",
    );
    expect(
        |v| v["vocab"][1] = json!(""),
        "vocab[1] is empty; a token needs at least one visible character",
    );
    expect(
        |v| v["vocab"][1] = json!("   "),
        "vocab[1] is empty; a token needs at least one visible character",
    );
    expect(
        |v| v["vocab"][1] = json!("x".repeat(65)),
        "vocab[1] has 65 characters; a token may have at most 64",
    );
    // 64 characters (counted as characters, not bytes) is allowed.
    let mut v = example();
    v["vocab"][1] = json!("é".repeat(64));
    v["tokens"][1] = json!("é".repeat(64));
    State::from_json(&v).unwrap();
    expect(
        |v| v["vocab"][1] = json!("AI"),
        "vocab[1] is \"AI\", the same as vocab[0]; vocabulary tokens must be distinct",
    );
}

#[test]
fn eos_rules() {
    expect(
        |v| v["eos"] = json!(3),
        "eos must be a string, found a number",
    );
    expect(
        |v| v["eos"] = json!("<eos>"),
        "eos is \"<eos>\", which is not in vocab; the end-of-sequence token must be a vocabulary token (or null)",
    );
    let mut v = example();
    v["eos"] = json!("rocks");
    assert_eq!(State::from_json(&v).unwrap().eos.as_deref(), Some("rocks"));
}

#[test]
fn token_rules() {
    expect(
        |v| v["tokens"] = json!([]),
        "tokens is empty; the input needs at least one token",
    );
    expect(
        |v| v["tokens"] = json!(["AI", "rocks", "AI", "rocks", "AI"]),
        "tokens has 5 tokens but config.context is 4; the input may be at most as long as the context",
    );
    expect(
        |v| v["tokens"][1] = json!("rock"),
        "tokens[1] is \"rock\", which is not in vocab",
    );
    expect(
        |v| v["tokens"][0] = json!(null),
        "tokens[0] must be a string, found null",
    );
    // Long user text is shortened in messages.
    let got = message(|v| v["tokens"][0] = json!("<script>".repeat(20)));
    assert!(
        got.starts_with("tokens[0] is \"<script><script><script>…\""),
        "{got}"
    );
}

#[test]
fn config_rules() {
    expect(
        |v| v["config"] = json!(2),
        "config must be an object, found a number",
    );
    expect(
        |v| {
            v["config"].as_object_mut().unwrap().remove("dModel");
        },
        "config.dModel is missing; expected a whole number from 1 to 256",
    );
    expect(
        |v| v["config"]["dModel"] = json!(0),
        "config.dModel must be a whole number from 1 to 256, found 0",
    );
    expect(
        |v| v["config"]["dModel"] = json!(257),
        "config.dModel must be a whole number from 1 to 256, found 257",
    );
    expect(
        |v| v["config"]["dModel"] = json!(2.5),
        "config.dModel must be a whole number from 1 to 256, found 2.5",
    );
    expect(
        |v| v["config"]["dModel"] = json!("2"),
        "config.dModel is the text \"2\"; expected a number",
    );
    expect(
        |v| v["config"]["nHeads"] = json!(0),
        "config.nHeads must be a whole number from 1 to 256, found 0",
    );
    expect(
        |v| v["config"]["nHeads"] = json!(3),
        "config.nHeads is 3, which does not divide config.dModel = 2; each head needs the same number of columns (choose one of 1, 2)",
    );
    expect(
        |v| v["config"]["dFf"] = json!(1025),
        "config.dFf must be a whole number from 0 to 1024, found 1025",
    );
    expect(
        |v| v["config"]["layerNorm"] = json!("no"),
        "config.layerNorm must be true or false, found a string",
    );
    expect(
        |v| v["config"]["activation"] = json!("tanh"),
        "config.activation is \"tanh\"; expected \"relu\" or \"gelu\"",
    );
    expect(
        |v| v["config"]["context"] = json!(300),
        "config.context must be a whole number from 1 to 256, found 300",
    );
}

#[test]
fn weight_rules() {
    expect(
        |v| {
            v.as_object_mut().unwrap().remove("weights");
        },
        "weights is missing; expected an object with the model's weights",
    );
    expect(
        |v| {
            v["weights"].as_object_mut().unwrap().remove("wq");
        },
        "weights.wq is missing; expected a 2×2 matrix (dModel × dModel)",
    );
    expect(
        |v| {
            v["weights"].as_object_mut().unwrap().remove("b1");
        },
        "weights.b1 is missing; expected 4 numbers (dFf)",
    );
    expect(
        |v| v["weights"]["wq"][1] = json!([1, 2, 3]),
        "weights.wq row 1 has 3 numbers, expected 2",
    );
    expect(
        |v| v["weights"]["wq"] = json!([[1, 2]]),
        "weights.wq has 1 rows, expected 2 (dModel × dModel)",
    );
    expect(
        |v| v["weights"]["wq"] = json!(1),
        "weights.wq must be an array of 2 rows (dModel × dModel), found a number",
    );
    expect(
        |v| v["weights"]["wq"][0] = json!(1),
        "weights.wq row 0 must be an array of 2 numbers, found a number",
    );
    expect(
        |v| v["weights"]["embedding"] = json!([[1, 0]]),
        "weights.embedding has 1 rows, expected 2 (vocab size × dModel)",
    );
    expect(
        |v| v["weights"]["position"][3] = json!([1]),
        "weights.position row 3 has 1 numbers, expected 2",
    );
    expect(
        |v| v["weights"]["b1"] = json!([1, 2]),
        "weights.b1 has 2 numbers, expected 4 (dFf)",
    );
    expect(
        |v| v["weights"]["wq"][0][1] = json!("0,5"),
        "weights.wq[0][1] is the text \"0,5\"; expected a number",
    );
    expect(
        |v| v["weights"]["wq"][0][1] = json!(null),
        "weights.wq[0][1] is empty (null); expected a finite number (NaN and Infinity are not allowed)",
    );
    expect(
        |v| v["weights"]["b2"][0] = json!(true),
        "weights.b2[0] must be a number, found a true/false value",
    );
    expect(
        |v| v["weights"]["ln1Gain"] = json!([1, 1]),
        "weights.ln1Gain is present but config.layerNorm is false; remove it",
    );
    expect(
        |v| {
            v["config"]["dFf"] = json!(0);
        },
        "weights.w1 is present but config.dFf is 0 (no feed-forward block); remove it",
    );
    expect(
        |v| v["weights"]["wz"] = json!([[1]]),
        "weights.wz is not a weight of this model (expected: embedding, position, wq, wk, wv, wo, w1, b1, w2, b2, unembedding)",
    );
    // Turning layer norm on requires its gains and biases.
    expect(
        |v| v["config"]["layerNorm"] = json!(true),
        "weights.ln1Gain is missing; expected 2 numbers (dModel)",
    );
}

#[test]
fn numbers_from_json_text_that_overflow_are_refused() {
    let text = article_example()
        .to_json_string()
        .replacen("0.5", "1e309", 1);
    let err = State::from_json_str(&text).unwrap_err().to_string();
    assert!(err.starts_with("the state is not valid JSON"), "{err}");
}

#[test]
fn optimizer_rules() {
    expect(
        |v| v["optimizer"] = json!(1),
        "optimizer must be an object, found a number",
    );
    expect(
        |v| v["optimizer"] = json!({"step": -1}),
        "optimizer.step must be a whole number from 0 to 4294967295, found -1",
    );
    let mut bad_m = serde_json::to_value(article_example()).unwrap()["weights"].clone();
    bad_m["wq"] = json!([]);
    expect(
        move |v| v["optimizer"] = json!({"step": 1, "m": bad_m}),
        "optimizer.m.wq has 0 rows, expected 2 (dModel × dModel)",
    );
    expect(
        |v| v["optimizer"] = json!({"step": 1, "m": {}}),
        "optimizer.m.embedding is missing; expected a 2×2 matrix (vocab size × dModel)",
    );
    let mut bad_v = serde_json::to_value(article_example()).unwrap()["weights"].clone();
    bad_v["wq"][0][0] = json!(-1.0);
    expect(
        move |v| v["optimizer"] = json!({"step": 1, "v": bad_v}),
        "optimizer.v holds a negative number; Adam's second moment is a mean of squares, so it is never negative",
    );
    // Absent moments mean zeros.
    let mut v = example();
    v["optimizer"] = json!({"step": 3});
    let s = State::from_json(&v).unwrap();
    assert_eq!(
        s.optimizer.unwrap().m,
        article_example().weights.zeros_like()
    );
}

#[test]
fn step_option_rules() {
    let opt = |v: Value| StepOptions::from_json(&v).unwrap_err().to_string();
    assert_eq!(
        opt(json!({"optimizer": "sgd"})),
        "learningRate is missing; expected a number greater than 0"
    );
    assert_eq!(
        opt(json!({"learningRate": 0})),
        "learningRate is 0; it must be greater than 0"
    );
    assert_eq!(
        opt(json!({"learningRate": -0.1})),
        "learningRate is -0.1; it must be greater than 0"
    );
    assert_eq!(
        opt(json!({"learningRate": null})),
        "learningRate is empty (null); expected a finite number (NaN and Infinity are not allowed)"
    );
    assert_eq!(
        opt(json!({"learningRate": 0.1, "optimizer": "rmsprop"})),
        "optimizer is \"rmsprop\"; expected \"sgd\" or \"adam\""
    );
    assert_eq!(
        opt(json!({"learningRate": 0.1, "beta1": 1})),
        "beta1 is 1; it must be at least 0 and less than 1"
    );
    assert_eq!(
        opt(json!({"learningRate": 0.1, "beta2": -0.5})),
        "beta2 is -0.5; it must be at least 0 and less than 1"
    );
    assert_eq!(
        opt(json!({"learningRate": 0.1, "epsilon": 0})),
        "epsilon is 0; it must be greater than 0"
    );
    let ok = StepOptions::from_json(&json!({"optimizer": "adam", "learningRate": 0.01})).unwrap();
    assert_eq!(ok, StepOptions::adam(0.01));
}

#[test]
fn no_target_means_no_loss() {
    let mut s = article_example();
    s.tokens.truncate(1);
    let err = loss(&s).unwrap_err().to_string();
    assert_eq!(
        err,
        "no position has a target, so there is no loss: the input has 1 token and the last position \
         predicts nothing without an end-of-sequence token; add a token to the input or set eos"
    );
    assert_eq!(
        step(&s, &StepOptions::sgd(0.1)).unwrap_err().to_string(),
        err
    );
    // With an end-of-sequence token, the single position has a target.
    s.eos = Some("rocks".into());
    assert_eq!(loss(&s).unwrap().count, 1);
}

#[test]
fn overflowing_weights_are_reported_not_propagated() {
    let mut s = article_example();
    s.weights.wv[(0, 0)] = 1e200;
    s.weights.wo[(0, 0)] = 1e200;
    s.weights.unembedding[(0, 0)] = 1e200;
    let err = how_llms_learn::forward(&s).unwrap_err().to_string();
    assert!(
        err.starts_with("the forward pass overflowed:")
            && err.ends_with("make the weights smaller"),
        "{err}"
    );
}

#[test]
fn a_diverging_step_is_refused() {
    let err = step(&article_example(), &StepOptions::sgd(1e308))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("learning rate") && err.contains("too large"),
        "{err}"
    );
}

#[test]
fn cell_rules() {
    let s = article_example();
    let fd = |v: Value| {
        let cell = Cell::from_json(&v).map_err(|e| e.to_string())?;
        finite_difference(&s, &cell, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        fd(json!({"group": "biases", "name": "b1", "index": [0]})).unwrap_err(),
        "cell.group is \"biases\"; expected \"weights\" or \"activations\""
    );
    assert_eq!(fd(json!({"group": "weights", "name": "wz", "index": [0, 0]})).unwrap_err(), "cell.name \"wz\" is not a weight (expected one of embedding, position, wq, wk, wv, wo, w1, b1, w2, b2, ln1Gain, ln1Bias, ln2Gain, ln2Bias, lnfGain, lnfBias, unembedding)");
    assert_eq!(
        fd(json!({"group": "weights", "name": "ln1Gain", "index": [0]})).unwrap_err(),
        "weights.ln1Gain does not exist in this model (check config.dFf and config.layerNorm)"
    );
    assert_eq!(
        fd(json!({"group": "weights", "name": "wq", "index": [2, 0]})).unwrap_err(),
        "weights.wq[2][0] is outside weights.wq, which is 2×2"
    );
    assert_eq!(
        fd(json!({"group": "weights", "name": "b1", "index": [0, 0]})).unwrap_err(),
        "weights.b1[0][0]: weights.b1 is a vector, so the index needs 1 number"
    );
    assert_eq!(fd(json!({"group": "activations", "name": "scores", "index": [0, 0, 1]})).unwrap_err(), "activations.scores[0][0][1] is masked: position 0 cannot attend to the later position 1, so it has no gradient");
    assert_eq!(
        fd(json!({"group": "activations", "name": "q", "index": [0, -1]})).unwrap_err(),
        "cell.index[1] must be a whole number from 0 to 4294967295, found -1"
    );
    assert!(fd(json!({"group": "activations", "name": "probs", "index": [0, 1]})).is_ok());
    let e = finite_difference(&s, &Cell::weight("wq", &[0, 0]), Some(0.0))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "epsilon is 0; it must be greater than 0 and at most 1");
}

#[test]
fn resize_keeps_what_overlaps_and_validates_the_result() {
    let s = article_example();
    // Removing a vocabulary entry the input uses is refused with the validator's message.
    let err = how_llms_learn::resize(
        &s,
        &Resize {
            vocab: Some(vec!["AI".into()]),
            config: None,
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "tokens[1] is \"rocks\", which is not in vocab"
    );
    // Adding one keeps the old rows by name, whatever the order.
    let grown = how_llms_learn::resize(
        &s,
        &Resize {
            vocab: Some(vec!["rocks".into(), "new".into(), "AI".into()]),
            config: None,
        },
    )
    .unwrap();
    assert_eq!(grown.weights.embedding.row(0), s.weights.embedding.row(1));
    assert_eq!(grown.weights.embedding.row(2), s.weights.embedding.row(0));
    assert_eq!(
        grown.weights.unembedding.column(2),
        s.weights.unembedding.column(0)
    );
    // New entries are small, one-decimal, and the same every time.
    let again = how_llms_learn::resize(
        &s,
        &Resize {
            vocab: Some(vec!["rocks".into(), "new".into(), "AI".into()]),
            config: None,
        },
    )
    .unwrap();
    assert_eq!(grown, again);
    assert!(grown
        .weights
        .embedding
        .row(1)
        .iter()
        .all(|x| x.abs() <= 0.4 && (x * 10.0).fract() == 0.0));
    // Growing dModel keeps the overlap; heads must still divide it; layer norm starts at gain 1, bias 0.
    let mut cfg = s.config.clone();
    cfg.d_model = 4;
    cfg.n_heads = 2;
    cfg.layer_norm = true;
    cfg.d_ff = 0;
    let wide = how_llms_learn::resize(
        &s,
        &Resize {
            vocab: None,
            config: Some(cfg.clone()),
        },
    )
    .unwrap();
    assert_eq!(wide.weights.wq.view((0, 0), (2, 2)), s.weights.wq);
    assert!(wide.weights.ffn.is_none() && wide.weights.ln2.is_none());
    assert!(wide
        .weights
        .ln1
        .as_ref()
        .unwrap()
        .gain
        .iter()
        .all(|g| *g == 1.0));
    cfg.n_heads = 3;
    assert_eq!(
        how_llms_learn::resize(&s, &Resize { vocab: None, config: Some(cfg) }).unwrap_err().to_string(),
        "config.nHeads is 3, which does not divide config.dModel = 4; each head needs the same number of columns (choose one of 1, 2, 4)"
    );
    // Back to the original configuration gives back the original weights.
    let back = how_llms_learn::resize(
        &wide,
        &Resize {
            vocab: None,
            config: Some(s.config.clone()),
        },
    )
    .unwrap();
    assert_eq!(back.weights.wq, s.weights.wq);
    assert_eq!(back.weights.embedding, s.weights.embedding);
}
