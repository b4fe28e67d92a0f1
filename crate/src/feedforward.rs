//! The feed-forward block: u = mlpIn·w1 + b1, hidden = act(u), mlpOut = hidden·w2 + b2.

use crate::config::Activation;
use crate::explain::{factor, grad_of, term, Explained, Kind};
use crate::lanes::{self, F64x2};
use crate::mat::Mat;
use crate::matmul::{self, Out, View};
use crate::weights::FeedForwardWeights;

/// √(2/π), the constant of GELU's tanh form.
const GELU_K: f64 = 0.797_884_560_802_865_4;
const GELU_C: f64 = 0.044_715;

/// act(u) and its slope d act / du at u, together: GELU's tanh, by far the dearest part, is
/// evaluated once for both. ReLU's derivative at exactly 0 is taken as 0, as the contract says.
pub fn activate_with_slope(act: Activation, u: f64) -> (f64, f64) {
    match act {
        Activation::Relu => (u.max(0.0), if u > 0.0 { 1.0 } else { 0.0 }),
        Activation::Gelu => {
            // Lane 0 of the two-lane GELU, so one entry gets the same numbers as a whole matrix.
            let (value, slope) = gelu(F64x2::splat(u), &GeluConsts::new());
            (value.to_array()[0], slope.to_array()[0])
        }
    }
}

/// GELU's constants and tanh's, as values (see [`lanes::Consts`]: a loop over a matrix takes
/// them opaque, once).
#[derive(Clone, Copy)]
struct GeluConsts {
    c: F64x2,
    k: F64x2,
    half: F64x2,
    three_c: F64x2,
    tanh: lanes::Consts,
}

impl GeluConsts {
    #[inline(always)]
    fn new() -> GeluConsts {
        let s = F64x2::splat;
        GeluConsts {
            c: s(GELU_C),
            k: s(GELU_K),
            half: s(0.5),
            three_c: s(3.0 * GELU_C),
            tanh: lanes::Consts::new(),
        }
    }
}

/// GELU (tanh form) and its slope on two lanes:
/// gelu(u) = ½·u·(1 + th) and gelu′(u) = ½·(1 + th) + ½·u·(1 − th²)·k·(1 + 3c·u²),
/// th = tanh(k·(u + c·u³)), operations in the order these formulas are written.
#[inline(always)]
fn gelu(u: F64x2, g: &GeluConsts) -> (F64x2, F64x2) {
    let one = g.tanh.one;
    let cubic = g.c.mul(u).mul(u).mul(u);
    let th = lanes::tanh(g.k.mul(u.add(cubic)), &g.tanh);
    let one_plus = one.add(th);
    let half_u = g.half.mul(u);
    let value = half_u.mul(one_plus);
    let curve = one.add(g.three_c.mul(u).mul(u));
    let slope = g
        .half
        .mul(one_plus)
        .add(half_u.mul(one.sub(th.mul(th))).mul(g.k).mul(curve));
    (value, slope)
}

/// d act / du (the same number the forward pass stores as the slope).
pub fn activate_derivative(act: Activation, u: f64) -> f64 {
    activate_with_slope(act, u).1
}

/// Adds a 1×n bias row to every row. Column by column: nalgebra stores columns contiguously, so
/// this is a plain loop over memory (a row iterator strides through it).
fn add_row(m: &mut Mat, bias: &Mat) {
    let rows = m.nrows().max(1); // (no rows: an empty slice, nothing to add)
    for (col, &b) in m.as_mut_slice().chunks_exact_mut(rows).zip(bias.iter()) {
        col.iter_mut().for_each(|x| *x += b);
    }
}

