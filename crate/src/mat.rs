//! The one matrix type of the core and the finiteness check every pass runs on its results.

use nalgebra::DMatrix;

/// Every matrix in the core. Row-vector convention: a sequence is T×C, one row per position.
pub type Mat = DMatrix<f64>;

/// Whether every entry is finite (no NaN, no ±∞). Every pass checks all its results this way, so
/// it is written to be cheap: x·0 is ±0 for a finite x and NaN otherwise, and a sum of those is
/// NaN exactly when one of them is. Sixteen running sums (eight lane pairs in wasm, each added to
/// once per chunk) and no early exit: with four, each pair's adds waited on one another.
pub(crate) fn all_finite(m: &Mat) -> bool {
    const SUMS: usize = 16;
    let xs = m.as_slice();
    let mut sums = [0.0; SUMS];
    let chunks = xs.chunks_exact(SUMS);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (s, x) in sums.iter_mut().zip(chunk) {
            *s += x * 0.0;
        }
    }
    let total = rest
        .iter()
        .fold(sums.iter().sum::<f64>(), |s, x| s + x * 0.0);
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
