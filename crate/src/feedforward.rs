//! The feed-forward block: u = mlpIn·w1 + b1, hidden = act(u), mlpOut = hidden·w2 + b2.

use crate::matmul::{self, Out, View};
use crate::state::{Activation, FeedForwardWeights, Mat};

/// √(2/π), the constant of GELU's tanh form.
const GELU_K: f64 = 0.797_884_560_802_865_4;
const GELU_C: f64 = 0.044_715;

/// act(u) and its slope d act / du at u, together: GELU's tanh, by far the dearest part, is
/// evaluated once for both. ReLU's derivative at exactly 0 is taken as 0, as the contract says.
pub fn activate_with_slope(act: Activation, u: f64) -> (f64, f64) {
    match act {
        Activation::Relu => (u.max(0.0), if u > 0.0 { 1.0 } else { 0.0 }),
        Activation::Gelu => {
            let th = (GELU_K * (u + GELU_C * u * u * u)).tanh();
            let value = 0.5 * u * (1.0 + th);
            let slope = 0.5 * (1.0 + th)
                + 0.5 * u * (1.0 - th * th) * GELU_K * (1.0 + 3.0 * GELU_C * u * u);
            (value, slope)
        }
    }
}

/// d act / du (the same number the forward pass stores as the slope).
pub fn activate_derivative(act: Activation, u: f64) -> f64 {
    activate_with_slope(act, u).1
}

/// Adds a 1×n bias row to every row.
fn add_row(m: &mut Mat, bias: &Mat) {
    for mut row in m.row_iter_mut() {
        row += bias.row(0);
    }
}

/// Sums the rows into `out` (1×n): the gradient of a bias broadcast over positions.
fn sum_rows(m: &Mat, out: &mut Mat) {
    out.fill(0.0);
    for row in m.row_iter() {
        *out += &row;
    }
}

// The forward pass in three stages, so the model can show (and probe) u and hidden on their own.

/// u (T×F) = mlpIn·w1 + b1.
pub fn expand(mlp_in: &Mat, w: &FeedForwardWeights, u: &mut Mat) {
    matmul::set(1.0, View::of(mlp_in), View::of(&w.w1), Out::of(u));
    add_row(u, &w.b1);
}

/// hidden (T×F) = act(u), entry by entry, and `slope` (T×F) = act′(u), kept for the backward
/// pass so that it does not evaluate GELU's tanh a second time.
pub fn activate_all(u: &Mat, act: Activation, hidden: &mut Mat, slope: &mut Mat) {
    let out = hidden.as_mut_slice().iter_mut().zip(slope.as_mut_slice());
    for ((h, s), &x) in out.zip(u.as_slice()) {
        (*h, *s) = activate_with_slope(act, x);
    }
}

/// mlpOut (T×C) = hidden·w2 + b2.
pub fn contract(hidden: &Mat, w: &FeedForwardWeights, out: &mut Mat) {
    matmul::set(1.0, View::of(hidden), View::of(&w.w2), Out::of(out));
    add_row(out, &w.b2);
}

/// The block's activation gradients, written by `backward`.
pub struct Grads<'a> {
    pub d_hidden: &'a mut Mat, // T×F
    pub du: &'a mut Mat,       // T×F
    pub d_mlp_in: &'a mut Mat, // T×C
    pub weights: &'a mut FeedForwardWeights,
}

/// Given ∇mlpOut, fills every gradient of the block. `slope` is act′(u) from `activate_all`.
pub fn backward(
    d_out: &Mat,
    mlp_in: &Mat,
    hidden: &Mat,
    slope: &Mat,
    w: &FeedForwardWeights,
    g: Grads,
) {
    let dy = View::of(d_out);
    matmul::set(1.0, dy, View::of(&w.w2).t(), Out::of(g.d_hidden));
    matmul::set(1.0, View::of(hidden).t(), dy, Out::of(&mut g.weights.w2));
    sum_rows(d_out, &mut g.weights.b2);
    // The activation passes on its slope at u.
    let grads = g.du.as_mut_slice().iter_mut().zip(g.d_hidden.as_slice());
    for ((du, &dh), &s) in grads.zip(slope.as_slice()) {
        *du = dh * s;
    }
    let du = View::of(g.du);
    matmul::set(1.0, View::of(mlp_in).t(), du, Out::of(&mut g.weights.w1));
    sum_rows(g.du, &mut g.weights.b1);
    matmul::set(1.0, du, View::of(&w.w1).t(), Out::of(g.d_mlp_in));
}
