//! A reader's text as a training corpus: the tokenizer's rules, the preset corpus, and a complete
//! starting state sized to fit it.
//!
//! Rules: one sentence per line (blank lines ignored); the text is put in Unicode NFC and folded to
//! lower case ("AI" and "ai" are one token); a word is a run of letters and digits, with an
//! apostrophe (' or ’) or a hyphen kept inside it when a letter or digit follows; every other
//! visible character is a token of its own; whitespace only separates. Every sentence ends with
//! the target "⟨eos⟩" (the state's `eos`). The vocabulary lists the tokens in order of first
//! appearance, then ⟨eos⟩.

use crate::config::{Activation, Config};
use crate::error::{fail, ModelError};
use crate::json::{self, quote};
use crate::rng::SplitMix64;
use crate::state::{State, MAX_HELD_OUT, MAX_SEQUENCES};
use crate::weights::{def, Init, Weights};
use serde::Serialize;
use serde_json::Value;

/// The end-of-sequence token, as the article writes it.
pub const EOS: &str = "⟨eos⟩";
/// The most characters a text may have (training text and held-out text each).
pub const MAX_CORPUS_CHARS: usize = 4096;
/// The most tokens in the vocabulary, ⟨eos⟩ included.
pub const MAX_CORPUS_VOCAB: usize = 64;
/// The most tokens in one sentence (⟨eos⟩ not counted: it is a target, never an input).
pub const MAX_SENTENCE_TOKENS: usize = 16;

/// The preset corpus: a dozen sentences about the toy's world, each with its own first word so
/// that greedy generation from that word can only mean one sentence.
pub const PRESET_TEXT: &str = "ai rocks .
models learn from text .
attention mixes the words .
the loss falls step by step .
gradients flow back through layers .
training makes the model better .
rocks never learn .
words become vectors .
each head looks back .
small models write short sentences .
adam moves every weight .
probabilities sum to one .
";

/// Held-out sentences for the preset: only words of the training text, in new orders.
pub const PRESET_HELD_OUT: &str = "small models learn .
models write short sentences .
";

/// `presetCorpus()`: the preset's training text and held-out text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Preset {
    pub text: &'static str,
    #[serde(rename = "heldOut")]
    pub held_out: &'static str,
}

pub fn preset_corpus() -> Preset {
    Preset {
        text: PRESET_TEXT,
        held_out: PRESET_HELD_OUT,
    }
}

/// `tokenize`'s result: the state fields a corpus gives.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tokenized {
    pub vocab: Vec<String>,
    pub eos: String,
    pub sequences: Vec<Vec<String>>,
    #[serde(rename = "heldOut")]
    pub held_out: Vec<Vec<String>>,
}

/// `options` of `tokenize` and `corpusState`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CorpusOptions {
    /// The held-out text (same rules; only words of the training text).
    pub held_out: Option<String>,
    /// The seed of the starting weights (corpusState).
    pub seed: u64,
}

impl CorpusOptions {
    pub fn from_json(value: &Value) -> Result<CorpusOptions, ModelError> {
        if value.is_null() {
            return Ok(CorpusOptions::default());
        }
        let obj = json::object(value, "the options")?;
        let held_out = match obj.get("heldOut") {
            None | Some(Value::Null) => None,
            Some(v) => Some(json::string(v, "heldOut")?.to_string()),
        };
        let seed = match obj.get("seed") {
            None | Some(Value::Null) => 0,
            Some(v) => crate::optimizer::seed(v, "seed")?,
        };
        Ok(CorpusOptions { held_out, seed })
    }
}

fn joins(c: char) -> bool {
    matches!(c, '\'' | '’' | '-')
}

/// One line's tokens. `which` names the text in messages ("line 3", "held-out line 1").
fn split_line(line: &str, which: &str) -> Result<Vec<String>, ModelError> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || (joins(chars[i]) && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric())))
            {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if crate::chars::shows(c) {
            out.push(c.to_string());
            i += 1;
        } else {
            fail!(
                "{which} holds an invisible character (U+{:04X}) at position {}; remove it",
                u32::from(c),
                i + 1
            );
        }
    }
    Ok(out)
}

/// The sentences of a text: (line number, tokens) for each non-blank line.
fn sentences(text: &str, label: &str) -> Result<Vec<(usize, Vec<String>)>, ModelError> {
    let count = text.chars().count();
    if count > MAX_CORPUS_CHARS {
        fail!("the {label}text has {count} characters; it may have at most {MAX_CORPUS_CHARS}");
    }
    let folded = crate::names::nfc(text).to_lowercase();
    let mut out = Vec::new();
    for (n, line) in folded.split('\n').enumerate() {
        let which = format!("{label}line {}", n + 1);
        let tokens = split_line(line, &which)?;
        if tokens.is_empty() {
            continue;
        }
        if tokens.len() > MAX_SENTENCE_TOKENS {
            fail!(
                "{which} has {} tokens; a sentence may have at most {MAX_SENTENCE_TOKENS} (split it in two lines)",
                tokens.len()
            );
        }
        out.push((n + 1, tokens));
    }
    Ok(out)
}

