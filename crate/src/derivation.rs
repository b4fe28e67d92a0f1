//! Explaining one gradient entry: the chain-rule sum that produces it, with the actual numbers,
//! and an independent numerical check of it by central finite differences.
//!
//! The page shows these when a reader clicks a gradient cell; it never computes them itself.
//! Every factor names what it is as data (kind, key, index) rather than as text, so the page
//! writes it in the article's symbols from its one table of them, and the core holds no notation.

use crate::cell::Cell;
use crate::error::{fail, ModelError};
use crate::json::quote;
use crate::layernorm;
use crate::model::{self, Probe, Workspace};
use crate::state::{LayerNormWeights, Mat, State};
use serde::Serialize;

/// What a factor is. With `name` and `index` it identifies one number of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// An entry of a forward-pass result; `name` is its key in `forward`.
    Activation,
    /// An entry of a weight; `name` is its key in `weights`.
    Weight,
    /// An entry of an activation's gradient, `backward().activations[name]`: a cell that has a
    /// derivation of its own.
    Gradient,
    /// A number set by the model's shape: `name` "invCount" is 1/N (N positions with a
    /// target), "invSqrtHead" is 1/√D (D columns per head).
    Constant,
    /// The one-hot target at [t, v]: 1 when token v is the target of position t, else 0.
    Target,
    /// The slope of the activation function `name` ("relu", "gelu") at entry `index` of `u`.
    Slope,
    /// One over entry `index` of the activation `name`.
    Reciprocal,
    /// One over the standard deviation of row `index[0]` in layer norm `name` ("ln1", "ln2",
    /// "lnf").
    InvStd,
    /// The input of layer norm `name` at `index`, normalised (before gain and bias): x̂.
    Normalized,
    /// The mean over k of the product of the references in `of` (their index may hold "k"),
    /// for row `index[0]` of layer norm `name`.
    Mean,
}

/// One index of a factor: a number, or the summation variable of a `Mean` ("k").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Idx {
    At(usize),
    Var(&'static str),
}

/// A number of the model named without its value (inside a `Mean`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ref {
    pub kind: Kind,
    pub name: &'static str,
    pub index: Vec<Idx>,
}

/// One number in a product and which number of the model it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Factor {
    pub kind: Kind,
    pub name: &'static str,
    pub index: Vec<Idx>,
    pub value: f64,
    /// What a `Mean` averages; empty (and left out of the JSON) for every other kind.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub of: Vec<Ref>,
}

/// One product in a chain-rule sum.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Term {
    /// What the term stands for in words, e.g. "t = 0 (AI)". Holds token names (plain text
    /// only) but never a symbol: the page adds those from the factors.
    pub label: String,
    /// 1 or −1: the term is sign × the product of its factors.
    pub sign: i8,
    pub factors: Vec<Factor>,
    pub value: f64,
}

/// The sum behind one gradient entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Derivation {
    /// The value `backward` reports for the cell.
    pub gradient: f64,
    pub terms: Vec<Term>,
    /// Σ terms; equal to `gradient` up to rounding.
    pub total: f64,
    /// Why the sum is empty or has a special form, in plain words (may be empty).
    pub note: String,
}

fn at(index: &[usize]) -> Vec<Idx> {
    index.iter().map(|&i| Idx::At(i)).collect()
}

fn f(kind: Kind, name: &'static str, index: &[usize], value: f64) -> Factor {
    Factor {
        kind,
        name,
        index: at(index),
        value,
        of: Vec::new(),
    }
}

fn act(name: &'static str, index: &[usize], value: f64) -> Factor {
    f(Kind::Activation, name, index, value)
}

fn wt(name: &'static str, index: &[usize], value: f64) -> Factor {
    f(Kind::Weight, name, index, value)
}

fn grad(name: &'static str, index: &[usize], value: f64) -> Factor {
    f(Kind::Gradient, name, index, value)
}

