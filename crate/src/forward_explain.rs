//! Explaining one forward-pass entry: how Q[t][j], a score or a probability is computed from the
//! numbers before it, with those numbers, in the same vocabulary as the gradients' derivations
//! (explain.rs). The page shows it when a reader asks how a forward number came about; every
//! factor that is itself an activation opens its own explanation, back to the weights.

use crate::activations::Activations;
use crate::cell::Cell;
use crate::error::{fail, ModelError};
use crate::explain::{act, act_of, factor, term, wt, Kind, Named, Term};
use crate::feedforward::activate_with_slope;
use crate::json::quote;
use crate::layernorm::{self, Cache};
use crate::mat::Mat;
use crate::model::{self, Workspace};
use crate::state::State;
use serde::Serialize;

/// The sum behind one forward entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ForwardExplanation {
    /// The value `forward` reports for the entry.
    pub value: f64,
    pub terms: Vec<Term>,
    /// Σ terms; equal to `value` up to rounding.
    pub total: f64,
    /// What the sum is, or why it has a special form, in plain words (may be empty).
    pub note: String,
}

struct Cx<'a> {
    state: &'a State,
    ws: &'a Workspace,
    t: usize,
    j: usize,
}

impl<'a> Cx<'a> {
    fn a(&self) -> &'a Activations {
        &self.ws.acts
    }
    /// Σ_i in[t][i]·W[i][j] (+ b[j]): an entry of a matrix product.
    fn product(&self, input: Named, w: Named, bias: Option<Named>) -> Vec<Term> {
        let (t, j) = (self.t, self.j);
        let mut terms: Vec<Term> = (0..input.1.ncols())
            .map(|i| {
                term(
                    format!("i = {i}"),
                    vec![act_of(input, [t, i]), wt(w.0, &[i, j], w.1[(i, j)])],
                )
            })
            .collect();
        if let Some(b) = bias {
            terms.push(term("bias", vec![wt(b.0, &[j], b.1[(0, j)])]));
        }
        terms
    }
    /// A layer norm's output x̂·γ + β, or its input passed on when the model has none.
    fn norm(
        &self,
        ln: &'static str,
        cache: &Option<Cache>,
        input: Named,
        gain: &'static str,
        bias: &'static str,
    ) -> Vec<Term> {
        let (t, j) = (self.t, self.j);
        let w = &self.state.weights;
        match (cache, w.get(gain), w.get(bias)) {
            (Some(c), Some(g), Some(b)) => vec![
                term(
                    format!(
                        "{}: the normalised entry times the gain",
                        layernorm::words(ln)
                    ),
                    vec![
                        factor(Kind::Normalized, ln, &[t, j], c.xhat[(t, j)]),
                        wt(gain, &[j], g[(0, j)]),
                    ],
                ),
                term("plus the bias", vec![wt(bias, &[j], b[(0, j)])]),
            ],
            _ => vec![term(
                "no layer norm: passed on unchanged",
                vec![act_of(input, [t, j])],
            )],
        }
    }
    /// softmax over the first `width` entries of a row: e^(x_s − m) · 1/Σ_r e^(x_r − m).
    fn softmax(&self, name: &'static str, row: &Mat, index: &[usize], width: usize) -> Vec<Term> {
        let (t, s) = (self.t, self.j);
        let m = (0..width)
            .map(|r| row[(t, r)])
            .fold(f64::NEG_INFINITY, f64::max);
        // The core's own exp (crate::softmax), so these factors multiply to its numbers.
        let exp = crate::lanes::exp1;
        let sum: f64 = (0..width).map(|r| exp(row[(t, r)] - m)).sum();
        let row_index = &index[..index.len() - 1];
        vec![term(
            "its exponential over the sum of its row's exponentials",
            vec![
                factor(Kind::Exp, name, index, exp(row[(t, s)] - m)),
                factor(Kind::InvSumExp, name, row_index, 1.0 / sum),
            ],
        )]
    }
}

