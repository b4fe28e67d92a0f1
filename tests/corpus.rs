//! Text to training batch: the tokenizer's rules and every refusal, the seeded starting state,
//! generation (greedy and sampled), multi-sequence states through JSON, and the preset corpus
//! learned well enough to be written back from each sentence's first word.
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

use how_llms_learn::{
    article_example, corpus_state, generate, preset_corpus, tokenize, BatchDraw, CorpusOptions,
    GenerateOptions, Session, State, StepOptions, EOS,
};

fn opts(held_out: Option<&str>) -> CorpusOptions {
    CorpusOptions {
        held_out: held_out.map(str::to_string),
        seed: 0,
    }
}

fn refusal(text: &str, held_out: Option<&str>) -> String {
    tokenize(text, &opts(held_out)).expect_err(text).to_string()
}

#[test]
fn the_rules_split_words_and_punctuation_fold_case_and_append_eos() {
    let t = tokenize(
        "AI rocks!\n\n  Don't stop,  x-ray  'quoted' -dash\r\nÉcole e\u{301}cole 42nd\n",
        &opts(None),
    )
    .unwrap();
    let want: Vec<Vec<&str>> = vec![
        vec!["ai", "rocks", "!"],
        vec![
            "don't", "stop", ",", "x-ray", "'", "quoted", "'", "-", "dash",
        ],
        vec!["école", "école", "42nd"],
    ];
    assert_eq!(t.sequences, want);
    assert_eq!(t.eos, EOS);
    assert_eq!(
        t.vocab,
        [
            "ai", "rocks", "!", "don't", "stop", ",", "x-ray", "'", "quoted", "-", "dash", "école",
            "42nd", EOS
        ]
    );
    assert!(t.held_out.is_empty());
}

#[test]
fn every_refusal_names_its_line() {
    let cases: Vec<(String, Option<&str>, &str)> = vec![
        (
            "".into(),
            None,
            "the text has no sentence; write one sentence per line",
        ),
        ("\n  \n".into(), None, "the text has no sentence"),
        (
            "a".repeat(4097),
            None,
            "the text has 4097 characters; it may have at most 4096",
        ),
        (
            "ok .\n\n".to_string() + &"w ".repeat(17),
            None,
            "line 3 has 17 tokens; a sentence may have at most 16",
        ),
        (
            (0..70)
                .map(|i| format!("w{i}"))
                .collect::<Vec<_>>()
                .chunks(10)
                .map(|c| c.join(" "))
                .collect::<Vec<_>>()
                .join("\n"),
            None,
            "line 7 brings more than 63 different tokens (at \"w63\")",
        ),
        (
            "fine\nzero\u{200B}width".into(),
            None,
            "line 2 holds an invisible character (U+200B) at position 5; remove it",
        ),
        (
            "ai rocks .".into(),
            Some("ai rolls ."),
            "held-out line 1 uses \"rolls\", which is not in the training text",
        ),
        (
            "ai rocks .".into(),
            Some("\nai rocks rocks ."),
            "held-out line 2 has 4 tokens, more than the longest training sentence (3)",
        ),
        (
            "ai rocks .".into(),
            Some(&*Box::leak("ai\n".repeat(65).into_boxed_str())),
            "the held-out text has 65 sentences; it may have at most 64",
        ),
        (
            "a\n".repeat(257),
            None,
            "the text has 257 sentences; it may have at most 256",
        ),
    ];
    for (text, held, want) in cases {
        let got = refusal(&text, held);
        assert!(got.starts_with(want), "{want:?}\n  got {got:?}");
    }
}

