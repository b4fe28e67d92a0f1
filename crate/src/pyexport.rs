//! Export as JAX / PyTorch: one self-contained Python file that rebuilds a state, runs the same
//! training step with the framework's own layers, automatic differentiation and optimiser, and
//! checks every number the page shows against the core's, embedded in the file.
//!
//! The Python code lives in `pyexport/*.py` (readable and testable as Python); this module only
//! writes the data: the state, the step's settings and the core's results, as Python literals.
//! Floats are written with Rust's shortest round-trip representation (ryu, through serde_json),
//! which Python's `float()` reads back to the same float64.

use serde::Serialize;
use serde_json::Value;

use crate::activations::ActivationRef;
use crate::error::{fail, ModelError};
use crate::json::{Causal, Flat, Rows, Stack};
use crate::optimizer::{Optimizer, StepOptions};
use crate::state::State;
use crate::weights::{is_vector, Weights};

const JAX: &str = include_str!("pyexport/jax.py");
const TORCH: &str = include_str!("pyexport/torch.py");
const CHECK: &str = include_str!("pyexport/check.py");
/// Appended for a state with a training batch: its loss, and a `run` that replaces the one above.
const JAX_BATCH: &str = include_str!("pyexport/jax_batch.py");
const TORCH_BATCH: &str = include_str!("pyexport/torch_batch.py");

/// The most numbers a file may hold (about 20 MB of text): Python takes ever longer to read
/// bigger literals, and a string of hundreds of megabytes could exhaust the page's memory. The
/// article's models need a few hundred; the largest allowed models would need hundreds of millions.
pub const MAX_EXPORT_NUMBERS: usize = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framework {
    Jax,
    Pytorch,
}

impl Framework {
    fn name(self) -> &'static str {
        match self {
            Framework::Jax => "JAX",
            Framework::Pytorch => "PyTorch",
        }
    }

    /// The name the page downloads the file under.
    fn filename(self) -> &'static str {
        match self {
            Framework::Jax => "how-llms-learn-jax.py",
            Framework::Pytorch => "how-llms-learn-pytorch.py",
        }
    }

    fn install(self) -> &'static str {
        match self {
            Framework::Jax => "pip install jax optax",
            Framework::Pytorch => "pip install torch",
        }
    }
}

