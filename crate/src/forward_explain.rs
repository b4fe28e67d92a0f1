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
    h: usize,
    t: usize,
    j: usize,
}

impl<'a> Cx<'a> {
    fn a(&self) -> &'a Activations {
        &self.ws.acts
    }
    /// Σ_i in[t][i]·W[i][j] (+ b[j]): an entry of the matrix product `out`.
    fn product(&self, input: Named, w: Named, bias: Option<Named>, out: &Mat) -> Sum {
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
        sum(terms, out[(t, j)])
    }
    /// An entry of a layer norm's output `out`, x̂·γ + β, or its input passed on when the model
    /// has none.
    fn norm(
        &self,
        ln: &'static str,
        cache: &Option<Cache>,
        input: Named,
        (gain, bias): (&'static str, &'static str),
        out: &Mat,
    ) -> Sum {
        let (t, j) = (self.t, self.j);
        let w = &self.state.weights;
        let terms = match (cache, w.get(gain), w.get(bias)) {
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
        };
        sum(terms, out[(t, j)])
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

/// One forward entry's sum: its terms, the value `forward` reports, and a note (may be empty).
struct Sum {
    terms: Vec<Term>,
    value: f64,
    note: &'static str,
}

fn sum(terms: Vec<Term>, value: f64) -> Sum {
    Sum {
        terms,
        value,
        note: "",
    }
}

type Explainer = fn(&Cx) -> Result<Sum, ModelError>;

fn no_ffn() -> ModelError {
    ModelError::new("this model has no feed-forward block (config.dFf is 0)")
}

/// How each activation is computed from the numbers before it, in the forward pass's order.
const FORWARD: [(&str, Explainer); 18] = [
    ("x", |c| {
        let (t, j, w) = (c.t, c.j, &c.state.weights);
        let id = c.ws.ids[t];
        let terms = vec![
            term(
                format!("the embedding of {}", quote(&c.state.vocab[id])),
                vec![wt("embedding", &[id, j], w.embedding[(id, j)])],
            ),
            term(
                format!("the embedding of position {t}"),
                vec![wt("position", &[t, j], w.position[(t, j)])],
            ),
        ];
        Ok(sum(terms, c.a().x[(t, j)]))
    }),
    ("attnIn", |c| {
        let a = c.a();
        Ok(c.norm(
            "ln1",
            &c.ws.ln1,
            ("x", &a.x),
            ("ln1Gain", "ln1Bias"),
            &a.attn_in,
        ))
    }),
    ("q", |c| {
        let (a, w) = (c.a(), &c.state.weights);
        Ok(c.product(("attnIn", &a.attn_in), ("wq", &w.wq), None, &a.q))
    }),
    ("k", |c| {
        let (a, w) = (c.a(), &c.state.weights);
        Ok(c.product(("attnIn", &a.attn_in), ("wk", &w.wk), None, &a.k))
    }),
    ("v", |c| {
        let (a, w) = (c.a(), &c.state.weights);
        Ok(c.product(("attnIn", &a.attn_in), ("wv", &w.wv), None, &a.v))
    }),
    ("scores", |c| {
        let (a, h, t, s) = (c.a(), c.h, c.t, c.j);
        let hd = c.state.config.head_size();
        let inv = 1.0 / (hd as f64).sqrt();
        let terms = (h * hd..(h + 1) * hd)
            .map(|k| {
                term(
                    format!("c = {k}"),
                    vec![
                        act("q", &[t, k], a.q[(t, k)]),
                        act("k", &[s, k], a.k[(s, k)]),
                        factor(Kind::Constant, "invSqrtHead", &[], inv),
                    ],
                )
            })
            .collect();
        Ok(sum(terms, a.scores[h][(t, s)]))
    }),
    ("attention", |c| {
        let (a, h, t, j) = (c.a(), c.h, c.t, c.j);
        Ok(Sum {
            terms: c.softmax("scores", &a.scores[h], &[h, t, j], t + 1),
            value: a.attention[h][(t, j)],
            note: "The softmax over the scores this position may see (s ≤ t). The row's largest score is subtracted from each before e^x so that nothing overflows; it cancels in the fraction.",
        })
    }),
    ("z", |c| {
        let (a, t, j) = (c.a(), c.t, c.j);
        let head = j / c.state.config.head_size();
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
        Ok(sum(terms, a.z[(t, j)]))
    }),
    ("attnOut", |c| {
        let (a, w) = (c.a(), &c.state.weights);
        Ok(c.product(("z", &a.z), ("wo", &w.wo), None, &a.attn_out))
    }),
    ("x1", |c| {
        let (a, t, j) = (c.a(), c.t, c.j);
        let terms = vec![
            term(
                "the residual: the block's input",
                vec![act("x", &[t, j], a.x[(t, j)])],
            ),
            term(
                "plus the attention output",
                vec![act("attnOut", &[t, j], a.attn_out[(t, j)])],
            ),
        ];
        Ok(sum(terms, a.x1[(t, j)]))
    }),
    ("mlpIn", |c| {
        let m = c.a().mlp.as_ref().ok_or_else(no_ffn)?;
        Ok(c.norm(
            "ln2",
            &c.ws.ln2,
            ("x1", &c.a().x1),
            ("ln2Gain", "ln2Bias"),
            &m.mlp_in,
        ))
    }),
    ("u", |c| {
        let m = c.a().mlp.as_ref().ok_or_else(no_ffn)?;
        let f = c.state.weights.ffn.as_ref().ok_or_else(no_ffn)?;
        Ok(c.product(
            ("mlpIn", &m.mlp_in),
            ("w1", &f.w1),
            Some(("b1", &f.b1)),
            &m.u,
        ))
    }),
    ("hidden", |c| {
        let m = c.a().mlp.as_ref().ok_or_else(no_ffn)?;
        let (t, j) = (c.t, c.j);
        let actv = c.state.config.activation;
        let (value, _) = activate_with_slope(actv, m.u[(t, j)]);
        let terms = vec![term(
            "the activation function of U",
            vec![factor(Kind::Activated, actv.name(), &[t, j], value)],
        )];
        Ok(sum(terms, m.hidden[(t, j)]))
    }),
    ("mlpOut", |c| {
        let m = c.a().mlp.as_ref().ok_or_else(no_ffn)?;
        let f = c.state.weights.ffn.as_ref().ok_or_else(no_ffn)?;
        Ok(c.product(
            ("hidden", &m.hidden),
            ("w2", &f.w2),
            Some(("b2", &f.b2)),
            &m.mlp_out,
        ))
    }),
    ("x2", |c| {
        let (a, t, j) = (c.a(), c.t, c.j);
        let residual = term("the residual: X₁", vec![act("x1", &[t, j], a.x1[(t, j)])]);
        Ok(match &a.mlp {
            Some(m) => sum(
                vec![
                    residual,
                    term(
                        "plus the feed-forward output",
                        vec![act("mlpOut", &[t, j], m.mlp_out[(t, j)])],
                    ),
                ],
                a.x2[(t, j)],
            ),
            None => Sum {
                terms: vec![residual],
                value: a.x2[(t, j)],
                note: "This model has no feed-forward block, so X₂ is X₁.",
            },
        })
    }),
    ("xf", |c| {
        let a = c.a();
        Ok(c.norm(
            "lnf",
            &c.ws.lnf,
            ("x2", &a.x2),
            ("lnfGain", "lnfBias"),
            &a.xf,
        ))
    }),
    ("logits", |c| {
        let (a, w) = (c.a(), &c.state.weights);
        Ok(c.product(
            ("xf", &a.xf),
            ("unembedding", &w.unembedding),
            None,
            &a.logits,
        ))
    }),
    ("probs", |c| {
        let (a, t, j) = (c.a(), c.t, c.j);
        Ok(Sum {
            terms: c.softmax("logits", &a.logits, &[t, j], a.logits.ncols()),
            value: a.probs[(t, j)],
            note: "The softmax over the logits of this position. The row's largest logit is subtracted from each before e^x so that nothing overflows; it cancels in the fraction.",
        })
    }),
];

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
    let Some((_, explainer)) = FORWARD.iter().find(|(n, _)| *n == name) else {
        fail!("{name} has no explanation");
    };
    let ws = model::forward_checked(state)?;
    let Sum { terms, value, note } = explainer(&Cx {
        state,
        ws: &ws,
        h,
        t,
        j,
    })?;
    let total = terms.iter().map(|t| t.value).sum();
    Ok(ForwardExplanation {
        value,
        terms,
        total,
        note: note.to_string(),
    })
}
