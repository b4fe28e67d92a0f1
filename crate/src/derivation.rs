//! Explaining one gradient entry: the chain-rule sum that produces it, with the actual numbers,
//! and an independent numerical check of it by central finite differences.
//!
//! The page shows these when a reader clicks a gradient cell; it never computes them itself.

use crate::error::{fail, ModelError};
use crate::json::{self, quote};
use crate::layernorm;
use crate::model::{self, Probe, Workspace, ACTIVATION_NAMES};
use crate::state::{is_vector, LayerNormWeights, Mat, State, WEIGHT_NAMES};
use serde::Serialize;
use serde_json::Value;

/// One entry of a weight's or an activation's gradient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// `true` for `weights.<name>`, `false` for `activations.<name>`.
    pub weight: bool,
    pub name: String,
    /// [row, col]; [j] for vectors; [head, row, col] for scores and attention.
    pub index: Vec<usize>,
}

impl Cell {
    pub fn weight(name: &str, index: &[usize]) -> Cell {
        Cell {
            weight: true,
            name: name.to_string(),
            index: index.to_vec(),
        }
    }

    pub fn activation(name: &str, index: &[usize]) -> Cell {
        Cell {
            weight: false,
            name: name.to_string(),
            index: index.to_vec(),
        }
    }

    /// `{ group: "weights" | "activations", name, index }`.
    pub fn from_json(value: &Value) -> Result<Cell, ModelError> {
        let obj = json::object(value, "cell")?;
        let group = json::string(
            json::required(obj, "group", "cell.group", "\"weights\" or \"activations\"")?,
            "cell.group",
        )?;
        let weight = match group {
            "weights" => true,
            "activations" => false,
            other => fail!(
                "cell.group is {}; expected \"weights\" or \"activations\"",
                quote(other)
            ),
        };
        let name = json::string(
            json::required(obj, "name", "cell.name", "a name")?,
            "cell.name",
        )?;
        let items = json::array(
            json::required(obj, "index", "cell.index", "an array")?,
            "cell.index",
        )?;
        let index = items
            .iter()
            .enumerate()
            .map(|(i, v)| json::count(v, &format!("cell.index[{i}]"), 0, u32::MAX as u64))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cell {
            weight,
            name: name.to_string(),
            index,
        })
    }

    /// "weights.wq[1][0]".
    pub fn describe(&self) -> String {
        let group = if self.weight {
            "weights"
        } else {
            "activations"
        };
        let idx: String = self.index.iter().map(|i| format!("[{i}]")).collect();
        format!("{group}.{}{idx}", self.name)
    }

    /// For a weight cell, the (row, column) it names in this state's weight, checked.
    pub(crate) fn weight_entry(&self, state: &State) -> Result<(usize, usize), ModelError> {
        if !self.weight {
            fail!(
                "{} is not a weight; only weights can be set",
                self.describe()
            );
        }
        let (_, _, i, j) = self.resolve(state)?;
        Ok((i, j))
    }

    /// Checks the cell exists in this state's model and returns (name, index as (matrix, row, col)).
    fn resolve(&self, state: &State) -> Result<(&'static str, usize, usize, usize), ModelError> {
        let what = self.describe();
        if self.weight {
            let Some(&name) = WEIGHT_NAMES.iter().find(|n| **n == self.name) else {
                fail!(
                    "cell.name {} is not a weight (expected one of {})",
                    quote(&self.name),
                    WEIGHT_NAMES.join(", ")
                );
            };
            let Some(m) = state.weights.get(name) else {
                fail!("weights.{name} does not exist in this model (check config.dFf and config.layerNorm)");
            };
            let (i, j) = match (is_vector(name), &self.index[..]) {
                (true, [j]) => (0, *j),
                (false, [i, j]) => (*i, *j),
                (true, _) => {
                    fail!("{what}: weights.{name} is a vector, so the index needs 1 number")
                }
                (false, _) => {
                    fail!("{what}: weights.{name} is a matrix, so the index needs 2 numbers")
                }
            };
            if i >= m.nrows() || j >= m.ncols() {
                fail!(
                    "{what} is outside weights.{name}, which is {}×{}",
                    m.nrows(),
                    m.ncols()
                );
            }
            return Ok((name, 0, i, j));
        }
        let Some(&name) = ACTIVATION_NAMES.iter().find(|n| **n == self.name) else {
            fail!(
                "cell.name {} is not an activation (expected one of {})",
                quote(&self.name),
                ACTIVATION_NAMES.join(", ")
            );
        };
        let ffn_only = matches!(name, "mlpIn" | "u" | "hidden" | "mlpOut");
        if ffn_only && state.config.d_ff == 0 {
            fail!("{name} does not exist in this model: config.dFf is 0 (no feed-forward block)");
        }
        let t_len = state.tokens.len();
        let width = match name {
            "u" | "hidden" => state.config.d_ff,
            "logits" | "probs" => state.vocab.len(),
            "scores" | "attention" => t_len,
            _ => state.config.d_model,
        };
        let (h, t, j) = match (name, &self.index[..]) {
            ("scores" | "attention", [h, t, s]) => (*h, *t, *s),
            ("scores" | "attention", _) => {
                fail!("{what}: {name} is H×T×T, so the index needs 3 numbers (head, row, column)")
            }
            (_, [t, j]) => (0, *t, *j),
            _ => fail!("{what}: {name} is a matrix, so the index needs 2 numbers"),
        };
        if h >= state.config.n_heads || t >= t_len || j >= width {
            fail!("{what} is outside {name}");
        }
        if matches!(name, "scores" | "attention") && j > t {
            fail!("{what} is masked: position {t} cannot attend to the later position {j}, so it has no gradient");
        }
        Ok((name, h, t, j))
    }
}