/// Sums the rows into `out` (1×n): the gradient of a bias broadcast over positions. Each column
/// is summed from the first row to the last, column by column for the same reason as `add_row`.
fn sum_rows(m: &Mat, out: &mut Mat) {
    out.fill(0.0);
    let rows = m.nrows().max(1); // (no rows: an empty slice, every sum 0)
    for (col, total) in m.as_slice().chunks_exact(rows).zip(out.iter_mut()) {
        *total = col.iter().fold(0.0, |s, x| s + x);
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
    match act {
        Activation::Relu => {
            let out = hidden.as_mut_slice().iter_mut().zip(slope.as_mut_slice());
            for ((h, s), &x) in out.zip(u.as_slice()) {
                (*h, *s) = activate_with_slope(act, x);
            }
        }
        Activation::Gelu => {
            // Four entries at a time, two lane pairs side by side, with the constants as values
            // (GeluConsts): V8 rebuilds each vector constant in a loop body at every iteration.
            // Pairs left over, then an odd last entry, through the narrower paths, which compute
            // the same lanes the same way.
            let g = std::hint::black_box(GeluConsts::new());
            let mut us = u.as_slice().chunks_exact(4);
            let mut hs = hidden.as_mut_slice().chunks_exact_mut(4);
            let mut ss = slope.as_mut_slice().chunks_exact_mut(4);
            for ((x, h), s) in (&mut us).zip(&mut hs).zip(&mut ss) {
                let (x0, x1) = x.split_at(2);
                let (h0, h1) = h.split_at_mut(2);
                let (s0, s1) = s.split_at_mut(2);
                gelu_pair(x0, h0, s0, &g);
                gelu_pair(x1, h1, s1, &g);
            }
            let mut us = us.remainder().chunks_exact(2);
            let mut hs = hs.into_remainder().chunks_exact_mut(2);
            let mut ss = ss.into_remainder().chunks_exact_mut(2);
            for ((x, h), s) in (&mut us).zip(&mut hs).zip(&mut ss) {
                gelu_pair(x, h, s, &g);
            }
            let rest = us.remainder().iter().zip(hs.into_remainder());
            for ((&x, h), s) in rest.zip(ss.into_remainder()) {
                (*h, *s) = activate_with_slope(act, x);
            }
        }
    }
}

/// GELU and its slope of two entries (`x`, `h` and `s` hold two each).
#[inline(always)]
fn gelu_pair(x: &[f64], h: &mut [f64], s: &mut [f64], g: &GeluConsts) {
    // (Chunks of exactly two: the conversions always succeed.)
    if let (Ok(x), Ok(h), Ok(s)) = (x.try_into(), h.try_into(), s.try_into()) {
        let (value, d) = gelu(F64x2::load(x), g);
        value.store(h);
        d.store(s);
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

/// ∂L/∂U[i][j] = ∂L/∂H[i][j]·act′(U[i][j]): the activation passes on its slope.
pub fn explain_preactivation(
    act: Activation,
    u: &Mat,
    d_hidden: &Mat,
    du: &Mat,
    i: usize,
    j: usize,
) -> Explained {
    let slope = activate_derivative(act, u[(i, j)]);
    let terms = vec![term(
        "the activation passes on its slope",
        vec![
            grad_of(("hidden", d_hidden), [i, j]),
            factor(Kind::Slope, act.name(), &[i, j], slope),
        ],
    )];
    Explained::new(terms, du[(i, j)])
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// GELU and its slope with libm's tanh (what this file computed before the two-lane tanh).
    fn gelu_libm(u: f64) -> (f64, f64) {
        let th = (GELU_K * (u + GELU_C * u * u * u)).tanh();
        let value = 0.5 * u * (1.0 + th);
        let slope =
            0.5 * (1.0 + th) + 0.5 * u * (1.0 - th * th) * GELU_K * (1.0 + 3.0 * GELU_C * u * u);
        (value, slope)
    }

    #[test]
    fn gelu_agrees_with_the_libm_formula_to_a_few_ulps_of_its_scale() {
        let (mut worst_value, mut worst_slope): (f64, f64) = (0.0, 0.0);
        for i in -120_000..=120_000 {
            let u = i as f64 * 1e-4 + 3e-7;
            let (value, slope) = activate_with_slope(Activation::Gelu, u);
            let (want_value, want_slope) = gelu_libm(u);
            // th enters as 1 + th and 1 − th², so errors are measured against |u| and 1.
            worst_value = worst_value.max((value - want_value).abs() / u.abs().max(1.0));
            worst_slope = worst_slope.max((slope - want_slope).abs() / u.abs().max(1.0));
        }
        eprintln!("gelu {worst_value:e}, slope {worst_slope:e}");
        assert!(worst_value <= 2.0 * f64::EPSILON, "{worst_value:e}");
        assert!(worst_slope <= 4.0 * f64::EPSILON, "{worst_slope:e}");
    }

    #[test]
    fn a_matrix_gets_the_numbers_of_its_entries_one_by_one() {
        // 3×5: an odd number of entries, so the last pairs with a padding lane.
        let u = Mat::from_fn(3, 5, |i, j| (i as f64 - 1.3) * (j as f64 + 0.7));
        for act in [Activation::Gelu, Activation::Relu] {
            let (mut hidden, mut slope) = (Mat::zeros(3, 5), Mat::zeros(3, 5));
            activate_all(&u, act, &mut hidden, &mut slope);
            for (k, &x) in u.iter().enumerate() {
                let (value, d) = activate_with_slope(act, x);
                assert_eq!((hidden[k], slope[k]), (value, d), "{act:?} {x}");
                assert_eq!(activate_derivative(act, x), d);
            }
        }
    }
}
