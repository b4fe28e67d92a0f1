//! The kernels against the textbook loop: every shape class, layout and build (matmul.rs).

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Deterministic, irregular values (no two products alike).
fn filled(rows: usize, cols: usize, seed: usize) -> Mat {
    Mat::from_fn(rows, cols, |i, j| {
        let x = (i * 31 + j * 17 + seed * 7) % 23;
        (x as f64 - 11.0) / 7.0 + 1e-3 * (seed as f64)
    })
}

/// The textbook product on nalgebra indices, summed in the same order.
fn naive(alpha: f64, a: &Mat, b: &Mat) -> Mat {
    Mat::from_fn(a.nrows(), b.ncols(), |i, j| {
        let mut s = 0.0;
        for k in 0..a.ncols() {
            s += a[(i, k)] * b[(k, j)];
        }
        alpha * s
    })
}

const SHAPES: [(usize, usize, usize); 9] = [
    (1, 1, 1),
    (3, 5, 7),
    (33, 17, 9),
    (4, 4, 4),
    (9, 64, 5),
    (32, 16, 32),
    (5, 1, 600),
    (17, 0, 13),
    (64, 31, 70),
];

// The simd128 and native builds: bit for bit.
#[cfg(not(target_feature = "relaxed-simd"))]
#[test]
fn every_layout_matches_the_textbook_loop_exactly() {
    for (m, k, n) in SHAPES {
        let (a, b) = (filled(m, k, 1), filled(k, n, 2));
        let (at, bt) = (a.transpose(), b.transpose());
        let want = naive(0.5, &a, &b);
        // A·B, Aᵀᵀ·B, A·Bᵀᵀ, Aᵀᵀ·Bᵀᵀ: the same product through each packing order.
        for (va, vb) in [
            (View::of(&a), View::of(&b)),
            (View::of(&at).t(), View::of(&b)),
            (View::of(&a), View::of(&bt).t()),
            (View::of(&at).t(), View::of(&bt).t()),
        ] {
            let mut c = Mat::from_element(m, n, f64::NAN);
            set(0.5, va, vb, Out::of(&mut c));
            assert_eq!(c, want, "{m}×{k}·{k}×{n}");

            let mut c = filled(m, n, 3);
            let before = c.clone();
            add(0.5, va, vb, Out::of(&mut c));
            assert_eq!(c, before + &want, "{m}×{k}·{k}×{n}, added");
        }
    }
}

#[cfg(not(target_feature = "relaxed-simd"))]
#[test]
fn causal_products_fill_the_lower_triangle_and_zero_the_rest() {
    for (m, k) in [(1, 1), (3, 2), (7, 16), (32, 16), (33, 5)] {
        let (a, b) = (filled(m, k, 4), filled(m, k, 5));
        let full = naive(0.25, &a, &b.transpose());
        let mut c = Mat::from_element(m, m, f64::NAN);
        causal(0.25, View::of(&a), View::of(&b).t(), Out::of(&mut c));
        let want = Mat::from_fn(m, m, |i, j| if j <= i { full[(i, j)] } else { 0.0 });
        assert_eq!(c, want, "{m}×{k}");
    }
}

/// Normwise within `ulps` ulps: max|got − want| ≤ ulps·ε·max(Σ_k |a_ik·b_kj|), the scale
/// on which reordering or fusing the roundings of the sums can move them.
#[cfg(target_feature = "relaxed-simd")]
fn within_ulps(got: &Mat, want: &Mat, a: &Mat, b: &Mat, ulps: f64) -> bool {
    let scale = naive(1.0, &a.abs(), &b.abs()).max();
    (got - want).amax() <= ulps * f64::EPSILON * scale
}