/// One number in a product, with what it is ("attnIn[0][1]", "∂L/∂q[0][0]"; plain text).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Factor {
    pub name: String,
    pub value: f64,
}

/// One product in a chain-rule sum.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Term {
    /// What the term stands for, e.g. "t = 0 (AI)". May hold token names: plain text only.
    pub label: String,
    /// The factors; the term is their product.
    pub factors: Vec<Factor>,
    pub value: f64,
}

/// The sum behind one gradient entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Derivation {
    /// The value `backward` reports for the cell.
    pub gradient: f64,
    /// The formula in KaTeX syntax; built from fixed symbols and indices only, never user text.
    pub latex: String,
    pub terms: Vec<Term>,
    /// Σ terms; equal to `gradient` up to rounding.
    pub total: f64,
    /// Why the sum is empty or has a special form, in plain words (may be empty).
    pub note: String,
}

fn term(label: impl Into<String>, factors: Vec<(String, f64)>) -> Term {
    let factors: Vec<Factor> = factors
        .into_iter()
        .map(|(name, value)| Factor { name, value })
        .collect();
    let value = factors.iter().map(|f| f.value).product();
    Term {
        label: label.into(),
        factors,
        value,
    }
}

fn d(name: &str, i: usize, j: usize) -> String {
    format!("∂L/∂{name}[{i}][{j}]")
}

fn e(name: &str, i: usize, j: usize) -> String {
    format!("{name}[{i}][{j}]")
}

struct Ctx<'a> {
    state: &'a State,
    trace: &'a Workspace,
}