pub(crate) fn explain(state: &State, cell: &Cell) -> Result<ForwardExplanation, ModelError> {
    if cell.weight {
        fail!(
            "a weight is not computed: it is a number of the model itself (explain an activation)"
        );
    }
    if matches!(cell.name.as_str(), "scores" | "attention")
        && cell.index.len() == 3
        && cell.index[2] > cell.index[1]
    {
        let (t, s) = (cell.index[1], cell.index[2]);
        fail!("{}[{}] is masked: position {t} cannot attend to the later position {s}, so there is nothing to compute", cell.name, cell.index.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("]["));
    }
    let (name, h, t, j) = cell.resolve(state)?;
    let ws = model::forward_checked(state)?;
    let cx = Cx {
        state,
        ws: &ws,
        t,
        j,
    };
    let a = cx.a();
    let w = &state.weights;
    let no_ffn = || ModelError::new("this model has no feed-forward block (config.dFf is 0)");
    let mut note = String::new();
    let (terms, value): (Vec<Term>, f64) = match name {
        "x" => {
            let id = ws.ids[t];
            let terms = vec![
                term(
                    format!("the embedding of {}", quote(&state.vocab[id])),
                    vec![wt("embedding", &[id, j], w.embedding[(id, j)])],
                ),
                term(
                    format!("the embedding of position {t}"),
                    vec![wt("position", &[t, j], w.position[(t, j)])],
                ),
            ];
            (terms, a.x[(t, j)])
        }
        "attnIn" => (
            cx.norm("ln1", &ws.ln1, ("x", &a.x), "ln1Gain", "ln1Bias"),
            a.attn_in[(t, j)],
        ),
        "q" => (
            cx.product(("attnIn", &a.attn_in), ("wq", &w.wq), None),
            a.q[(t, j)],
        ),
        "k" => (
            cx.product(("attnIn", &a.attn_in), ("wk", &w.wk), None),
            a.k[(t, j)],
        ),
        "v" => (
            cx.product(("attnIn", &a.attn_in), ("wv", &w.wv), None),
            a.v[(t, j)],
        ),
        "scores" => {
            let hd = state.config.head_size();
            let s = j;
            let inv = 1.0 / (hd as f64).sqrt();
            let terms = (h * hd..(h + 1) * hd)
                .map(|c| {
                    term(
                        format!("c = {c}"),
                        vec![
                            act("q", &[t, c], a.q[(t, c)]),
                            act("k", &[s, c], a.k[(s, c)]),
                            factor(Kind::Constant, "invSqrtHead", &[], inv),
                        ],
                    )
                })
                .collect();
            (terms, a.scores[h][(t, s)])
        }
        "attention" => {
            note = "The softmax over the scores this position may see (s ≤ t). The row's largest score is subtracted from each before e^x so that nothing overflows; it cancels in the fraction.".into();
            (
                cx.softmax("scores", &a.scores[h], &[h, t, j], t + 1),
                a.attention[h][(t, j)],
            )
        }
        "z" => {
            let hd = state.config.head_size();
            let head = j / hd;
            let terms = (0..=t)
                .map(|s| {
                    term(
                        format!("s = {s}"),
                        vec![
                            act("attention", &[head, t, s], a.attention[head][(t, s)]),
                            act("v", &[s, j], a.v[(s, j)]),
                        ],
                    )
                })
                .collect();
            (terms, a.z[(t, j)])
        }
        "attnOut" => (
            cx.product(("z", &a.z), ("wo", &w.wo), None),
            a.attn_out[(t, j)],
        ),
        "x1" => (
            vec![
                term(
                    "the residual: the block's input",
                    vec![act("x", &[t, j], a.x[(t, j)])],
                ),
                term(
                    "plus the attention output",
                    vec![act("attnOut", &[t, j], a.attn_out[(t, j)])],
                ),
            ],
            a.x1[(t, j)],
        ),
        "mlpIn" | "u" | "hidden" | "mlpOut" => {
            let m = a.mlp.as_ref().ok_or_else(no_ffn)?;
            let f = w.ffn.as_ref().ok_or_else(no_ffn)?;
            match name {
                "mlpIn" => (
                    cx.norm("ln2", &ws.ln2, ("x1", &a.x1), "ln2Gain", "ln2Bias"),
                    m.mlp_in[(t, j)],
                ),
                "u" => (
                    cx.product(("mlpIn", &m.mlp_in), ("w1", &f.w1), Some(("b1", &f.b1))),
                    m.u[(t, j)],
                ),
                "hidden" => {
                    let actv = state.config.activation;
                    let (value, _) = activate_with_slope(actv, m.u[(t, j)]);
                    (
                        vec![term(
                            "the activation function of U",
                            vec![factor(Kind::Activated, actv.name(), &[t, j], value)],
                        )],
                        m.hidden[(t, j)],
                    )
                }
                _ => (
                    cx.product(("hidden", &m.hidden), ("w2", &f.w2), Some(("b2", &f.b2))),
                    m.mlp_out[(t, j)],
                ),
            }
        }
        "x2" => {
            let mut terms = vec![term(
                "the residual: X₁",
                vec![act("x1", &[t, j], a.x1[(t, j)])],
            )];
            match &a.mlp {
                Some(m) => terms.push(term(
                    "plus the feed-forward output",
                    vec![act("mlpOut", &[t, j], m.mlp_out[(t, j)])],
                )),
                None => note = "This model has no feed-forward block, so X₂ is X₁.".into(),
            }
            (terms, a.x2[(t, j)])
        }
        "xf" => (
            cx.norm("lnf", &ws.lnf, ("x2", &a.x2), "lnfGain", "lnfBias"),
            a.xf[(t, j)],
        ),
        "logits" => (
            cx.product(("xf", &a.xf), ("unembedding", &w.unembedding), None),
            a.logits[(t, j)],
        ),
        "probs" => {
            note = "The softmax over the logits of this position. The row's largest logit is subtracted from each before e^x so that nothing overflows; it cancels in the fraction.".into();
            (
                cx.softmax("logits", &a.logits, &[t, j], a.logits.ncols()),
                a.probs[(t, j)],
            )
        }
        other => fail!("{other} has no explanation"),
    };
    let total = terms.iter().map(|t| t.value).sum();
    Ok(ForwardExplanation {
        value,
        terms,
        total,
        note,
    })
}
