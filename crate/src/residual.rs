//! Explanations for the junctions of the block: the residual sums (X₁ = X + O, X₂ = X₁ + M) and
//! the layer norms in front of each branch. The model adds and copies these itself (model.rs);
//! their gradients are sums of the paths that leave each junction.

use crate::explain::{grad_of, term, Explained, Named, Term};
use crate::layernorm::{self, Cache};
use crate::mat::Mat;

/// A layer norm on a path: its key ("ln1", "ln2", "lnf"), its gain and what its forward kept.
pub struct Norm<'a> {
    pub ln: &'static str,
    pub gain: Named<'a>,
    pub cache: &'a Cache,
}

/// The terms for the gradient arriving at `out` through an optional layer norm: its three
/// terms, or the gradient itself when the model has no layer norm there.
fn through(norm: Option<Norm>, out: Named, words: &str, i: usize, j: usize) -> Vec<Term> {
    match norm {
        Some(n) => layernorm::explain_input(n.ln, n.gain, out, n.cache, i, j),
        None => vec![term(words, vec![grad_of(out, [i, j])])],
    }
}

/// ∂L/∂X[i][j] or ∂L/∂X₁[i][j]: the residual path to `next` plus the branch that starts here
/// (attention or feed-forward, behind its layer norm); `branch` is None without a feed-forward.
pub fn explain_fork(
    next: Named,
    branch: Option<(Named, Option<Norm>)>,
    words: &str,
    d: &Mat,
    i: usize,
    j: usize,
) -> Explained {
    let mut terms = vec![term("residual path", vec![grad_of(next, [i, j])])];
    if let Some((out, norm)) = branch {
        terms.extend(through(norm, out, words, i, j));
    }
    Explained::new(terms, d[(i, j)])
}

/// ∂L/∂O or ∂L/∂M: a residual sum passes the gradient of its result on unchanged.
pub fn explain_sum(result: Named, d: &Mat, i: usize, j: usize) -> Explained {
    let terms = vec![term(
        "the residual sum passes the gradient on unchanged",
        vec![grad_of(result, [i, j])],
    )];
    Explained::new(terms, d[(i, j)])
}

/// ∂L/∂X₂: through the final layer norm when there is one.
pub fn explain_last(norm: Option<Norm>, xf: Named, d: &Mat, i: usize, j: usize) -> Explained {
    Explained::new(
        through(norm, xf, "no final layer norm: passed on unchanged", i, j),
        d[(i, j)],
    )
}
