//! The one matrix type of the core and the finiteness check every pass runs on its results.

use crate::lanes::F64x2;
use nalgebra::DMatrix;

/// Every matrix in the core. Row-vector convention: a sequence is T×C, one row per position.
pub type Mat = DMatrix<f64>;

/// Whether every entry is finite (no NaN, no ±∞). Every pass checks all its results this way, so
/// it is written to be cheap: x·0 is ±0 for a finite x and NaN otherwise, and a sum of those is
/// NaN exactly when one of them is. Eight pairs of lanes (sixteen running sums, each added to once
/// per chunk: with four, each pair's adds waited on one another) and no early exit: written with
/// [`F64x2`] rather than left to the vectoriser, as the callers' crate is built for size
/// (Cargo.toml), where a plain loop here would not be vectorised once inlined into them.
#[inline]
pub fn all_finite(m: &Mat) -> bool {
    const PAIRS: usize = 8;
    let xs = m.as_slice();
    let zero = F64x2::splat(0.0);
    let mut sums = [zero; PAIRS];
    let chunks = xs.chunks_exact(2 * PAIRS);
    let rest = chunks.remainder();
    for c in chunks {
        for (p, s) in sums.iter_mut().enumerate() {
            *s = s.add(F64x2::load(&[c[2 * p], c[2 * p + 1]]).mul(zero));
        }
    }
    let [x, y] = sums.iter().fold(zero, |t, s| t.add(*s)).to_array();
    let total = rest.iter().fold(x + y, |s, v| s + v * 0.0);
    total == 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn all_finite_finds_a_nan_or_infinity_anywhere() {
        // 23 entries: a chunk of sixteen and a remainder of seven.
        let values = [0.0, -0.0, 1e308, -1e308, 5e-324, 3.5, -2.0];
        let finite = Mat::from_fn(23, 1, |i, _| values[i % values.len()]);
        assert!(all_finite(&finite));
        assert!(all_finite(&Mat::zeros(0, 3)));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for i in 0..23 {
                let mut m = finite.clone();
                m[(i, 0)] = bad;
                assert!(!all_finite(&m), "{bad} at {i}");
            }
        }
    }
}
