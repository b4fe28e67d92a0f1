//! The vocabulary of a derivation: a gradient entry explained as a signed sum of products whose
//! factors say which number of the model they are (kind, key, index) and hold its value.
//!
//! Each layer module explains the gradient entries its own backward pass produces, next to that
//! backward code, with the builders below; `derivation.rs` only looks up which layer explains a
//! cell. The page writes the factors in the article's symbols (www/js/factors.js), so nothing
//! here is notation. This module depends on nothing but `Mat`, so any layer can use it.

use crate::mat::Mat;
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
    /// e^(x − m) for entry `index` of the activation `name` ("scores", "logits"), m being the
    /// largest entry of its row that the softmax reads (subtracted so e^x cannot overflow).
    Exp,
    /// One over Σ_r e^(x_r − m) over row `index` (head first for scores) of `name`.
    InvSumExp,
    /// The activation function `name` ("relu", "gelu") applied to entry `index` of `u`.
    Activated,
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
    /// With a training batch: which of its sequences the term's numbers come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<usize>,
}

/// A layer's answer for one gradient entry: the terms, the value its backward pass computed,
/// and why the sum is empty or special (plain words, may be empty).
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    pub terms: Vec<Term>,
    pub gradient: f64,
    pub note: String,
}

impl Explained {
    pub fn new(terms: Vec<Term>, gradient: f64) -> Explained {
        Explained {
            terms,
            gradient,
            note: String::new(),
        }
    }

    /// An empty sum and the reason for it.
    pub fn none(note: String, gradient: f64) -> Explained {
        Explained {
            terms: Vec::new(),
            gradient,
            note,
        }
    }
}

/// A named matrix: its key (in `forward`, `backward` or `weights`) and its numbers.
pub type Named<'a> = (&'static str, &'a Mat);

pub fn at(index: &[usize]) -> Vec<Idx> {
    index.iter().map(|&i| Idx::At(i)).collect()
}

pub fn factor(kind: Kind, name: &'static str, index: &[usize], value: f64) -> Factor {
    Factor {
        kind,
        name,
        index: at(index),
        value,
        of: Vec::new(),
    }
}

pub fn act(name: &'static str, index: &[usize], value: f64) -> Factor {
    factor(Kind::Activation, name, index, value)
}

pub fn wt(name: &'static str, index: &[usize], value: f64) -> Factor {
    factor(Kind::Weight, name, index, value)
}

pub fn grad(name: &'static str, index: &[usize], value: f64) -> Factor {
    factor(Kind::Gradient, name, index, value)
}

/// An entry of a named matrix as an activation or a gradient factor.
pub fn act_of(m: Named, index: [usize; 2]) -> Factor {
    act(m.0, &index, m.1[(index[0], index[1])])
}

pub fn grad_of(m: Named, index: [usize; 2]) -> Factor {
    grad(m.0, &index, m.1[(index[0], index[1])])
}

pub fn signed(sign: i8, label: impl Into<String>, factors: Vec<Factor>) -> Term {
    let value = f64::from(sign) * factors.iter().map(|f| f.value).product::<f64>();
    Term {
        label: label.into(),
        sign,
        factors,
        value,
        sequence: None,
    }
}

pub fn term(label: impl Into<String>, factors: Vec<Factor>) -> Term {
    signed(1, label, factors)
}

/// The input's positions, for term labels such as "t = 0 (AI)".
pub struct Positions<'a> {
    pub tokens: &'a [String],
}

impl Positions<'_> {
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn label(&self, t: usize) -> String {
        format!(
            "t = {t} ({})",
            self.tokens.get(t).map(String::as_str).unwrap_or("?")
        )
    }
}

/// Σ_t a[t][i]·b[t][j]: the gradient of a weight W in `out = a·W`, with b = ∇out.
pub fn outer(p: &Positions, a: Named, b: Named, i: usize, j: usize) -> Vec<Term> {
    (0..p.len())
        .map(|t| term(p.label(t), vec![act_of(a, [t, i]), grad_of(b, [t, j])]))
        .collect()
}

/// Σ_t b[t][j]: the gradient of a bias broadcast over positions.
pub fn column(p: &Positions, b: Named, j: usize) -> Vec<Term> {
    (0..p.len())
        .map(|t| term(p.label(t), vec![grad_of(b, [t, j])]))
        .collect()
}

/// Σ_k b[t][k]·w[i][k]: the gradient of the input row of `out = in·W`, with b = ∇out.
pub fn back_through(b: Named, w: Named, t: usize, i: usize) -> Vec<Term> {
    (0..w.1.ncols())
        .map(|k| {
            term(
                format!("k = {k}"),
                vec![grad_of(b, [t, k]), wt(w.0, &[i, k], w.1[(i, k)])],
            )
        })
        .collect()
}
