//! Token embedding plus learned position: `x[t] = embedding[ids[t]] + position[t]`.

use crate::state::Mat;

/// x: T×C.
pub fn forward(ids: &[usize], embedding: &Mat, position: &Mat) -> Mat {
    let c = embedding.ncols();
    Mat::from_fn(ids.len(), c, |t, j| {
        embedding[(ids[t], j)] + position[(t, j)]
    })
}

/// Returns (∇embedding V×C, ∇position context×C). A token used twice collects both rows of ∇x;
/// vocabulary rows no input token uses, and positions at or beyond T, stay exactly 0.
pub fn backward(ids: &[usize], dx: &Mat, vocab_size: usize, context: usize) -> (Mat, Mat) {
    let c = dx.ncols();
    let mut d_embedding = Mat::zeros(vocab_size, c);
    let mut d_position = Mat::zeros(context, c);
    for (t, &id) in ids.iter().enumerate() {
        for j in 0..c {
            d_embedding[(id, j)] += dx[(t, j)];
            d_position[(t, j)] = dx[(t, j)];
        }
    }
    (d_embedding, d_position)
}