impl Ctx<'_> {
    fn pos(&self, t: usize) -> String {
        format!(
            "t = {t} ({})",
            self.state.tokens.get(t).map(String::as_str).unwrap_or("?")
        )
    }
    fn t_len(&self) -> usize {
        self.trace.ids.len()
    }

    /// Σ_t a[t][i]·b[t][j]: the gradient of a weight W in `out = a·W`, with b = ∇out.
    fn outer(&self, a: (&str, &Mat), b: (&str, &Mat), i: usize, j: usize) -> Vec<Term> {
        (0..self.t_len())
            .map(|t| {
                term(
                    self.pos(t),
                    vec![(e(a.0, t, i), a.1[(t, i)]), (d(b.0, t, j), b.1[(t, j)])],
                )
            })
            .collect()
    }

    /// Σ_t b[t][j]: the gradient of a bias broadcast over positions.
    fn column(&self, b: (&str, &Mat), j: usize) -> Vec<Term> {
        (0..self.t_len())
            .map(|t| term(self.pos(t), vec![(d(b.0, t, j), b.1[(t, j)])]))
            .collect()
    }

    /// Σ_k b[t][k]·w[i][k]: the gradient of the input row of `out = in·W`, with b = ∇out.
    fn back_through(&self, b: (&str, &Mat), w: (&str, &Mat), t: usize, i: usize) -> Vec<Term> {
        (0..w.1.ncols())
            .map(|k| {
                term(
                    format!("k = {k}"),
                    vec![(d(b.0, t, k), b.1[(t, k)]), (e(w.0, i, k), w.1[(i, k)])],
                )
            })
            .collect()
    }

    /// The three terms of layer norm's backward for input entry [t][j]:
    /// rstd·g_j − rstd·mean(g) − rstd·x̂_j·mean(g⊙x̂), with g = gain ⊙ ∇out.
    fn layer_norm(
        &self,
        ln: &str,
        out: (&str, &Mat),
        cache: &layernorm::Cache,
        w: &LayerNormWeights,
        t: usize,
        j: usize,
    ) -> Vec<Term> {
        let c = out.1.ncols();
        let g: Vec<f64> = (0..c).map(|k| w.gain[(0, k)] * out.1[(t, k)]).collect();
        let mean_g = g.iter().sum::<f64>() / c as f64;
        let mean_gx = (0..c).map(|k| g[k] * cache.xhat[(t, k)]).sum::<f64>() / c as f64;
        let r = cache.rstd[t];
        let rs = format!("1/σ[{t}] of {ln}");
        vec![
            term(
                format!("{ln}: direct path"),
                vec![
                    (rs.clone(), r),
                    (format!("{ln}Gain[{j}]·{}", d(out.0, t, j)), g[j]),
                ],
            ),
            term(
                format!("{ln}: through the row mean"),
                vec![
                    (format!("−{rs}"), -r),
                    (
                        format!("mean over k of {ln}Gain[k]·∂L/∂{}[{t}][k]", out.0),
                        mean_g,
                    ),
                ],
            ),
            term(
                format!("{ln}: through the row variance"),
                vec![
                    (format!("−{rs}"), -r),
                    (format!("x̂[{t}][{j}]"), cache.xhat[(t, j)]),
                    ("mean over k of (gain·∂L/∂out·x̂)[k]".to_string(), mean_gx),
                ],
            ),
        ]
    }
}