fn signed(sign: i8, label: impl Into<String>, factors: Vec<Factor>) -> Term {
    let value = f64::from(sign) * factors.iter().map(|f| f.value).product::<f64>();
    Term {
        label: label.into(),
        sign,
        factors,
        value,
    }
}

fn term(label: impl Into<String>, factors: Vec<Factor>) -> Term {
    signed(1, label, factors)
}

/// The reader's name for a layer norm, for term labels.
fn ln_words(ln: &str) -> &'static str {
    match ln {
        "ln1" => "layer norm 1",
        "ln2" => "layer norm 2",
        _ => "the final layer norm",
    }
}

struct Ctx<'a> {
    state: &'a State,
    trace: &'a Workspace,
}

/// A named matrix: its key (in `forward`, `backward` or `weights`) and its numbers.
type Named<'a> = (&'static str, &'a Mat);

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
    fn outer(&self, a: Named, b: Named, i: usize, j: usize) -> Vec<Term> {
        (0..self.t_len())
            .map(|t| {
                term(
                    self.pos(t),
                    vec![
                        act(a.0, &[t, i], a.1[(t, i)]),
                        grad(b.0, &[t, j], b.1[(t, j)]),
                    ],
                )
            })
            .collect()
    }

    /// Σ_t b[t][j]: the gradient of a bias broadcast over positions.
    fn column(&self, b: Named, j: usize) -> Vec<Term> {
        (0..self.t_len())
            .map(|t| term(self.pos(t), vec![grad(b.0, &[t, j], b.1[(t, j)])]))
            .collect()
    }

    /// Σ_k b[t][k]·w[i][k]: the gradient of the input row of `out = in·W`, with b = ∇out.
    fn back_through(&self, b: Named, w: Named, t: usize, i: usize) -> Vec<Term> {
        (0..w.1.ncols())
            .map(|k| {
                term(
                    format!("k = {k}"),
                    vec![
                        grad(b.0, &[t, k], b.1[(t, k)]),
                        wt(w.0, &[i, k], w.1[(i, k)]),
                    ],
                )
            })
            .collect()
    }

    /// The three terms of layer norm's backward for input entry [t][j]:
    /// rstd·γ_j·∇out_j − rstd·mean(g) − rstd·x̂_j·mean(g⊙x̂), with g = γ ⊙ ∇out.
    #[allow(clippy::too_many_arguments)]
    fn layer_norm(
        &self,
        ln: &'static str,
        gain: &'static str,
        out: Named,
        cache: &layernorm::Cache,
        w: &LayerNormWeights,
        t: usize,
        j: usize,
    ) -> Vec<Term> {
        let c = out.1.ncols();
        let g: Vec<f64> = (0..c).map(|k| w.gain[(0, k)] * out.1[(t, k)]).collect();
        let mean_g = g.iter().sum::<f64>() / c as f64;
        let mean_gx = (0..c).map(|k| g[k] * cache.xhat[(t, k)]).sum::<f64>() / c as f64;
        let rstd = f(Kind::InvStd, ln, &[t], cache.rstd[t]);
        let gain_k = Ref {
            kind: Kind::Weight,
            name: gain,
            index: vec![Idx::Var("k")],
        };
        let out_k = Ref {
            kind: Kind::Gradient,
            name: out.0,
            index: vec![Idx::At(t), Idx::Var("k")],
        };
        let xhat_k = Ref {
            kind: Kind::Normalized,
            name: ln,
            index: vec![Idx::At(t), Idx::Var("k")],
        };
        let mean = |of: Vec<Ref>, value: f64| Factor {
            of,
            ..f(Kind::Mean, ln, &[t], value)
        };
        let words = ln_words(ln);
        vec![
            term(
                format!("{words}: direct path"),
                vec![
                    rstd.clone(),
                    wt(gain, &[j], w.gain[(0, j)]),
                    grad(out.0, &[t, j], out.1[(t, j)]),
                ],
            ),
            signed(
                -1,
                format!("{words}: through the row mean"),
                vec![
                    rstd.clone(),
                    mean(vec![gain_k.clone(), out_k.clone()], mean_g),
                ],
            ),
            signed(
                -1,
                format!("{words}: through the row variance"),
                vec![
                    rstd,
                    f(Kind::Normalized, ln, &[t, j], cache.xhat[(t, j)]),
                    mean(vec![gain_k, out_k, xhat_k], mean_gx),
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

    let (terms, gradient): (Vec<Term>, f64) = if cell.weight {
        let gradient = g.weights.get(name).map(|m| m[(i, j)]).unwrap_or(0.0);
        let terms = match name {
            "embedding" => {
                let terms: Vec<Term> = (0..cx.t_len())
                    .filter(|t| trace.ids[*t] == i)
                    .map(|t| term(cx.pos(t), vec![grad("x", &[t, j], ga.x[(t, j)])]))
                    .collect();
                if terms.is_empty() {
                    note = format!("{} does not occur in the input, so its embedding row does not affect the loss.", quote(&state.vocab[i]));
                }
                terms
            }
            "position" => {
                if i < cx.t_len() {
                    vec![term(cx.pos(i), vec![grad("x", &[i, j], ga.x[(i, j)])])]
                } else {
                    note = format!("The input has {} tokens, so position {i} is not used and does not affect the loss.", cx.t_len());
                    vec![]
                }
            }
            "wq" => cx.outer(("attnIn", &a.attn_in), ("q", &ga.q), i, j),
            "wk" => cx.outer(("attnIn", &a.attn_in), ("k", &ga.k), i, j),
            "wv" => cx.outer(("attnIn", &a.attn_in), ("v", &ga.v), i, j),
            "wo" => cx.outer(("z", &a.z), ("attnOut", &ga.attn_out), i, j),
            "w1" | "w2" | "b1" | "b2" => {
                let (m, gm) = (
                    a.mlp.as_ref().ok_or_else(no_mlp)?,
                    ga.mlp.as_ref().ok_or_else(no_mlp)?,
                );
                match name {
                    "w1" => cx.outer(("mlpIn", &m.mlp_in), ("u", &gm.u), i, j),
                    "w2" => cx.outer(("hidden", &m.hidden), ("mlpOut", &gm.mlp_out), i, j),
                    "b1" => cx.column(("u", &gm.u), j),
                    _ => cx.column(("mlpOut", &gm.mlp_out), j),
                }
            }
            "unembedding" => cx.outer(("xf", &a.xf), ("logits", &ga.logits), i, j),
            _ => {
                // Layer-norm gains and biases.
                let (ln, out, gout, cache) = match &name[..3] {
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
                    (0..cx.t_len())
                        .map(|t| {
                            term(
                                cx.pos(t),
                                vec![
                                    f(Kind::Normalized, ln, &[t, j], cache.xhat[(t, j)]),
                                    grad(out, &[t, j], gout[(t, j)]),
                                ],
                            )
                        })
                        .collect()
                } else {
                    cx.column((out, gout), j)
                }
            }
        };
        (terms, gradient)
    } else {
        let hd = cfg.head_size();
        let inv_sqrt_d = 1.0 / (hd as f64).sqrt();
        let inv_count = 1.0 / report.count as f64;
        match name {
            "probs" => {
                let target = report.targets[i];
                let terms = if target == Some(j) {
                    vec![signed(
                        -1,
                        cx.pos(i),
                        vec![
                            f(Kind::Constant, "invCount", &[], inv_count),
                            f(Kind::Reciprocal, "probs", &[i, j], 1.0 / a.probs[(i, j)]),
                        ],
                    )]
                } else {
                    note = match target {
                        None => format!("Position {i} has no target, so no probability in its row enters the loss."),
                        Some(_) => format!("Only the target's probability enters the loss; {} is not the target of position {i}.", quote(&state.vocab[j])),
                    };
                    vec![]
                };
                (terms, ga.probs[(i, j)])
            }
            "logits" => {
                let terms = match report.targets[i] {
                    Some(y) => vec![
                        term(
                            "predicted probability",
                            vec![
                                act("probs", &[i, j], a.probs[(i, j)]),
                                f(Kind::Constant, "invCount", &[], inv_count),
                            ],
                        ),
                        signed(
                            -1,
                            "minus the target",
                            vec![
                                f(
                                    Kind::Target,
                                    "target",
                                    &[i, j],
                                    if y == j { 1.0 } else { 0.0 },
                                ),
                                f(Kind::Constant, "invCount", &[], inv_count),
                            ],
                        ),
                    ],
                    None => {
                        note = format!(
                            "Position {i} has no target, so its logits do not affect the loss."
                        );
                        vec![]
                    }
                };
                (terms, ga.logits[(i, j)])
            }
            "xf" => (
                cx.back_through(
                    ("logits", &ga.logits),
                    ("unembedding", &w.unembedding),
                    i,
                    j,
                ),
                ga.xf[(i, j)],
            ),
            "x2" => {
                let terms = match (&trace.lnf, &w.lnf) {
                    (Some(cache), Some(lw)) => {
                        cx.layer_norm("lnf", "lnfGain", ("xf", &ga.xf), cache, lw, i, j)
                    }
                    _ => vec![term(
                        "no final layer norm: passed on unchanged",
                        vec![grad("xf", &[i, j], ga.xf[(i, j)])],
                    )],
                };
                (terms, ga.x2[(i, j)])
            }
            "mlpOut" | "attnOut" => {
                let (src, gsrc, gm) = if name == "mlpOut" {
                    ("x2", &ga.x2, &ga.mlp.as_ref().ok_or_else(no_mlp)?.mlp_out)
                } else {
                    ("x1", &ga.x1, &ga.attn_out)
                };
                let terms = vec![term(
                    "the residual sum passes the gradient on unchanged",
                    vec![grad(src, &[i, j], gsrc[(i, j)])],
                )];
                (terms, gm[(i, j)])
            }
            "hidden" => {
                let gm = ga.mlp.as_ref().ok_or_else(no_mlp)?;
                let ffn = w.ffn.as_ref().ok_or_else(no_mlp)?;
                (
                    cx.back_through(("mlpOut", &gm.mlp_out), ("w2", &ffn.w2), i, j),
                    gm.hidden[(i, j)],
                )
            }
            "u" => {
                let (m, gm) = (
                    a.mlp.as_ref().ok_or_else(no_mlp)?,
                    ga.mlp.as_ref().ok_or_else(no_mlp)?,
                );
                let slope = crate::feedforward::activate_derivative(cfg.activation, m.u[(i, j)]);
                let terms = vec![term(
                    "the activation passes on its slope",
                    vec![
                        grad("hidden", &[i, j], gm.hidden[(i, j)]),
                        f(Kind::Slope, cfg.activation.name(), &[i, j], slope),
                    ],
                )];
                (terms, gm.u[(i, j)])
            }
            "mlpIn" => {
                let gm = ga.mlp.as_ref().ok_or_else(no_mlp)?;
                let ffn = w.ffn.as_ref().ok_or_else(no_mlp)?;
                (
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
                let mut terms = vec![term(
                    "residual path",
                    vec![grad(next, &[i, j], gnext[(i, j)])],
                )];
                let (branch, gbranch, cache, lw, ln, gain, words) = if name == "x1" {
                    let gb = ga.mlp.as_ref().map(|gm| &gm.mlp_in);
                    let words = "feed-forward path (no layer norm)";
                    ("mlpIn", gb, &trace.ln2, &w.ln2, "ln2", "ln2Gain", words)
                } else {
                    let words = "attention path (no layer norm)";
                    let gb = Some(&ga.attn_in);
                    ("attnIn", gb, &trace.ln1, &w.ln1, "ln1", "ln1Gain", words)
                };
                if let Some(gb) = gbranch {
                    match (cache, lw) {
                        (Some(cache), Some(lw)) => {
                            terms.extend(cx.layer_norm(ln, gain, (branch, gb), cache, lw, i, j))
                        }
                        _ => terms.push(term(words, vec![grad(branch, &[i, j], gb[(i, j)])])),
                    }
                }
                let gradient = if name == "x1" {
                    ga.x1[(i, j)]
                } else {
                    ga.x[(i, j)]
                };
                (terms, gradient)
            }
            "z" => (
                cx.back_through(("attnOut", &ga.attn_out), ("wo", &w.wo), i, j),
                ga.z[(i, j)],
            ),
            "attention" => {
                let (t, s) = (i, j);
                let terms = (h * hd..(h + 1) * hd)
                    .map(|c| {
                        term(
                            format!("column {c}"),
                            vec![
                                grad("z", &[t, c], ga.z[(t, c)]),
                                act("v", &[s, c], a.v[(s, c)]),
                            ],
                        )
                    })
                    .collect();
                (terms, ga.attention[h][(t, s)])
            }
            "scores" => {
                let (t, s) = (i, j);
                let at = &a.attention[h];
                let gat = &ga.attention[h];
                let a_ts = act("attention", &[h, t, s], at[(t, s)]);
                let mut terms = vec![term(
                    "direct",
                    vec![a_ts.clone(), grad("attention", &[h, t, s], gat[(t, s)])],
                )];
                for r in 0..=t {
                    terms.push(signed(
                        -1,
                        format!("through the normaliser, r = {r}"),
                        vec![
                            a_ts.clone(),
                            act("attention", &[h, t, r], at[(t, r)]),
                            grad("attention", &[h, t, r], gat[(t, r)]),
                        ],
                    ));
                }
                (terms, ga.scores[h][(t, s)])
            }
            "q" => {
                let head = j / hd;
                let terms = (0..=i)
                    .map(|s| {
                        term(
                            format!("s = {s}"),
                            vec![
                                grad("scores", &[head, i, s], ga.scores[head][(i, s)]),
                                act("k", &[s, j], a.k[(s, j)]),
                                f(Kind::Constant, "invSqrtHead", &[], inv_sqrt_d),
                            ],
                        )
                    })
                    .collect();
                (terms, ga.q[(i, j)])
            }
            "k" => {
                let head = j / hd;
                let terms = (i..cx.t_len())
                    .map(|t| {
                        term(
                            format!("t = {t}"),
                            vec![
                                grad("scores", &[head, t, i], ga.scores[head][(t, i)]),
                                act("q", &[t, j], a.q[(t, j)]),
                                f(Kind::Constant, "invSqrtHead", &[], inv_sqrt_d),
                            ],
                        )
                    })
                    .collect();
                (terms, ga.k[(i, j)])
            }
            "v" => {
                let head = j / hd;
                let terms = (i..cx.t_len())
                    .map(|t| {
                        term(
                            format!("t = {t}"),
                            vec![
                                act("attention", &[head, t, i], a.attention[head][(t, i)]),
                                grad("z", &[t, j], ga.z[(t, j)]),
                            ],
                        )
                    })
                    .collect();
                (terms, ga.v[(i, j)])
            }
            _ => {
                // attnIn feeds the queries, keys and values.
                let mut terms = Vec::new();
                for (words, out, gm, wname, wm) in [
                    ("queries", "q", &ga.q, "wq", &w.wq),
                    ("keys", "k", &ga.k, "wk", &w.wk),
                    ("values", "v", &ga.v, "wv", &w.wv),
                ] {
                    for c in 0..wm.ncols() {
                        terms.push(term(
                            format!("through the {words}, c = {c}"),
                            vec![
                                grad(out, &[i, c], gm[(i, c)]),
                                wt(wname, &[j, c], wm[(j, c)]),
                            ],
                        ));
                    }
                }
                (terms, ga.attn_in[(i, j)])
            }
        }
    };
    let total = terms.iter().map(|t| t.value).sum();
    Ok(Derivation {
        gradient,
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
