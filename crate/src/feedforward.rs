//! The feed-forward block: u = mlpIn·w1 + b1, hidden = act(u), mlpOut = hidden·w2 + b2.

use crate::state::{Activation, FeedForwardWeights, Mat};

/// √(2/π), the constant of GELU's tanh form.
const GELU_K: f64 = 0.797_884_560_802_865_4;
const GELU_C: f64 = 0.044_715;

pub fn activate(act: Activation, u: f64) -> f64 {
    match act {
        Activation::Relu => u.max(0.0),
        Activation::Gelu => 0.5 * u * (1.0 + (GELU_K * (u + GELU_C * u * u * u)).tanh()),
    }
}

/// d act / du. ReLU's derivative at exactly 0 is taken as 0, as the contract says.
pub fn activate_derivative(act: Activation, u: f64) -> f64 {
    match act {
        Activation::Relu => {
            if u > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::Gelu => {
            let th = (GELU_K * (u + GELU_C * u * u * u)).tanh();
            0.5 * (1.0 + th) + 0.5 * u * (1.0 - th * th) * GELU_K * (1.0 + 3.0 * GELU_C * u * u)
        }
    }
}

/// Adds a 1×n bias row to every row.
pub fn add_row(m: &mut Mat, bias: &Mat) {
    for mut row in m.row_iter_mut() {
        row += bias.row(0);
    }
}

/// Sums the rows into one 1×n row: the gradient of a bias broadcast over positions.
pub fn sum_rows(m: &Mat) -> Mat {
    let mut out = Mat::zeros(1, m.ncols());
    for row in m.row_iter() {
        out += &row;
    }
    out
}

// The forward pass in three stages, so the model can show (and probe) u and hidden on their own.

/// u = mlpIn·w1 + b1: T×F.
pub fn expand(mlp_in: &Mat, w: &FeedForwardWeights) -> Mat {
    let mut u = mlp_in * &w.w1;
    add_row(&mut u, &w.b1);
    u
}

/// hidden = act(u), entry by entry: T×F.
pub fn activate_all(u: &Mat, act: Activation) -> Mat {
    u.map(|x| activate(act, x))
}

/// mlpOut = hidden·w2 + b2: T×C.
pub fn contract(hidden: &Mat, w: &FeedForwardWeights) -> Mat {
    let mut out = hidden * &w.w2;
    add_row(&mut out, &w.b2);
    out
}

/// Gradients of the block, given ∇mlpOut.
pub struct Grads {
    pub d_hidden: Mat, // T×F
    pub du: Mat,       // T×F
    pub d_mlp_in: Mat, // T×C
    pub weights: FeedForwardWeights,
}

pub fn backward(
    d_out: &Mat,
    mlp_in: &Mat,
    u: &Mat,
    hidden: &Mat,
    w: &FeedForwardWeights,
    act: Activation,
) -> Grads {
    let d_hidden = d_out * w.w2.transpose();
    let du = d_hidden.zip_map(u, |g, x| g * activate_derivative(act, x));
    Grads {
        d_mlp_in: &du * w.w1.transpose(),
        weights: FeedForwardWeights {
            w1: mlp_in.transpose() * &du,
            b1: sum_rows(&du),
            w2: hidden.transpose() * d_out,
            b2: sum_rows(d_out),
        },
        d_hidden,
        du,
    }
}