pub(crate) fn derive(state: &State, cell: &Cell) -> Result<Derivation, ModelError> {
    let (name, h, i, j) = cell.resolve(state)?;
    let trace = model::backward_checked(state)?;
    let report = trace.report();
    let g = &trace.grad;
    let cx = Ctx {
        state,
        trace: &trace,
    };
    let a = &trace.acts;
    let ga = &g.activations;
    let w = &state.weights;
    let cfg = &state.config;
    let mut note = String::new();
    let no_mlp = || ModelError::new("this model has no feed-forward block (config.dFf is 0)");
    let no_ln = || ModelError::new("this model has no layer norm (config.layerNorm is false)");

    let (latex, terms, gradient): (String, Vec<Term>, f64) = if cell.weight {
        let grad = g.weights.get(name).map(|m| m[(i, j)]).unwrap_or(0.0);
        let (latex, terms) = match name {
            "embedding" => {
                let terms: Vec<Term> = (0..cx.t_len())
                    .filter(|t| trace.ids[*t] == i)
                    .map(|t| term(cx.pos(t), vec![(d("x", t, j), ga.x[(t, j)])]))
                    .collect();
                if terms.is_empty() {
                    note = format!("{} does not occur in the input, so its embedding row does not affect the loss.", quote(&state.vocab[i]));
                }
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial E_{{{i},{j}}}}} = \sum_{{t\,:\,\mathrm{{id}}_t = {i}}} \frac{{\partial L}}{{\partial x_{{t,{j}}}}}"
                    ),
                    terms,
                )
            }
            "position" => {
                let terms = if i < cx.t_len() {
                    vec![term(cx.pos(i), vec![(d("x", i, j), ga.x[(i, j)])])]
                } else {
                    note = format!("The input has {} tokens, so position {i} is not used and does not affect the loss.", cx.t_len());
                    vec![]
                };
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial P_{{{i},{j}}}}} = \frac{{\partial L}}{{\partial x_{{{i},{j}}}}}"
                    ),
                    terms,
                )
            }
            "wq" | "wk" | "wv" => {
                // The capital written out: str::to_uppercase would pull Unicode's case tables
                // (17 KB) into the wasm for three ASCII letters.
                let (sym, big, gout) = match name {
                    "wq" => ("q", "Q", &ga.q),
                    "wk" => ("k", "K", &ga.k),
                    _ => ("v", "V", &ga.v),
                };
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial W^{{{big}}}_{{{i},{j}}}}} = \sum_t \mathrm{{attnIn}}_{{t,{i}}}\,\frac{{\partial L}}{{\partial {sym}_{{t,{j}}}}}"
                    ),
                    cx.outer(("attnIn", &a.attn_in), (sym, gout), i, j),
                )
            }
            "wo" => (
                format!(
                    r"\frac{{\partial L}}{{\partial W^{{O}}_{{{i},{j}}}}} = \sum_t z_{{t,{i}}}\,\frac{{\partial L}}{{\partial \mathrm{{attnOut}}_{{t,{j}}}}}"
                ),
                cx.outer(("z", &a.z), ("attnOut", &ga.attn_out), i, j),
            ),
            "w1" | "w2" | "b1" | "b2" => {
                let (m, gm) = (
                    a.mlp.as_ref().ok_or_else(no_mlp)?,
                    ga.mlp.as_ref().ok_or_else(no_mlp)?,
                );
                match name {
                    "w1" => (
                        format!(
                            r"\frac{{\partial L}}{{\partial W^{{1}}_{{{i},{j}}}}} = \sum_t \mathrm{{mlpIn}}_{{t,{i}}}\,\frac{{\partial L}}{{\partial u_{{t,{j}}}}}"
                        ),
                        cx.outer(("mlpIn", &m.mlp_in), ("u", &gm.u), i, j),
                    ),
                    "w2" => (
                        format!(
                            r"\frac{{\partial L}}{{\partial W^{{2}}_{{{i},{j}}}}} = \sum_t \mathrm{{hidden}}_{{t,{i}}}\,\frac{{\partial L}}{{\partial \mathrm{{mlpOut}}_{{t,{j}}}}}"
                        ),
                        cx.outer(("hidden", &m.hidden), ("mlpOut", &gm.mlp_out), i, j),
                    ),
                    "b1" => (
                        format!(
                            r"\frac{{\partial L}}{{\partial b^{{1}}_{{{j}}}}} = \sum_t \frac{{\partial L}}{{\partial u_{{t,{j}}}}}"
                        ),
                        cx.column(("u", &gm.u), j),
                    ),
                    _ => (
                        format!(
                            r"\frac{{\partial L}}{{\partial b^{{2}}_{{{j}}}}} = \sum_t \frac{{\partial L}}{{\partial \mathrm{{mlpOut}}_{{t,{j}}}}}"
                        ),
                        cx.column(("mlpOut", &gm.mlp_out), j),
                    ),
                }
            }
            "unembedding" => (
                format!(
                    r"\frac{{\partial L}}{{\partial U_{{{i},{j}}}}} = \sum_t \mathrm{{xf}}_{{t,{i}}}\,\frac{{\partial L}}{{\partial \mathrm{{logits}}_{{t,{j}}}}}"
                ),
                cx.outer(("xf", &a.xf), ("logits", &ga.logits), i, j),
            ),
            _ => {
                // Layer-norm gains and biases.
                let (ln, out_name, gout, cache) = match &name[..3] {
                    "ln1" => ("ln1", "attnIn", &ga.attn_in, &trace.ln1),
                    "ln2" => (
                        "ln2",
                        "mlpIn",
                        &ga.mlp.as_ref().ok_or_else(no_mlp)?.mlp_in,
                        &trace.ln2,
                    ),
                    _ => ("lnf", "xf", &ga.xf, &trace.lnf),
                };
                let cache = cache.as_ref().ok_or_else(no_ln)?;
                if name.ends_with("Gain") {
                    let terms = (0..cx.t_len())
                        .map(|t| {
                            term(
                                cx.pos(t),
                                vec![
                                    (format!("x̂[{t}][{j}] of {ln}"), cache.xhat[(t, j)]),
                                    (d(out_name, t, j), gout[(t, j)]),
                                ],
                            )
                        })
                        .collect();
                    (
                        format!(
                            r"\frac{{\partial L}}{{\partial \gamma_{{{j}}}}} = \sum_t \hat{{x}}_{{t,{j}}}\,\frac{{\partial L}}{{\partial \mathrm{{{out_name}}}_{{t,{j}}}}}"
                        ),
                        terms,
                    )
                } else {
                    (
                        format!(
                            r"\frac{{\partial L}}{{\partial \beta_{{{j}}}}} = \sum_t \frac{{\partial L}}{{\partial \mathrm{{{out_name}}}_{{t,{j}}}}}"
                        ),
                        cx.column((out_name, gout), j),
                    )
                }
            }
        };
        (latex, terms, grad)
    } else {
        let dd = (cfg.head_size() as f64).sqrt();
        let hd = cfg.head_size();
        let (latex, terms, grad): (String, Vec<Term>, f64) = match name {
            "probs" => {
                let target = report.targets[i];
                let terms = if target == Some(j) {
                    vec![term(
                        cx.pos(i),
                        vec![
                            ("−1/N".to_string(), -1.0 / report.count as f64),
                            (format!("1/probs[{i}][{j}]"), 1.0 / a.probs[(i, j)]),
                        ],
                    )]
                } else {
                    note = match target {
                        None => format!("Position {i} has no target, so no probability in its row enters the loss."),
                        Some(_) => format!("Only the target's probability enters the loss; {} is not the target of position {i}.", quote(&state.vocab[j])),
                    };
                    vec![]
                };
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial P_{{{i},{j}}}}} = -\frac{{Y_{{{i},{j}}}}}{{N\,P_{{{i},{j}}}}}"
                    ),
                    terms,
                    ga.probs[(i, j)],
                )
            }
            "logits" => {
                let terms = match report.targets[i] {
                    Some(y) => {
                        let n = report.count as f64;
                        vec![
                            term(
                                "predicted probability",
                                vec![
                                    (e("probs", i, j), a.probs[(i, j)]),
                                    ("1/N".to_string(), 1.0 / n),
                                ],
                            ),
                            term(
                                "minus the target",
                                vec![
                                    (format!("−Y[{i}][{j}]"), if y == j { -1.0 } else { 0.0 }),
                                    ("1/N".to_string(), 1.0 / n),
                                ],
                            ),
                        ]
                    }
                    None => {
                        note = format!(
                            "Position {i} has no target, so its logits do not affect the loss."
                        );
                        vec![]
                    }
                };
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial \mathrm{{logits}}_{{{i},{j}}}}} = \frac{{P_{{{i},{j}}} - Y_{{{i},{j}}}}}{{N}}"
                    ),
                    terms,
                    ga.logits[(i, j)],
                )
            }
            "xf" => (
                format!(
                    r"\frac{{\partial L}}{{\partial \mathrm{{xf}}_{{{i},{j}}}}} = \sum_v \frac{{\partial L}}{{\partial \mathrm{{logits}}_{{{i},v}}}}\,U_{{{j},v}}"
                ),
                cx.back_through(
                    ("logits", &ga.logits),
                    ("unembedding", &w.unembedding),
                    i,
                    j,
                ),
                ga.xf[(i, j)],
            ),
            "x2" => match (&trace.lnf, &w.lnf) {
                (Some(cache), Some(lw)) => (
                    format!(
                        r"\frac{{\partial L}}{{\partial x2_{{{i},{j}}}}} = \mathrm{{LN_f}}'\!\left(\frac{{\partial L}}{{\partial \mathrm{{xf}}}}\right)_{{{i},{j}}}"
                    ),
                    cx.layer_norm("lnf", ("xf", &ga.xf), cache, lw, i, j),
                    ga.x2[(i, j)],
                ),
                _ => (
                    format!(
                        r"\frac{{\partial L}}{{\partial x2_{{{i},{j}}}}} = \frac{{\partial L}}{{\partial \mathrm{{xf}}_{{{i},{j}}}}}"
                    ),
                    vec![term(
                        "xf is x2 (no layer norm)",
                        vec![(d("xf", i, j), ga.xf[(i, j)])],
                    )],
                    ga.x2[(i, j)],
                ),
            },
            "mlpOut" | "attnOut" => {
                let (src, gsrc, gm) = if name == "mlpOut" {
                    ("x2", &ga.x2, &ga.mlp.as_ref().ok_or_else(no_mlp)?.mlp_out)
                } else {
                    ("x1", &ga.x1, &ga.attn_out)
                };
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial \mathrm{{{name}}}_{{{i},{j}}}}} = \frac{{\partial L}}{{\partial {src}_{{{i},{j}}}}}"
                    ),
                    vec![term(
                        "the residual sum passes the gradient on unchanged",
                        vec![(d(src, i, j), gsrc[(i, j)])],
                    )],
                    gm[(i, j)],
                )
            }
            "hidden" => {
                let gm = ga.mlp.as_ref().ok_or_else(no_mlp)?;
                let ffn = w.ffn.as_ref().ok_or_else(no_mlp)?;
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial \mathrm{{hidden}}_{{{i},{j}}}}} = \sum_c \frac{{\partial L}}{{\partial \mathrm{{mlpOut}}_{{{i},c}}}}\,W^2_{{{j},c}}"
                    ),
                    cx.back_through(("mlpOut", &gm.mlp_out), ("w2", &ffn.w2), i, j),
                    gm.hidden[(i, j)],
                )
            }
            "u" => {
                let (m, gm) = (
                    a.mlp.as_ref().ok_or_else(no_mlp)?,
                    ga.mlp.as_ref().ok_or_else(no_mlp)?,
                );
                let deriv = crate::feedforward::activate_derivative(cfg.activation, m.u[(i, j)]);
                let act = cfg.activation.name();
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial u_{{{i},{j}}}}} = \frac{{\partial L}}{{\partial \mathrm{{hidden}}_{{{i},{j}}}}}\,\mathrm{{{act}}}'(u_{{{i},{j}}})"
                    ),
                    vec![term(
                        format!("{act} passes on its slope at u"),
                        vec![
                            (d("hidden", i, j), gm.hidden[(i, j)]),
                            (format!("{act}'(u[{i}][{j}])"), deriv),
                        ],
                    )],
                    gm.u[(i, j)],
                )
            }
            "mlpIn" => {
                let gm = ga.mlp.as_ref().ok_or_else(no_mlp)?;
                let ffn = w.ffn.as_ref().ok_or_else(no_mlp)?;
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial \mathrm{{mlpIn}}_{{{i},{j}}}}} = \sum_f \frac{{\partial L}}{{\partial u_{{{i},f}}}}\,W^1_{{{j},f}}"
                    ),
                    cx.back_through(("u", &gm.u), ("w1", &ffn.w1), i, j),
                    gm.mlp_in[(i, j)],
                )
            }
            "x1" | "x" => {
                let (next, gnext) = if name == "x1" {
                    ("x2", &ga.x2)
                } else {
                    ("x1", &ga.x1)
                };
                let mut terms = vec![term("residual path", vec![(d(next, i, j), gnext[(i, j)])])];
                let (branch, gbranch, cache, lw, ln) = if name == "x1" {
                    match &ga.mlp {
                        Some(gm) => ("mlpIn", Some(&gm.mlp_in), &trace.ln2, &w.ln2, "ln2"),
                        None => ("mlpIn", None, &None, &None, "ln2"),
                    }
                } else {
                    ("attnIn", Some(&ga.attn_in), &trace.ln1, &w.ln1, "ln1")
                };
                if let Some(gb) = gbranch {
                    match (cache, lw) {
                        (Some(cache), Some(lw)) => {
                            terms.extend(cx.layer_norm(ln, (branch, gb), cache, lw, i, j))
                        }
                        _ => terms.push(term(
                            format!("{branch} path ({branch} is {name}: no layer norm)"),
                            vec![(d(branch, i, j), gb[(i, j)])],
                        )),
                    }
                }
                let latex = if gbranch.is_some() {
                    format!(
                        r"\frac{{\partial L}}{{\partial {name}_{{{i},{j}}}}} = \frac{{\partial L}}{{\partial {next}_{{{i},{j}}}}} + \left(\text{{via }} \mathrm{{{branch}}}\right)_{{{i},{j}}}"
                    )
                } else {
                    format!(
                        r"\frac{{\partial L}}{{\partial {name}_{{{i},{j}}}}} = \frac{{\partial L}}{{\partial {next}_{{{i},{j}}}}}"
                    )
                };
                let grad = if name == "x1" {
                    ga.x1[(i, j)]
                } else {
                    ga.x[(i, j)]
                };
                (latex, terms, grad)
            }
            "z" => (
                format!(
                    r"\frac{{\partial L}}{{\partial z_{{{i},{j}}}}} = \sum_c \frac{{\partial L}}{{\partial \mathrm{{attnOut}}_{{{i},c}}}}\,W^O_{{{j},c}}"
                ),
                cx.back_through(("attnOut", &ga.attn_out), ("wo", &w.wo), i, j),
                ga.z[(i, j)],
            ),
            "attention" => {
                let (t, s) = (i, j);
                let terms = (0..hd)
                    .map(|k| {
                        let c = h * hd + k;
                        term(
                            format!("column {c}"),
                            vec![(d("z", t, c), ga.z[(t, c)]), (e("v", s, c), a.v[(s, c)])],
                        )
                    })
                    .collect();
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial A^{{({h})}}_{{{t},{s}}}}} = \sum_{{c \in \text{{head }} {h}}} \frac{{\partial L}}{{\partial z_{{{t},c}}}}\,v_{{{s},c}}"
                    ),
                    terms,
                    ga.attention[h][(t, s)],
                )
            }
            "scores" => {
                let (t, s) = (i, j);
                let at = &a.attention[h];
                let gat = &ga.attention[h];
                let mut terms = vec![term(
                    "direct",
                    vec![
                        (format!("A[{t}][{s}]"), at[(t, s)]),
                        (format!("∂L/∂A[{t}][{s}]"), gat[(t, s)]),
                    ],
                )];
                for r in 0..=t {
                    terms.push(term(
                        format!("through the normaliser, r = {r}"),
                        vec![
                            (format!("−A[{t}][{s}]"), -at[(t, s)]),
                            (format!("A[{t}][{r}]"), at[(t, r)]),
                            (format!("∂L/∂A[{t}][{r}]"), gat[(t, r)]),
                        ],
                    ));
                }
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial S^{{({h})}}_{{{t},{s}}}}} = A_{{{t},{s}}}\Big(\frac{{\partial L}}{{\partial A_{{{t},{s}}}}} - \sum_{{r \le {t}}} A_{{{t},r}}\frac{{\partial L}}{{\partial A_{{{t},r}}}}\Big)"
                    ),
                    terms,
                    ga.scores[h][(t, s)],
                )
            }
            "q" => {
                let head = j / hd;
                let terms = (0..=i)
                    .map(|s| {
                        term(
                            format!("s = {s}"),
                            vec![
                                (
                                    format!("∂L/∂scores[{head}][{i}][{s}]"),
                                    ga.scores[head][(i, s)],
                                ),
                                (e("k", s, j), a.k[(s, j)]),
                                ("1/√D".to_string(), 1.0 / dd),
                            ],
                        )
                    })
                    .collect();
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial q_{{{i},{j}}}}} = \sum_{{s \le {i}}} \frac{{\partial L}}{{\partial S^{{({head})}}_{{{i},s}}}}\,\frac{{k_{{s,{j}}}}}{{\sqrt{{D}}}}"
                    ),
                    terms,
                    ga.q[(i, j)],
                )
            }
            "k" => {
                let head = j / hd;
                let terms = (i..cx.t_len())
                    .map(|t| {
                        term(
                            format!("t = {t}"),
                            vec![
                                (
                                    format!("∂L/∂scores[{head}][{t}][{i}]"),
                                    ga.scores[head][(t, i)],
                                ),
                                (e("q", t, j), a.q[(t, j)]),
                                ("1/√D".to_string(), 1.0 / dd),
                            ],
                        )
                    })
                    .collect();
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial k_{{{i},{j}}}}} = \sum_{{t \ge {i}}} \frac{{\partial L}}{{\partial S^{{({head})}}_{{t,{i}}}}}\,\frac{{q_{{t,{j}}}}}{{\sqrt{{D}}}}"
                    ),
                    terms,
                    ga.k[(i, j)],
                )
            }
            "v" => {
                let head = j / hd;
                let terms = (i..cx.t_len())
                    .map(|t| {
                        term(
                            format!("t = {t}"),
                            vec![
                                (format!("A[{head}][{t}][{i}]"), a.attention[head][(t, i)]),
                                (d("z", t, j), ga.z[(t, j)]),
                            ],
                        )
                    })
                    .collect();
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial v_{{{i},{j}}}}} = \sum_{{t \ge {i}}} A^{{({head})}}_{{t,{i}}}\,\frac{{\partial L}}{{\partial z_{{t,{j}}}}}"
                    ),
                    terms,
                    ga.v[(i, j)],
                )
            }
            _ => {
                // attnIn feeds q, k and v.
                let mut terms = Vec::new();
                for (sym, gm, wm) in [
                    ("q", &ga.q, &w.wq),
                    ("k", &ga.k, &w.wk),
                    ("v", &ga.v, &w.wv),
                ] {
                    for c in 0..wm.ncols() {
                        terms.push(term(
                            format!("through {sym}, c = {c}"),
                            vec![
                                (d(sym, i, c), gm[(i, c)]),
                                (format!("w{sym}[{j}][{c}]"), wm[(j, c)]),
                            ],
                        ));
                    }
                }
                (
                    format!(
                        r"\frac{{\partial L}}{{\partial \mathrm{{attnIn}}_{{{i},{j}}}}} = \sum_c \Big(\frac{{\partial L}}{{\partial q_{{{i},c}}}} W^Q_{{{j},c}} + \frac{{\partial L}}{{\partial k_{{{i},c}}}} W^K_{{{j},c}} + \frac{{\partial L}}{{\partial v_{{{i},c}}}} W^V_{{{j},c}}\Big)"
                    ),
                    terms,
                    ga.attn_in[(i, j)],
                )
            }
        };
        (latex, terms, grad)
    };
    let total = terms.iter().map(|t| t.value).sum();
    Ok(Derivation {
        gradient,
        latex,
        terms,
        total,
        note,
    })
}