/// The Python file for `state` and one step with `options`: the core runs forward, loss,
/// backward and the step here, so a state the core refuses (or a step it refuses) is an error.
pub fn export_python(
    state: &State,
    options: &StepOptions,
    framework: Framework,
) -> Result<String, ModelError> {
    state.validate()?;
    let acts = crate::forward(state)?;
    let numbers = numbers_to_write(state, options, &acts);
    if numbers > MAX_EXPORT_NUMBERS {
        fail!(
            "this model's Python file would hold {numbers} numbers, more than the {MAX_EXPORT_NUMBERS} \
             a file can (about 20 MB); export a smaller model: fewer tokens, a narrower model or a smaller vocabulary"
        );
    }
    let loss = crate::loss(state)?;
    let grads = crate::backward(state)?;
    let step = crate::step(state, options)?;

    let mut data = Data::default();
    data.line("# ------------------------------------------------------------------------------");
    data.line("# The state, exactly as the page holds it (names as in the page's JSON schema).");
    data.assign("VOCAB", &state.vocab);
    data.assign("EOS", &state.eos);
    data.assign("TOKENS", &state.tokens);
    data.assign("CONFIG", &state.config);
    data.assign("STEP", &step_options(options));
    data.line("WEIGHTS = {}");
    data.weights("WEIGHTS[{}]", &state.weights);
    match &state.optimizer {
        Some(memory) => {
            data.line("# Adam's memory from the steps taken so far: its step count and moments.");
            data.assign("ADAM_STEP", &memory.step);
            data.line("ADAM_M, ADAM_V = {}, {}");
            data.weights("ADAM_M[{}]", &memory.m);
            data.weights("ADAM_V[{}]", &memory.v);
        }
        None => data.line("ADAM_STEP, ADAM_M, ADAM_V = 0, None, None  # Adam starts from zero"),
    }

    data.line("");
    data.line("# ------------------------------------------------------------------------------");
    data.line("# The page's numbers: what the core computed for this state and this step.");
    data.line(
        "# None marks a masked attention score, which does not exist (it is never compared).",
    );
    data.line("EXPECTED = {}");
    for (name, a) in acts.entries() {
        data.activation("forward", name, a);
    }
    data.assign("EXPECTED[\"loss\", \"L\"]", &loss.value);
    data.assign("EXPECTED[\"loss\", \"terms\"]", &loss.terms);
    data.weights("EXPECTED[\"weight gradient\", {}]", &grads.weights);
    for (name, a) in grads.activations.entries() {
        data.activation("activation gradient", name, a);
    }
    data.weights("EXPECTED[\"after the step\", {}]", &step.state.weights);
    data.assign("EXPECTED[\"after the step\", \"L\"]", &step.loss_after);
    if options.optimizer == Optimizer::Adam {
        if let Some(memory) = &step.state.optimizer {
            data.weights("EXPECTED[\"Adam m\", {}]", &memory.m);
            data.weights("EXPECTED[\"Adam v\", {}]", &memory.v);
        }
    }

    let batch = crate::batch::is_batch(state) || options.batch.is_some();
    if batch {
        batch_data(&mut data, state, &step)?;
    }
    let (code, extra, version) = match framework {
        Framework::Jax => (JAX, JAX_BATCH, "jax.__version__"),
        Framework::Pytorch => (TORCH, TORCH_BATCH, "torch.__version__"),
    };
    let code = if batch {
        format!("{code}{extra}")
    } else {
        code.to_string()
    };
    Ok(format!(
        "{header}\n{code}\n{check}\n\n{data}\n\nFRAMEWORK = \"{name}\"\n\nif __name__ == \"__main__\":\n    sys.exit(main(run, {version}))\n",
        header = header(state, options, framework),
        check = CHECK.trim_end(),
        data = data.text.trim_end(),
        name = framework.name(),
    ))
}

/// A batch state's sequences, the step's, the held-out set and their numbers.
fn batch_data(data: &mut Data, state: &State, step: &crate::StepResult) -> Result<(), ModelError> {
    let train = match &state.sequences {
        Some(seqs) => seqs.clone(),
        None => vec![state.tokens.clone()],
    };
    let indices = step.batch.clone().unwrap_or_default();
    let used: Vec<Vec<String>> = indices.iter().map(|&i| train[i].clone()).collect();
    let held = state.held_out.clone().unwrap_or_default();
    data.line("");
    data.line("# The training batch, the sequences this step trained on, and the held-out set.");
    data.assign("SEQUENCES", &train);
    data.assign("STEP_SEQUENCES", &used);
    data.assign("HELD_OUT", &held);
    let mut sub = state.clone();
    sub.sequences = Some(used);
    sub.held_out = None;
    data.weights(
        "EXPECTED[\"step gradient\", {}]",
        &crate::backward(&sub)?.weights,
    );
    if let Some(Some(h)) = crate::loss(state)?.held_out {
        data.assign("EXPECTED[\"held-out\", \"L\"]", &h.value);
    }
    Ok(())
}

/// The weights are written up to five times (the state, its gradient, after the step, Adam's m
/// and v) plus Adam's memory, the activations twice (forward and gradient).
fn numbers_to_write(state: &State, options: &StepOptions, acts: &crate::Activations) -> usize {
    let weights: usize = state.weights.params().map(|(_, m)| m.len()).sum();
    let activations: usize = acts
        .entries()
        .map(|(_, a)| match a {
            ActivationRef::Matrix(m) => m.len(),
            ActivationRef::Heads(hs) => hs.iter().map(|m| m.len()).sum(),
        })
        .sum();
    let adam = if options.optimizer == Optimizer::Adam {
        2
    } else {
        0
    };
    let memory = if state.optimizer.is_some() { 2 } else { 0 };
    // A batch adds the step's gradient.
    let batch = usize::from(crate::batch::is_batch(state) || options.batch.is_some());
    weights * (3 + batch + adam + memory) + 2 * activations
}

