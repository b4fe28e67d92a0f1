//! Token embedding plus learned position: `x[t] = embedding[ids[t]] + position[t]`.

use crate::explain::{grad_of, term, Explained, Positions};
use crate::json::quote;
use crate::mat::Mat;

/// x: T×C.
pub fn forward(ids: &[usize], embedding: &Mat, position: &Mat, x: &mut Mat) {
    for (t, &id) in ids.iter().enumerate() {
        for j in 0..x.ncols() {
            x[(t, j)] = embedding[(id, j)] + position[(t, j)];
        }
    }
}

/// ∇embedding (V×C) and ∇position (context×C). A token used twice collects both rows of ∇x;
/// vocabulary rows no input token uses, and positions at or beyond T, stay exactly 0.
pub fn backward(ids: &[usize], dx: &Mat, d_embedding: &mut Mat, d_position: &mut Mat) {
    d_embedding.fill(0.0);
    d_position.fill(0.0);
    // Column by column (the matrices are stored by columns): each entry of ∇embedding still
    // adds its positions in order, t ascending.
    let (t_len, v, k) = (dx.nrows(), d_embedding.nrows(), d_position.nrows());
    let columns = dx.as_slice().chunks_exact(t_len.max(1));
    let targets = d_embedding.as_mut_slice().chunks_exact_mut(v.max(1));
    let positions = d_position.as_mut_slice().chunks_exact_mut(k.max(1));
    for ((dx_j, de_j), dp_j) in columns.zip(targets).zip(positions) {
        for (&id, &g) in ids.iter().zip(dx_j) {
            de_j[id] += g;
        }
        dp_j[..t_len].copy_from_slice(dx_j);
    }
}

/// ∂L/∂E[i][j] = Σ ∂L/∂X[t][j] over the positions t that hold token i.
pub fn explain_embedding(
    p: &Positions,
    vocab: &[String],
    ids: &[usize],
    dx: &Mat,
    d_embedding: &Mat,
    i: usize,
    j: usize,
) -> Explained {
    let terms: Vec<_> = (0..p.len())
        .filter(|t| ids[*t] == i)
        .map(|t| term(p.label(t), vec![grad_of(("x", dx), [t, j])]))
        .collect();
    let gradient = d_embedding[(i, j)];
    if terms.is_empty() {
        let note = format!(
            "{} does not occur in the input, so its embedding row does not affect the loss.",
            quote(&vocab[i])
        );
        return Explained::none(note, gradient);
    }
    Explained::new(terms, gradient)
}

/// ∂L/∂P[i][j] = ∂L/∂X[i][j] for a position the input reaches.
pub fn explain_position(
    p: &Positions,
    dx: &Mat,
    d_position: &Mat,
    i: usize,
    j: usize,
) -> Explained {
    let gradient = d_position[(i, j)];
    if i < p.len() {
        Explained::new(
            vec![term(p.label(i), vec![grad_of(("x", dx), [i, j])])],
            gradient,
        )
    } else {
        let note = format!(
            "The input has {} tokens, so position {i} is not used and does not affect the loss.",
            p.len()
        );
        Explained::none(note, gradient)
    }
}