/// The result of a central finite-difference check of one entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FiniteDifference {
    pub epsilon: f64,
    /// L with the entry raised by ε.
    pub loss_plus: f64,
    /// L with the entry lowered by ε.
    pub loss_minus: f64,
    /// (L₊ − L₋)/(2ε).
    pub numeric: f64,
    /// What back propagation gives.
    pub analytic: f64,
    /// numeric − analytic.
    pub difference: f64,
}

pub const DEFAULT_EPSILON: f64 = 1e-5;

pub(crate) fn finite_difference(
    state: &State,
    cell: &Cell,
    epsilon: Option<f64>,
) -> Result<FiniteDifference, ModelError> {
    let eps = epsilon.unwrap_or(DEFAULT_EPSILON);
    if !eps.is_finite() || eps <= 0.0 || eps > 1.0 {
        fail!("epsilon is {eps}; it must be greater than 0 and at most 1");
    }
    let (name, h, i, j) = cell.resolve(state)?;
    let grads = crate::backward(state)?;
    let eval = |delta: f64| -> Result<f64, ModelError> {
        if cell.weight {
            let mut shifted = state.clone();
            if let Some(m) = shifted.weights.get_mut(name) {
                m[(i, j)] += delta;
            }
            model::loss_with_probe(&shifted, None)
        } else {
            let index = if matches!(name, "scores" | "attention") {
                vec![h, i, j]
            } else {
                vec![i, j]
            };
            model::loss_with_probe(state, Some(&Probe { name, index, delta }))
        }
    };
    let loss_plus = eval(eps)?;
    let loss_minus = eval(-eps)?;
    let numeric = (loss_plus - loss_minus) / (2.0 * eps);
    let analytic = if cell.weight {
        grads.weights.get(name).map(|m| m[(i, j)]).unwrap_or(0.0)
    } else {
        match grads.activations.get(name) {
            Some(model::ActivationRef::Matrix(m)) => m[(i, j)],
            Some(model::ActivationRef::Heads(hs)) => hs[h][(i, j)],
            None => 0.0,
        }
    };
    Ok(FiniteDifference {
        epsilon: eps,
        loss_plus,
        loss_minus,
        numeric,
        analytic,
        difference: numeric - analytic,
    })
}