#[test]
fn corpus_state_is_complete_deterministic_and_seeded() {
    let p = preset_corpus();
    let a = corpus_state(p.text, &opts(Some(p.held_out))).unwrap();
    let b = corpus_state(p.text, &opts(Some(p.held_out))).unwrap();
    assert_eq!(a, b);
    a.validate().unwrap();
    let seqs = a.sequences.clone().unwrap();
    assert_eq!(seqs.len(), 12);
    assert_eq!(a.tokens, seqs[0]);
    assert_eq!(a.config.context, seqs.iter().map(Vec::len).max().unwrap());
    assert_eq!(a.eos.as_deref(), Some(EOS));
    assert_eq!(a.held_out.as_ref().unwrap().len(), 2);
    let c = corpus_state(
        p.text,
        &CorpusOptions {
            seed: 1,
            ..opts(None)
        },
    )
    .unwrap();
    assert_ne!(a.weights, c.weights);
    assert_eq!(c.held_out, None);
    // The documented draw: embedding[0][0] is the first Box–Muller normal of SplitMix64(seed 0),
    // times 1 (a looked-up table).
    let mut s: u64 = 0;
    let mut next = || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let u1 = ((next() >> 11) + 1) as f64 / (1u64 << 53) as f64;
    let u2 = (next() >> 11) as f64 / (1u64 << 53) as f64;
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    assert_eq!(a.weights.embedding[(0, 0)], z);
}

#[test]
fn multi_sequence_states_round_trip_and_old_states_load_unchanged() {
    let p = preset_corpus();
    let state = corpus_state(p.text, &opts(Some(p.held_out))).unwrap();
    let text = state.to_json_string();
    let back = State::from_json_str(&text).unwrap();
    assert_eq!(back, state);
    assert_eq!(back.to_json_string(), text);
    // A single-sentence state writes no new field and reads back as it was.
    let old = article_example();
    let json = old.to_json_string();
    assert!(!json.contains("sequences") && !json.contains("heldOut"));
    assert_eq!(State::from_json_str(&json).unwrap(), old);
    // Refusals name the sequence and the token.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["sequences"][2][1] = "zebra".into();
    let e = State::from_json(&v).unwrap_err().to_string();
    assert_eq!(e, "sequences[2][1] is \"zebra\", which is not in vocab");
    v["sequences"] = serde_json::json!([]);
    let e = State::from_json(&v).unwrap_err().to_string();
    assert_eq!(e, "sequences has 0 sequences; it may have 1 to 256");
    v["sequences"] = serde_json::json!([vec!["ai"; 8]]);
    let e = State::from_json(&v).unwrap_err().to_string();
    assert!(
        e.starts_with("sequences[0] has 8 tokens but config.context is 7"),
        "{e}"
    );
    v["sequences"] = serde_json::json!(vec![vec!["ai"; 7]; 256]);
    v["heldOut"] = serde_json::json!(vec![vec!["ai"; 1]; 65]);
    let e = State::from_json(&v).unwrap_err().to_string();
    assert_eq!(e, "heldOut has 65 sequences; it may have 0 to 64");
    v["heldOut"] = serde_json::json!([]);
    v["config"]["context"] = 40.into();
    v["weights"]["position"] = serde_json::json!(vec![vec![0.0; 16]; 40]);
    v["sequences"] = serde_json::json!(vec![vec!["ai"; 40]; 206]);
    let e = State::from_json(&v).unwrap_err().to_string();
    assert_eq!(
        e,
        "sequences holds more than 8192 tokens in all; use fewer or shorter sequences"
    );
}

