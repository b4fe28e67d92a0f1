//! The results in the contract's JSON shapes: what the wasm facade hands to JavaScript unchanged.
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

use how_llms_learn::{article_example, backward, forward, loss, resize, step, Resize, StepOptions};
use serde_json::{json, Value};

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

fn sorted(mut k: Vec<&'static str>) -> Vec<&'static str> {
    k.sort();
    k
}

#[test]
fn forward_has_every_activation_with_masked_scores_as_null() {
    let f = serde_json::to_value(forward(&article_example()).unwrap()).unwrap();
    assert_eq!(
        keys(&f),
        sorted(vec![
            "x",
            "attnIn",
            "q",
            "k",
            "v",
            "scores",
            "attention",
            "z",
            "attnOut",
            "x1",
            "mlpIn",
            "u",
            "hidden",
            "mlpOut",
            "x2",
            "xf",
            "logits",
            "probs"
        ])
    );
    assert_eq!(f["scores"][0][0][1], Value::Null);
    assert!(f["scores"][0][1][1].is_f64());
    assert_eq!(f["attention"][0][0], json!([1.0, 0.0]));
    // Matrices are arrays of rows: x is T×C = 2×2, u is T×F = 2×4, probs is T×V.
    assert_eq!(f["x"], json!([[1.1, 0.0], [0.0, 1.1]]));
    assert_eq!(f["u"].as_array().unwrap().len(), 2);
    assert_eq!(f["u"][0].as_array().unwrap().len(), 4);
}

#[test]
fn absent_blocks_are_omitted() {
    let s = article_example();
    let mut cfg = s.config.clone();
    cfg.d_ff = 0;
    let no_ffn = resize(
        &s,
        &Resize {
            vocab: None,
            config: Some(cfg),
        },
    )
    .unwrap();
    let f = serde_json::to_value(forward(&no_ffn).unwrap()).unwrap();
    for key in ["mlpIn", "u", "hidden", "mlpOut"] {
        assert!(
            f.get(key).is_none(),
            "{key} present without a feed-forward block"
        );
    }
    let state = serde_json::to_value(&no_ffn).unwrap();
    assert_eq!(
        keys(&state["weights"]),
        sorted(vec![
            "embedding",
            "position",
            "wq",
            "wk",
            "wv",
            "wo",
            "unembedding"
        ])
    );
    assert!(state.get("optimizer").is_none());
}

#[test]
fn loss_lists_targets_and_terms_with_null_for_the_skipped_position() {
    let l = serde_json::to_value(loss(&article_example()).unwrap()).unwrap();
    assert_eq!(keys(&l), vec!["count", "targets", "terms", "value"]);
    assert_eq!(l["targets"], json!([1, null]));
    assert_eq!(l["terms"][1], Value::Null);
    assert_eq!(l["count"], json!(1));
}

#[test]
fn backward_mirrors_the_weights_and_the_activations() {
    let s = article_example();
    let b = serde_json::to_value(backward(&s).unwrap()).unwrap();
    let f = serde_json::to_value(forward(&s).unwrap()).unwrap();
    let state = serde_json::to_value(&s).unwrap();
    assert_eq!(keys(&b), vec!["activations", "loss", "weights"]);
    assert_eq!(keys(&b["weights"]), keys(&state["weights"]));
    assert_eq!(keys(&b["activations"]), keys(&f));
    // Same shapes, entry for entry; vectors stay flat.
    for (name, w) in state["weights"].as_object().unwrap() {
        let g = &b["weights"][name];
        assert_eq!(
            g.as_array().unwrap().len(),
            w.as_array().unwrap().len(),
            "{name}"
        );
        if let Some(row) = w[0].as_array() {
            assert_eq!(g[0].as_array().unwrap().len(), row.len(), "{name}");
        }
    }
    assert!(b["weights"]["b1"][0].is_f64());
    assert_eq!(b["activations"]["scores"][0][0][1], Value::Null);
    assert_eq!(b["activations"]["logits"][1], json!([0.0, 0.0]));
}

#[test]
fn step_returns_the_new_state_and_both_losses() {
    let r =
        serde_json::to_value(step(&article_example(), &StepOptions::adam(0.01)).unwrap()).unwrap();
    assert_eq!(keys(&r), vec!["lossAfter", "lossBefore", "state", "update"]);
    // The update is W′ − W, with the weights' own shapes.
    let before = serde_json::to_value(article_example()).unwrap();
    assert_eq!(keys(&r["update"]), keys(&before["weights"]));
    let (w, w2, u) = (
        &before["weights"]["wo"][0][1],
        &r["state"]["weights"]["wo"][0][1],
        &r["update"]["wo"][0][1],
    );
    assert_eq!(
        u.as_f64().unwrap(),
        w2.as_f64().unwrap() - w.as_f64().unwrap()
    );
    assert_eq!(r["state"]["optimizer"]["step"], json!(1));
    assert_eq!(
        keys(&r["state"]["optimizer"]["m"]),
        keys(&r["state"]["weights"])
    );
    assert_eq!(
        keys(&r["state"]["config"]),
        vec![
            "activation",
            "context",
            "dFf",
            "dModel",
            "layerNorm",
            "nHeads"
        ]
    );
    assert_eq!(r["state"]["eos"], Value::Null);
}

#[test]
fn derivations_and_finite_differences_have_the_page_s_shape() {
    use how_llms_learn::{derivation, finite_difference, Cell};
    let s = article_example();
    let d = serde_json::to_value(derivation(&s, &Cell::weight("wo", &[0, 1])).unwrap()).unwrap();
    assert_eq!(keys(&d), vec!["gradient", "note", "terms", "total"]);
    assert_eq!(
        keys(&d["terms"][0]),
        vec!["factors", "label", "sign", "value"]
    );
    assert_eq!(d["terms"][0]["label"], json!("t = 0 (AI)"));
    assert_eq!(d["terms"][0]["sign"], json!(1));
    let factors = &d["terms"][0]["factors"];
    assert_eq!(keys(&factors[0]), vec!["index", "kind", "name", "value"]);
    assert_eq!(factors[0]["kind"], json!("activation"));
    assert_eq!(factors[0]["name"], json!("z"));
    assert_eq!(factors[0]["index"], json!([0, 0]));
    assert_eq!(factors[1]["kind"], json!("gradient"));
    assert_eq!(factors[1]["name"], json!("attnOut"));
    assert_eq!(factors[1]["index"], json!([0, 1]));
    // A layer norm's mean names what it averages, with "k" for the running index.
    let mut s = article_example();
    s.eos = Some("AI".into());
    let mut cfg = s.config.clone();
    cfg.layer_norm = true;
    let change = Resize {
        vocab: None,
        config: Some(cfg),
    };
    let s = resize(&s, &change).unwrap();
    let d =
        serde_json::to_value(derivation(&s, &Cell::activation("x2", &[1, 0])).unwrap()).unwrap();
    let mean = &d["terms"][1]["factors"][1];
    assert_eq!(d["terms"][1]["sign"], json!(-1));
    assert_eq!(mean["kind"], json!("mean"));
    assert_eq!(mean["name"], json!("lnf"));
    assert_eq!(
        mean["of"][1],
        json!({ "kind": "gradient", "name": "xf", "index": [1, "k"] })
    );
    let f =
        serde_json::to_value(finite_difference(&s, &Cell::weight("wo", &[0, 1]), None).unwrap())
            .unwrap();
    assert_eq!(
        keys(&f),
        vec![
            "analytic",
            "difference",
            "epsilon",
            "lossMinus",
            "lossPlus",
            "numeric"
        ]
    );
}

/// The shape of a JSON matrix, or of a stack of per-head matrices.
fn json_shape(v: &Value) -> Vec<usize> {
    let rows = v.as_array().unwrap();
    match rows.first() {
        Some(Value::Array(r)) if matches!(r.first(), Some(Value::Array(_))) => {
            vec![rows.len(), r.len(), r[0].as_array().unwrap().len()]
        }
        Some(Value::Array(r)) => vec![rows.len(), r.len()],
        _ => vec![1, rows.len()], // a vector
    }
}

/// `schema` is the registry applied to a state: it must name exactly the weights and
/// activations the core's results hold, at their shapes, for every combination of switches.
#[test]
fn schema_names_every_result_at_its_shape() {
    use how_llms_learn::{schema, Activation, Config};
    for (d_ff, layer_norm, heads) in [(0, false, 1), (3, false, 2), (0, true, 2), (5, true, 1)] {
        let base = article_example();
        let change = Resize {
            vocab: Some(vec!["AI".into(), "rocks".into(), "!".into()]),
            config: Some(Config {
                d_model: 4,
                n_heads: heads,
                d_ff,
                layer_norm,
                activation: Activation::Gelu,
                context: 5,
            }),
        };
        let mut state = resize(&base, &change).unwrap();
        state.tokens = vec!["AI".into(), "rocks".into(), "!".into()];
        let s = schema(&state);
        let what = format!("dFf {d_ff}, layer norm {layer_norm}, {heads} heads");
        let weights = serde_json::to_value(&state).unwrap()["weights"].clone();
        let b = serde_json::to_value(backward(&state).unwrap()).unwrap();
        let f = serde_json::to_value(forward(&state).unwrap()).unwrap();
        let names =
            |es: &[how_llms_learn::SchemaEntry]| sorted(es.iter().map(|e| e.name).collect());
        assert_eq!(names(&s.weights), keys(&weights), "{what}: weights");
        assert_eq!(
            names(&s.weights),
            keys(&b["weights"]),
            "{what}: weight gradients"
        );
        assert_eq!(names(&s.activations), keys(&f), "{what}: activations");
        assert_eq!(
            names(&s.activations),
            keys(&b["activations"]),
            "{what}: activation gradients"
        );
        for e in &s.weights {
            assert_eq!(json_shape(&weights[e.name]), e.shape, "{what}: {}", e.name);
            assert_eq!(
                e.vector,
                !weights[e.name][0].is_array(),
                "{what}: {} vector",
                e.name
            );
        }
        for e in &s.activations {
            assert_eq!(json_shape(&f[e.name]), e.shape, "{what}: {}", e.name);
            assert_eq!(
                json_shape(&b["activations"][e.name]),
                e.shape,
                "{what}: ∂{}",
                e.name
            );
        }
    }
}

/// `headColumns` against what the model does, not against the registry: a weight's columns are
/// one block per head when nudging its column c moves the scores or the attention output Z of
/// head c / (dModel/H) alone (W_O's columns move neither; an embedding's or a gain's move every
/// head); an activation's are when the forward explanations of the scores and of Z read its
/// column c only for that head.
#[test]
fn head_columns_are_the_columns_one_head_reads() {
    use how_llms_learn::{forward_explanation, schema, Activation, Cell, Config};
    use std::collections::BTreeSet;
    let (c, heads, t_len) = (4, 2, 3);
    let hd = c / heads;
    let mut state = resize(
        &article_example(),
        &Resize {
            vocab: Some(vec!["AI".into(), "rocks".into(), "!".into()]),
            config: Some(Config {
                d_model: c,
                n_heads: heads,
                d_ff: 3,
                layer_norm: true,
                activation: Activation::Gelu,
                context: t_len,
            }),
        },
    )
    .unwrap();
    state.tokens = vec!["AI".into(), "rocks".into(), "!".into()];
    let s = schema(&state);
    let base = serde_json::to_value(forward(&state).unwrap()).unwrap();
    let head_of = |col: usize| BTreeSet::from([col / hd]);
    // The heads whose scores or whose block of Z differ from the base pass.
    let touched = |f: &Value| -> BTreeSet<usize> {
        (0..heads)
            .filter(|&h| {
                f["scores"][h] != base["scores"][h]
                    || (0..t_len)
                        .any(|t| (h * hd..(h + 1) * hd).any(|j| f["z"][t][j] != base["z"][t][j]))
            })
            .collect()
    };
    let mut flagged = 0;
    for e in &s.weights {
        if e.shape[1] != c {
            continue;
        }
        let per_head = (0..c).all(|col| {
            let mut nudged = state.clone();
            let m = nudged.weights.get_mut(e.name).unwrap();
            for r in 0..m.nrows() {
                m[(r, col)] += 0.5;
            }
            touched(&serde_json::to_value(forward(&nudged).unwrap()).unwrap()) == head_of(col)
        });
        assert_eq!(e.head_columns, per_head, "weight {}", e.name);
        flagged += usize::from(per_head);
    }
    // The columns each activation feeds the scores and Z with, and for which heads.
    type Reads = std::collections::BTreeMap<String, Vec<BTreeSet<usize>>>;
    let mut reads = Reads::new();
    let note = |reads: &mut Reads, e: &Value, head: usize| {
        for term in e["terms"].as_array().unwrap() {
            for f in term["factors"].as_array().unwrap() {
                let index = f["index"].as_array().unwrap();
                if f["kind"] == "activation" && index.len() == 2 {
                    let col = index[1].as_u64().unwrap() as usize;
                    let name = f["name"].as_str().unwrap().to_string();
                    reads
                        .entry(name)
                        .or_insert_with(|| vec![BTreeSet::new(); c])[col]
                        .insert(head);
                }
            }
        }
    };
    for t in 0..t_len {
        for h in 0..heads {
            for u in 0..=t {
                let cell = Cell::activation("scores", &[h, t, u]);
                let e = forward_explanation(&state, &cell).unwrap();
                note(&mut reads, &serde_json::to_value(e).unwrap(), h);
            }
        }
        for j in 0..c {
            let e = forward_explanation(&state, &Cell::activation("z", &[t, j])).unwrap();
            let e = serde_json::to_value(e).unwrap();
            note(&mut reads, &e, j / hd);
            // Z's own column j belongs to the head whose attention it reads.
            let attention = &e["terms"][0]["factors"][0];
            assert_eq!(attention["name"], "attention");
            reads
                .entry("z".into())
                .or_insert_with(|| vec![BTreeSet::new(); c])[j]
                .insert(attention["index"][0].as_u64().unwrap() as usize);
        }
    }
    for e in &s.activations {
        let per_head = reads
            .get(e.name)
            .is_some_and(|cols| (0..c).all(|col| cols[col] == head_of(col)));
        assert_eq!(e.head_columns, per_head, "activation {}", e.name);
        flagged += usize::from(per_head);
    }
    assert_eq!(flagged, 7, "W_Q, W_K, W_V, Q, K, V and Z");
}