// The relaxed-SIMD build: fused multiply-adds round once where the textbook loop rounds
// twice, so the kernel's entries differ from the loop's by a few ulps of the terms' sum.
#[cfg(target_feature = "relaxed-simd")]
#[test]
fn every_layout_matches_the_textbook_loop_to_a_few_ulps() {
    for (m, k, n) in SHAPES {
        let (a, b) = (filled(m, k, 1), filled(k, n, 2));
        let (at, bt) = (a.transpose(), b.transpose());
        for (va, vb) in [
            (View::of(&a), View::of(&b)),
            (View::of(&at).t(), View::of(&b)),
            (View::of(&a), View::of(&bt).t()),
            (View::of(&at).t(), View::of(&bt).t()),
        ] {
            let want = naive(0.5, &a, &b);
            let mut c = Mat::from_element(m, n, f64::NAN);
            set(0.5, va, vb, Out::of(&mut c));
            assert!(within_ulps(&c, &want, &a, &b, 4.0), "{m}×{k}·{k}×{n}");

            let mut c = filled(m, n, 3);
            let want = &c + &want;
            add(0.5, va, vb, Out::of(&mut c));
            assert!(
                within_ulps(&c, &want, &a, &b, 4.0),
                "{m}×{k}·{k}×{n}, added"
            );
        }
    }
}

#[cfg(target_feature = "relaxed-simd")]
#[test]
fn causal_products_fill_the_lower_triangle_to_a_few_ulps_and_zero_the_rest() {
    for (m, k) in [(1, 1), (3, 2), (7, 16), (32, 16), (33, 5)] {
        let (a, b) = (filled(m, k, 4), filled(m, k, 5));
        let mut c = Mat::from_element(m, m, f64::NAN);
        causal(0.25, View::of(&a), View::of(&b).t(), Out::of(&mut c));
        let upper_zero = (0..m).all(|i| (i + 1..m).all(|j| c[(i, j)] == 0.0));
        assert!(upper_zero, "{m}×{k}");
        let full = naive(0.25, &a, &b.transpose());
        let want = Mat::from_fn(m, m, |i, j| if j <= i { full[(i, j)] } else { 0.0 });
        assert!(within_ulps(&c, &want, &a, &b.transpose(), 4.0), "{m}×{k}");
    }
}

/// A product whose A is lower or upper triangular, through the tiles that skip its zeros,
/// gives the full product's numbers (to a few ulps in the relaxed build, whose fused sums
/// round differently when they start at another k).
#[test]
fn triangular_products_match_the_full_product() {
    for (m, n) in [(3, 5), (8, 4), (33, 9), (64, 32)] {
        let b = filled(m, n, 8);
        let full = filled(m, m, 9);
        let lower = Mat::from_fn(m, m, |i, k| if k <= i { full[(i, k)] } else { 0.0 });
        let upper = lower.transpose();
        for (a, zeros) in [
            (&lower, Zeros::AboveDiagonal),
            (&upper, Zeros::BelowDiagonal),
        ] {
            let want = naive(0.5, a, &b);
            for va in [View::of(a), View::of(&a.transpose()).t()] {
                let mut c = Mat::from_element(m, n, f64::NAN);
                set_triangular(0.5, va, zeros, View::of(&b), Out::of(&mut c));
                #[cfg(not(target_feature = "relaxed-simd"))]
                assert_eq!(c, want, "{m}×{m}·{m}×{n}");
                #[cfg(target_feature = "relaxed-simd")]
                assert!(within_ulps(&c, &want, a, &b, 4.0), "{m}×{m}·{m}×{n}");
            }
        }
    }
}

#[test]
fn column_views_read_and_write_only_their_columns() {
    let (a, b) = (filled(33, 12, 6), filled(10, 9, 7));
    let mut c = Mat::from_element(33, 20, 9.0);
    // Columns 4..8 of A (33×4) times the transpose of columns 2..6 of B (4×10), into
    // columns 10..20 of C.
    set(
        1.0,
        View::columns(&a, 4, 4),
        View::columns(&b, 2, 4).t(),
        Out::columns(&mut c, 10, 10),
    );
    let (a4, b4) = (a.columns(4, 4).into_owned(), b.columns(2, 4).transpose());
    let want = naive(1.0, &a4, &b4);
    #[cfg(not(target_feature = "relaxed-simd"))]
    assert_eq!(c.columns(10, 10).into_owned(), want);
    #[cfg(target_feature = "relaxed-simd")]
    assert!(within_ulps(
        &c.columns(10, 10).into_owned(),
        &want,
        &a4,
        &b4,
        4.0
    ));
    assert!(c.columns(0, 10).iter().all(|&x| x == 9.0));
}