#[test]
fn generation_is_deterministic_greedy_and_reproducible_when_sampled() {
    let p = preset_corpus();
    let state = corpus_state(p.text, &opts(None)).unwrap();
    let prompt = vec!["ai".to_string()];
    let greedy = GenerateOptions::default();
    let a = generate(&state, &prompt, &greedy).unwrap();
    assert_eq!(a, generate(&state, &prompt, &greedy).unwrap());
    for s in &a.steps {
        let best = s.probs.iter().cloned().fold(f64::MIN, f64::max);
        assert_eq!(s.probs[s.chosen], best);
        assert_eq!(s.probs.iter().position(|&p| p == best), Some(s.chosen));
        assert!((s.probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    let sampled = |seed| GenerateOptions {
        temperature: 1.5,
        seed,
        ..GenerateOptions::default()
    };
    let s1 = generate(&state, &prompt, &sampled(3)).unwrap();
    assert_eq!(s1, generate(&state, &prompt, &sampled(3)).unwrap());
    let differs =
        (0..20).any(|k| generate(&state, &prompt, &sampled(100 + k)).unwrap().tokens != s1.tokens);
    assert!(differs, "sampling ignores the seed");
    // Limits: maxTokens, the context, and the prompt's words.
    let two = GenerateOptions {
        max_tokens: 2,
        temperature: 2.0,
        ..GenerateOptions::default()
    };
    let g = generate(&state, &prompt, &two).unwrap();
    assert!(g.steps.len() <= 2);
    let full: Vec<String> = state.sequences.as_ref().unwrap()[3].clone();
    assert_eq!(full.len(), state.config.context);
    let g = generate(
        &state,
        &full,
        &GenerateOptions {
            max_tokens: 5,
            ..greedy.clone()
        },
    )
    .unwrap();
    assert!(g.stopped == "eos" || g.stopped == "context");
    assert_eq!(g.steps.len(), 1);
    assert_eq!(g.tokens, full);
    let e = generate(&state, &["zebra".to_string()], &greedy)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "prompt[0] is \"zebra\", which is not in vocab");
    let e = generate(&state, &[], &greedy).unwrap_err().to_string();
    assert_eq!(e, "the prompt is empty; give at least one token");
}

/// The preset corpus, trained with Adam on the whole batch, until greedy generation from each
/// sentence's first word writes that sentence and stops at ⟨eos⟩. Prints how many steps it took.
#[test]
fn training_the_preset_brings_every_sentence_back_from_its_first_word() {
    let p = preset_corpus();
    let state = corpus_state(p.text, &opts(Some(p.held_out))).unwrap();
    let seqs = state.sequences.clone().unwrap();
    let all_back = |s: &State| {
        seqs.iter().all(|q| {
            let g = generate(s, &q[..1], &GenerateOptions::default()).unwrap();
            g.tokens == *q && g.stopped == "eos"
        })
    };
    let options = StepOptions::adam(0.01);
    let mut session = Session::new(state).unwrap();
    assert!(
        !all_back(session.state()),
        "the untrained model already writes the corpus"
    );
    let first_loss = session.loss_value().unwrap();
    let mut steps = 0;
    while !all_back(session.state()) {
        let run = session.train(&options, 10);
        assert!(run.stopped.is_none(), "{:?}", run.stopped);
        assert_eq!(run.held_out_losses.len(), 10);
        steps += 10;
        assert!(steps <= 2000, "not learned in 2,000 steps");
    }
    let last_loss = session.loss_value().unwrap();
    eprintln!(
        "preset corpus: every sentence written back after {steps} Adam steps (lr 0.01); loss \
         {first_loss:.3} → {last_loss:.4}, held-out {:.3}",
        session.held_out_loss().unwrap().unwrap()
    );
    assert!(last_loss < first_loss);
}

#[test]
fn mini_batch_training_is_reproducible_and_advances_its_step() {
    let p = preset_corpus();
    let state = corpus_state(p.text, &opts(None)).unwrap();
    let mut options = StepOptions::adam(0.01);
    options.batch = Some(BatchDraw {
        size: 4,
        seed: 9,
        step: 0,
    });
    let mut a = Session::new(state.clone()).unwrap();
    let run = a.train(&options, 5);
    assert!(run.held_out_losses.is_empty());
    // The same five steps one by one, each with its own step number.
    let mut b = Session::new(state).unwrap();
    for k in 0..5 {
        let mut o = options.clone();
        o.batch = Some(BatchDraw {
            step: k,
            ..options.batch.unwrap()
        });
        let (_, after) = b.step(&o).unwrap();
        assert_eq!(after, run.losses[k as usize]);
        assert_eq!(
            b.last_batch(),
            &BatchDraw {
                step: k,
                size: 4,
                seed: 9
            }
            .indices(12)
            .unwrap()[..]
        );
    }
    assert_eq!(a.state(), b.state());
}
