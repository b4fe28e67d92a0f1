//! The one matrix type of the core and the finiteness check every pass runs on its results.

use crate::lanes::F64x2;
use nalgebra::DMatrix;

/// Every matrix in the core. Row-vector convention: a sequence is T×C, one row per position.
pub type Mat = DMatrix<f64>;

/// Whether every entry is finite (no NaN, no ±∞). Every pass checks all its results this way, so
/// it is written to be cheap: x·0 is ±0 for a finite x and NaN otherwise, and a sum of those is
/// NaN exactly when one of them is. Two pairs of lanes and no early exit: written with
/// [`F64x2`] rather than left to the vectoriser, as the callers' crate is built for size
/// (Cargo.toml), where a plain loop here would not be vectorised once inlined into them.
#[inline]
pub fn all_finite(m: &Mat) -> bool {
    let xs = m.as_slice();
    let zero = F64x2::splat(0.0);
    let (mut a, mut b) = (zero, zero);
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        a = a.add(F64x2::load(&[c[0], c[1]]).mul(zero));
        b = b.add(F64x2::load(&[c[2], c[3]]).mul(zero));
    }
    let [x, y] = a.add(b).to_array();
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
        // 7 entries: a chunk of four and a remainder of three.
        let finite = Mat::from_fn(7, 1, |i, _| {
            [0.0, -0.0, 1e308, -1e308, 5e-324, 3.5, -2.0][i]
        });
        assert!(all_finite(&finite));
        assert!(all_finite(&Mat::zeros(0, 3)));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for i in 0..7 {
                let mut m = finite.clone();
                m[(i, 0)] = bad;
                assert!(!all_finite(&m), "{bad} at {i}");
            }
        }
    }
}
