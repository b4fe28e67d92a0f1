//! Token names and training step counts from outside never panic, and their rules hold for any
//! input: an accepted name is in NFC, shows something, holds nothing that hides or reorders text,
//! and is accepted again as itself; a step count is accepted exactly when it is a whole number
//! from 0 to the cap.
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

use how_llms_learn::{
    article_example, token_name, train_steps, Session, State, StepOptions, MAX_TOKEN_CHARS,
    MAX_TRAIN_STEPS,
};
use proptest::prelude::*;
use serde_json::json;
use unicode_normalization::{is_nfc, UnicodeNormalization};

/// Characters that make names hard: joiners, selectors, direction marks, blanks, controls,
/// combining accents, emoji, surrogate-adjacent and astral characters.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        proptest::sample::select(vec![
            'a',
            'I',
            ' ',
            '\u{A0}',
            '\u{3000}',
            '\t',
            '\n',
            '\u{0}',
            '\u{7F}',
            '\u{85}',
            '\u{AD}',
            '\u{301}',
            '\u{34F}',
            '\u{115F}',
            '\u{1160}',
            '\u{180E}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{2028}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{2060}',
            '\u{2800}',
            '\u{3164}',
            '\u{FE0F}',
            '\u{FEFF}',
            '\u{FFA0}',
            '\u{FFFD}',
            '\u{1F3F4}',
            '\u{E0067}',
            '\u{E007F}',
            '\u{1F469}',
            '\u{1F4BB}',
            '\u{1F3FD}',
            'é',
            '\u{1D159}',
            '\u{E0100}',
        ]),
    ]
}

fn tricky_name() -> impl Strategy<Value = String> {
    proptest::collection::vec(tricky_char(), 0..80).prop_map(|cs| cs.into_iter().collect())
}

fn hides(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{2028}' | '\u{2029}' | '\u{3164}' | '\u{115F}' | '\u{1160}' | '\u{2800}' | '\u{FFA0}' | '\u{AD}')
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn accepted_names_are_nfc_visible_and_stable(name in tricky_name()) {
        match token_name(&name, "vocab[0]") {
            Ok(checked) => {
                prop_assert!(is_nfc(&checked));
                prop_assert_eq!(&checked, &name.nfc().collect::<String>());
                prop_assert!(checked.chars().count() <= MAX_TOKEN_CHARS);
                prop_assert!(checked.chars().any(|c| !c.is_whitespace() && !hides(c)));
                prop_assert!(!checked.chars().any(hides), "{:?}", checked);
                prop_assert_eq!(token_name(&checked, "vocab[0]").ok(), Some(checked.clone()));
            }
            Err(e) => {
                let m = e.to_string();
                prop_assert!(m.starts_with("vocab[0] "), "{}", m);
            }
        }
    }

    #[test]
    fn a_state_with_any_names_parses_or_says_why(a in tricky_name(), b in tricky_name()) {
        let mut v = serde_json::to_value(article_example()).unwrap();
        v["vocab"] = json!([a, b]);
        v["tokens"] = json!([a, b]);
        if let Ok(state) = State::from_json(&v) {
            // Two accepted names are never drawn alike, so the input's tokens stay apart.
            prop_assert_ne!(&state.vocab[0], &state.vocab[1]);
            prop_assert_eq!(&state.tokens, &state.vocab);
            prop_assert!(how_llms_learn::loss(&state).is_ok());
        }
    }

    #[test]
    fn step_counts_are_whole_numbers_up_to_the_cap(x in prop_oneof![
        any::<f64>(),
        -5.0f64..20_000.0,
        (0u32..30_000).prop_map(f64::from),
        Just(f64::NAN), Just(f64::INFINITY), Just(-0.0), Just(2f64.powi(31)), Just(1e12),
    ]) {
        let ok = x.fract() == 0.0 && (0.0..=MAX_TRAIN_STEPS as f64).contains(&x);
        match train_steps(x) {
            Ok(n) => { prop_assert!(ok); prop_assert_eq!(n as f64, x); }
            Err(e) => { prop_assert!(!ok); prop_assert!(e.to_string().starts_with("steps ")); }
        }
    }
}

#[test]
fn training_any_number_of_steps_from_rust_does_not_reserve_it_all() {
    // The Rust API takes a usize; a huge count must not be reserved up front (capacity overflow).
    let mut s = Session::new(article_example()).unwrap();
    let t = s.train(&StepOptions::sgd(1e308), usize::MAX);
    assert!(t.stopped.is_some());
    assert!(t.losses.is_empty());
}
