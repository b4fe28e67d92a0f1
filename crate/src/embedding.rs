//! Token embedding plus learned position: `x[t] = embedding[ids[t]] + position[t]`.

use crate::state::Mat;

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
    for (t, &id) in ids.iter().enumerate() {
        for j in 0..dx.ncols() {
            d_embedding[(id, j)] += dx[(t, j)];
            d_position[(t, j)] = dx[(t, j)];
        }
    }
}