/// `tokenize(text, options)`: the vocabulary, the training sentences and the held-out ones.
pub fn tokenize(text: &str, options: &CorpusOptions) -> Result<Tokenized, ModelError> {
    let lines = sentences(text, "")?;
    if lines.is_empty() {
        fail!("the text has no sentence; write one sentence per line");
    }
    if lines.len() > MAX_SEQUENCES {
        fail!(
            "the text has {} sentences; it may have at most {MAX_SEQUENCES}",
            lines.len()
        );
    }
    let mut vocab: Vec<String> = Vec::new();
    for (n, tokens) in &lines {
        for t in tokens {
            if vocab.contains(t) {
                continue;
            }
            if vocab.len() + 1 >= MAX_CORPUS_VOCAB {
                fail!(
                    "line {n} brings more than {} different tokens (at {}): the vocabulary holds \
                     at most {MAX_CORPUS_VOCAB} tokens with {EOS}; use fewer different words",
                    MAX_CORPUS_VOCAB - 1,
                    quote(t)
                );
            }
            crate::names::check_token_name(t, &format!("line {n}'s token {}", quote(t)))?;
            vocab.push(t.clone());
        }
    }
    let longest = lines.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
    let mut held_out = Vec::new();
    if let Some(text) = &options.held_out {
        for (n, tokens) in sentences(text, "held-out ")? {
            if let Some(t) = tokens.iter().find(|t| !vocab.contains(t)) {
                fail!(
                    "held-out line {n} uses {}, which is not in the training text; a held-out \
                     sentence may use only the training text's words",
                    quote(t)
                );
            }
            if tokens.len() > longest {
                fail!(
                    "held-out line {n} has {} tokens, more than the longest training sentence \
                     ({longest}), which sets how long an input may be",
                    tokens.len()
                );
            }
            held_out.push(tokens);
        }
        if held_out.len() > MAX_HELD_OUT {
            fail!(
                "the held-out text has {} sentences; it may have at most {MAX_HELD_OUT}",
                held_out.len()
            );
        }
    }
    vocab.push(EOS.to_string());
    Ok(Tokenized {
        vocab,
        eos: EOS.to_string(),
        sequences: lines.into_iter().map(|(_, t)| t).collect(),
        held_out,
    })
}

/// The model `corpusState` builds: small enough to train thousands of steps in a page, large
/// enough to memorise the preset corpus (tests/corpus.rs measures how fast).
pub fn corpus_config(context: usize) -> Config {
    Config {
        d_model: 16,
        n_heads: 2,
        d_ff: 32,
        layer_norm: true,
        activation: Activation::Relu,
        context,
    }
}

/// Starting weights: layer-norm gains 1, biases 0, every other entry normal with standard
/// deviation 1/√fan_in (rows of a matrix applied as x·W; 1 for the embedding and position tables,
/// which are looked up), drawn by `SplitMix64::new(seed)` weight after weight in the registry's
/// order, each row by row.
pub fn initial_weights(config: &Config, vocab_size: usize, seed: u64) -> Weights {
    let mut w = Weights::zeros(config, vocab_size);
    let mut rng = SplitMix64::new(seed);
    for (name, m) in w.params_mut() {
        let std = match def(name).map(|d| d.init) {
            Some(Init::Lookup) => 1.0,
            Some(Init::Scaled) => 1.0 / (m.nrows() as f64).sqrt(),
            Some(Init::Ones) => {
                m.fill(1.0);
                continue;
            }
            // Biases stay at the zeros `Weights::zeros` starts them at.
            Some(Init::Zeros) | None => continue,
        };
        for i in 0..m.nrows() {
            for j in 0..m.ncols() {
                m[(i, j)] = std * rng.normal();
            }
        }
    }
    w
}

/// `corpusState(text, options)`: a complete state that trains on the text.
pub fn corpus_state(text: &str, options: &CorpusOptions) -> Result<State, ModelError> {
    let t = tokenize(text, options)?;
    let context = t.sequences.iter().map(Vec::len).max().unwrap_or(1);
    let config = corpus_config(context);
    let weights = initial_weights(&config, t.vocab.len(), options.seed);
    let state = State {
        tokens: t.sequences[0].clone(),
        vocab: t.vocab,
        eos: Some(t.eos),
        config,
        weights,
        optimizer: None,
        sequences: Some(t.sequences),
        held_out: options.held_out.as_ref().map(|_| t.held_out),
    };
    state.validate()?;
    Ok(state)
}
