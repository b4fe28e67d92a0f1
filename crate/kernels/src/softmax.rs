//! Row-wise softmax over a column-major matrix (the logits' and the attention's), two rows at a
//! time: rows t and t + 1 of a column are adjacent in memory, so they fill the two lanes of
//! [`F64x2`] and every pass reads memory in order, where one row alone strides across columns.
//!
//! Each row is computed as the textbook formula after subtracting its largest entry, with the
//! entries summed in column order, the same for one row or a pair, so a row's numbers do not
//! depend on whether it shared the lanes. The exponential is [`lanes::exp`] (within an ulp of
//! libm's).

use crate::lanes::{self, F64x2};
use crate::mat::Mat;

/// For rows t (and t + 1 when `pair`) of the column-major `x` (`ld` rows): `out` = their softmax
/// over columns 0..width, plus column `width` for row t + 1 alone when `extra` (the causal
/// softmax, whose row t + 1 is one entry longer). Returns each lane's (max, Σ e^(x − max)).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows(
    x: &[f64],
    out: &mut [f64],
    ld: usize,
    t: usize,
    pair: bool,
    width: usize,
    extra: bool,
    k: &lanes::Consts,
) -> [(f64, f64); 2] {
    let at = |u: usize| {
        let i = t + u * ld;
        if pair && u < width {
            F64x2::load(&[x[i], x[i + 1]])
        } else if pair {
            // Row t has no entry here: −∞ adds e^−∞ = 0 to its sum, and leaves its max alone.
            F64x2::load(&[f64::NEG_INFINITY, x[i + 1]])
        } else {
            F64x2::splat(x[i])
        }
    };
    let cols = width + usize::from(extra && pair);
    let mut max = F64x2::splat(f64::NEG_INFINITY);
    for u in 0..cols {
        max = max.max(at(u));
    }
    let mut sum = F64x2::splat(0.0);
    for u in 0..cols {
        let e = lanes::exp_with(at(u).sub(max), k);
        sum = sum.add(e);
        store(out, t + u * ld, pair, u < width, e);
    }
    for u in 0..cols {
        let i = t + u * ld;
        let e = F64x2::load(&[out[i], if pair { out[i + 1] } else { 0.0 }]);
        store(out, i, pair, u < width, e.div(sum));
    }
    let ([m0, m1], [s0, s1]) = (max.to_array(), sum.to_array());
    [(m0, s0), (m1, s1)]
}

/// Writes lane 0 at `out[i]` (when `first`) and lane 1 at `out[i + 1]` (when `pair`).
#[inline(always)]
fn store(out: &mut [f64], i: usize, pair: bool, first: bool, v: F64x2) {
    let [a, b] = v.to_array();
    if first {
        out[i] = a;
    }
    if pair {
        out[i + 1] = b;
    }
}

/// probs = the softmax of each row of `logits` (T×V); `lse[t]` = ln Σ_v e^logits[t][v], the
/// loss's log-sum-exp, from the same sums.
pub fn by_rows(logits: &Mat, probs: &mut Mat, lse: &mut [f64]) {
    let (t_len, v) = logits.shape();
    let (x, out) = (logits.as_slice(), probs.as_mut_slice());
    // exp's constants as values (lanes::Consts: V8 rebuilds vector constants inside loops).
    let k = std::hint::black_box(lanes::Consts::new());
    for t in (0..t_len).step_by(2) {
        let pair = t + 1 < t_len;
        let lanes = rows(x, out, t_len, t, pair, v, false, &k);
        for (l, (max, sum)) in lanes.iter().enumerate().take(1 + usize::from(pair)) {
            lse[t + l] = max + sum.ln();
        }
    }
}

/// attention = the softmax of each row of `scores` (T×T) over s ≤ t; masked entries exactly 0.
pub fn causal(scores: &Mat, attention: &mut Mat) {
    let t_len = scores.nrows();
    attention.fill(0.0);
    let (x, out) = (scores.as_slice(), attention.as_mut_slice());
    let k = std::hint::black_box(lanes::Consts::new());
    for t in (0..t_len).step_by(2) {
        rows(x, out, t_len, t, t + 1 < t_len, t + 1, true, &k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// The textbook softmax of one row's first `width` entries, with libm's exp.
    fn textbook(m: &Mat, t: usize, width: usize) -> (Vec<f64>, f64) {
        let max = (0..width)
            .map(|u| m[(t, u)])
            .fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = (0..width).map(|u| (m[(t, u)] - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        (e.iter().map(|x| x / sum).collect(), max + sum.ln())
    }

    fn filled(rows: usize, cols: usize) -> Mat {
        Mat::from_fn(rows, cols, |i, j| {
            ((i * 37 + j * 11) % 29) as f64 * 0.7 - 9.0
        })
    }

    #[test]
    fn rows_match_the_textbook_softmax_to_a_few_ulps_even_and_odd() {
        for (t_len, v) in [(1, 1), (1, 5), (2, 3), (5, 7), (8, 64)] {
            let logits = filled(t_len, v);
            let (mut probs, mut lse) = (Mat::zeros(t_len, v), vec![0.0; t_len]);
            by_rows(&logits, &mut probs, &mut lse);
            for t in 0..t_len {
                let (want, want_lse) = textbook(&logits, t, v);
                for (u, w) in want.iter().enumerate() {
                    assert!(
                        (probs[(t, u)] - w).abs() <= 4.0 * f64::EPSILON * w,
                        "{t},{u}"
                    );
                }
                assert!((lse[t] - want_lse).abs() <= 4.0 * f64::EPSILON * want_lse.abs());
            }
        }
    }

    #[test]
    fn causal_rows_match_the_textbook_softmax_and_masked_entries_are_zero() {
        for t_len in [1, 2, 5, 8] {
            let scores = filled(t_len, t_len);
            let mut attention = Mat::from_element(t_len, t_len, f64::NAN);
            causal(&scores, &mut attention);
            for t in 0..t_len {
                let (want, _) = textbook(&scores, t, t + 1);
                for (u, w) in want.iter().enumerate() {
                    assert!(
                        (attention[(t, u)] - w).abs() <= 4.0 * f64::EPSILON * w,
                        "{t},{u}"
                    );
                }
                assert!((t + 1..t_len).all(|u| attention[(t, u)] == 0.0), "row {t}");
            }
        }
    }

    #[test]
    fn a_row_of_nan_or_infinity_gives_nan_and_leaves_its_neighbour_alone() {
        let mut logits = filled(2, 4);
        logits[(0, 2)] = f64::INFINITY;
        let (mut probs, mut lse) = (Mat::zeros(2, 4), vec![0.0; 2]);
        by_rows(&logits, &mut probs, &mut lse);
        assert!((0..4).all(|u| probs[(0, u)].is_nan()));
        let (want, _) = textbook(&logits, 1, 4);
        assert!((0..4).all(|u| (probs[(1, u)] - want[u]).abs() <= 4.0 * f64::EPSILON));
    }
}