fn header(state: &State, options: &StepOptions, framework: Framework) -> String {
    let c = &state.config;
    let optimiser = match options.optimizer {
        Optimizer::Sgd => format!("SGD, learning rate {:?}", options.learning_rate),
        Optimizer::Adam => format!(
            "Adam, learning rate {:?}, beta_m {:?}, beta_v {:?}, epsilon {:?}",
            options.learning_rate, options.beta1, options.beta2, options.epsilon
        ),
    };
    let tokens: Vec<&str> = state.tokens.iter().map(String::as_str).collect();
    format!(
        r#""""How LLMs learn: one training step of the page's transformer, reproduced in {name}.

Exported from the page. This file rebuilds its exact state (every weight in float64, the
vocabulary, the input, the settings and the optimiser's memory), defines the model with {name}'s
own operations in the article's notation, computes the loss with its cross-entropy, every gradient
with its automatic differentiation and one update with its optimiser, and checks every number the
page shows against the page's own, embedded at the end of this file.

    {install}
    python {filename}

Each matrix is compared as a whole: max|a - b| <= 1e-9 * max|b| + 1e-14 (two correct float64
programs that sum in different orders differ by more than 1e-9 relative in entries that cancel to
nearly zero, so an entry-by-entry relative test would be the wrong test). It prints one line per
matrix and exits with status 1, naming the matrices, if any disagree.

Input: {tokens} ({t} tokens); vocabulary of {v}; d_model {dm}, {heads} head(s), d_ff {ff},
layer norm {ln}, {act}; step: {optimiser}.
"""
"#,
        name = framework.name(),
        install = framework.install(),
        filename = framework.filename(),
        tokens = py_text(&tokens.join(" ")),
        t = state.tokens.len(),
        v = state.vocab.len(),
        dm = c.d_model,
        heads = c.n_heads,
        ff = c.d_ff,
        ln = if c.layer_norm { "on" } else { "off" },
        act = c.activation.name(),
    )
}

/// Token names inside the docstring, escaped as in a JSON string (\" \\ \uXXXX, which a Python
/// docstring reads the same way), so that no quote or backslash can end it early.
fn py_text(text: &str) -> String {
    let literal = Value::String(text.to_string()).to_string();
    let inner = literal.strip_prefix('"').and_then(|l| l.strip_suffix('"'));
    inner.unwrap_or_default().to_string()
}

fn step_options(o: &StepOptions) -> Value {
    let optimizer = match o.optimizer {
        Optimizer::Sgd => "sgd",
        Optimizer::Adam => "adam",
    };
    serde_json::json!({
        "optimizer": optimizer,
        "learningRate": o.learning_rate,
        "beta1": o.beta1,
        "beta2": o.beta2,
        "epsilon": o.epsilon,
    })
}

#[derive(Default)]
struct Data {
    text: String,
}

impl Data {
    fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn assign<T: Serialize + ?Sized>(&mut self, target: &str, value: &T) {
        // Our own types serialise without error (every map key is a string).
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        let line = format!("{target} = {}", py(&value, 0));
        self.line(&line);
    }

    /// One assignment per weight; `target` holds `{}` where the quoted name goes.
    fn weights(&mut self, target: &str, weights: &Weights) {
        for (name, m) in weights.params() {
            let target = target.replace("{}", &format!("\"{name}\""));
            if is_vector(name) {
                self.assign(&target, &Flat(m));
            } else {
                self.assign(&target, &Rows(m));
            }
        }
    }

    fn activation(&mut self, group: &str, name: &str, a: ActivationRef<'_>) {
        let target = format!("EXPECTED[\"{group}\", \"{name}\"]");
        match a {
            ActivationRef::Matrix(m) => self.assign(&target, &Rows(m)),
            ActivationRef::Heads(hs) if name == "scores" => self.assign(&target, &Causal(hs)),
            ActivationRef::Heads(hs) => self.assign(&target, &Stack(hs)),
        }
    }
}

/// A JSON value as a Python literal; a matrix gets one row per line.
fn py(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        // serde_json writes floats with ryu (shortest round trip: 0.1, 1e-8, -0.0), all valid Python.
        Value::Number(n) => n.to_string(),
        // JSON's escapes (\" \\ \n \uXXXX) mean the same in a Python string literal.
        Value::String(_) => value.to_string(),
        Value::Array(items) if items.iter().any(|i| i.is_array()) => {
            let pad = " ".repeat(indent + 4);
            let rows: Vec<String> = items
                .iter()
                .map(|i| format!("{pad}{},\n", py(i, indent + 4)))
                .collect();
            format!("[\n{}{}]", rows.concat(), " ".repeat(indent))
        }
        Value::Array(items) => {
            let cells: Vec<String> = items.iter().map(|i| py(i, indent)).collect();
            format!("[{}]", cells.join(", "))
        }
        Value::Object(map) => {
            let cells: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), py(v, indent)))
                .collect();
            format!("{{{}}}", cells.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mat::Mat;
    use crate::Resize;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn literal_of(m: &Mat) -> String {
        py(&serde_json::to_value(Rows(m)).unwrap_or(Value::Null), 0)
    }

    #[test]
    fn floats_are_written_to_round_trip() {
        let m = Mat::from_row_slice(1, 5, &[0.1, 1e-8, -0.0, 1.0 / 3.0, 5e-324]);
        assert_eq!(
            literal_of(&m),
            "[\n    [0.1, 1e-8, -0.0, 0.3333333333333333, 5e-324],\n]"
        );
    }

    #[test]
    fn strings_are_python_literals() {
        let v = Value::String("a\"b\\c\nd".into());
        assert_eq!(py(&v, 0), r#""a\"b\\c\nd""#);
        assert_eq!(
            py(&serde_json::json!([null, true, false]), 0),
            "[None, True, False]"
        );
    }

    #[test]
    fn the_article_example_exports_its_state_and_the_core_numbers() {
        let state = crate::article_example();
        let text =
            export_python(&state, &StepOptions::sgd(0.1), Framework::Jax).unwrap_or_default();
        assert!(text.contains("jax.config.update(\"jax_enable_x64\", True)"));
        assert!(text.contains("WEIGHTS[\"wq\"] = [\n    [0.5, 0.2],\n    [0.1, 0.4],\n]"));
        assert!(text.contains("EXPECTED[\"loss\", \"L\"] = 1.0113859689217128"));
        assert!(text.contains("EXPECTED[\"forward\", \"scores\"]"));
        assert!(!text.contains("EXPECTED[\"Adam m\""));
        let torch =
            export_python(&state, &StepOptions::adam(0.01), Framework::Pytorch).unwrap_or_default();
        assert!(torch.contains("approximate=\"tanh\""));
        assert!(torch.contains("EXPECTED[\"Adam v\", \"wq\"]"));
    }

    #[test]
    fn a_state_without_a_target_is_an_error_not_a_file() {
        let mut state = crate::article_example();
        state.tokens.truncate(1);
        let err = export_python(&state, &StepOptions::sgd(0.1), Framework::Jax);
        assert!(err.is_err_and(|e| e.to_string().contains("no position has a target")));
    }

    #[test]
    fn a_model_too_large_for_a_file_is_refused_with_a_message() {
        let change = Resize::from_json(&serde_json::json!({ "config": {
            "dModel": 256, "nHeads": 4, "dFf": 1024, "layerNorm": true,
            "activation": "gelu", "context": 256,
        }}));
        let big = change.and_then(|c| crate::resize(&crate::article_example(), &c));
        assert!(big.is_ok());
        let err = big.and_then(|s| export_python(&s, &StepOptions::sgd(0.1), Framework::Jax));
        assert!(err.is_err_and(|e| e.to_string().contains("export a smaller model")));
    }

    #[test]
    fn a_quote_in_a_token_cannot_end_the_docstring() {
        let mut state = crate::article_example();
        state.vocab[0] = "\"\"\"".into();
        state.tokens[0] = "\"\"\"".into();
        let text =
            export_python(&state, &StepOptions::sgd(0.1), Framework::Jax).unwrap_or_default();
        let docstring = text.split("\"\"\"").nth(1).unwrap_or_default();
        assert!(docstring.contains("Input: "), "{docstring}");
    }
}
