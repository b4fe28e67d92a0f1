//! The matrix products of the forward and backward passes: C = α·A·B, C += α·A·B, and a causal
//! variant that fills only the entries on and below the diagonal.
//!
//! Why not nalgebra's `gemm`: on wasm its backend (matrixmultiply) has no SIMD kernel, nalgebra's
//! `gemm_tr` (Aᵀ·B, every weight gradient) takes one dot product per entry, and products with a
//! transposed weight (∇x = ∇y·Wᵀ) needed a transposed copy of the weight first. Here:
//!
//! - A and B are *views* with any strides, so a transposed or column-sliced operand is only a
//!   different view ([`View::t`], [`View::columns`]); nothing is copied to transpose.
//! - The operands are packed into panels, MR rows of A and NR columns of B, one k after another
//!   (as BLIS and matrixmultiply do), into buffers kept per thread: packing reads any layout, and
//!   the kernel then reads both panels front to back without a bounds check.
//! - The kernel keeps an MR×NR tile of C in registers as pairs of f64 lanes: wasm's `f64x2`
//!   (simd128) where the build enables it, a plain `[f64; 2]` elsewhere (the compiler vectorises
//!   it natively), so native tests run the very same code.
//!
//! Every entry of C is summed exactly like the textbook loop `s = 0; for k in 0..K { s += a·b }`
//! (a separate multiply and add, k in order, no FMA), then scaled by α: the result does not depend
//! on the platform, the tile sizes, or whether the kernel or the plain loop (used for tiny
//! products) computed it.

use crate::lanes::F64x2;
use crate::mat::Mat;
use std::cell::Cell;

/// A read-only matrix view: entry (i, j) is `data[i·rs + j·cs]`.
#[derive(Clone, Copy)]
pub struct View<'a> {
    data: &'a [f64],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> View<'a> {
    /// The whole matrix (nalgebra stores columns one after another).
    pub fn of(m: &'a Mat) -> View<'a> {
        View {
            data: m.as_slice(),
            rows: m.nrows(),
            cols: m.ncols(),
            rs: 1,
            cs: m.nrows(),
        }
    }

    /// Columns `start .. start + n` of `m` (one head's slice of q, k, v or z).
    pub fn columns(m: &'a Mat, start: usize, n: usize) -> View<'a> {
        let rows = m.nrows();
        View {
            data: &m.as_slice()[start * rows..(start + n) * rows],
            rows,
            cols: n,
            rs: 1,
            cs: rows,
        }
    }

    /// The transpose: the same numbers, rows and columns swapped.
    pub fn t(self) -> View<'a> {
        View {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.rs + j * self.cs]
    }
}

/// A writable matrix view, stored by columns: entry (i, j) is `data[i + j·ld]`.
pub struct Out<'a> {
    data: &'a mut [f64],
    rows: usize,
    cols: usize,
    ld: usize,
}

impl<'a> Out<'a> {
    pub fn of(m: &'a mut Mat) -> Out<'a> {
        let (rows, cols) = m.shape();
        Out {
            data: m.as_mut_slice(),
            rows,
            cols,
            ld: rows,
        }
    }

    /// Columns `start .. start + n` of `m`.
    pub fn columns(m: &'a mut Mat, start: usize, n: usize) -> Out<'a> {
        let rows = m.nrows();
        Out {
            data: &mut m.as_mut_slice()[start * rows..(start + n) * rows],
            rows,
            cols: n,
            ld: rows,
        }
    }

    /// Column j, rows `i0 .. i0 + len`.
    fn run(&mut self, i0: usize, j: usize, len: usize) -> &mut [f64] {
        let start = i0 + j * self.ld;
        &mut self.data[start..start + len]
    }
}

/// What a product does with C.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    /// C = α·A·B.
    Set,
    /// C += α·A·B.
    Add,
    /// C = α·A·B on and below the diagonal (j ≤ i), 0 above it: attention's causal products,
    /// where the entries above the diagonal are masked and never computed.
    Causal,
}

/// C = α·A·B.
pub fn set(alpha: f64, a: View, b: View, c: Out) {
    product(alpha, a, b, c, Write::Set);
}

/// C += α·A·B.
pub fn add(alpha: f64, a: View, b: View, c: Out) {
    product(alpha, a, b, c, Write::Add);
}

/// C = α·A·B for j ≤ i, and 0 for j > i.
pub fn causal(alpha: f64, a: View, b: View, c: Out) {
    product(alpha, a, b, c, Write::Causal);
}

/// Rows of a tile: MR = 2·PAIRS, as PAIRS lane pairs.
const PAIRS: usize = 2;
const MR: usize = 2 * PAIRS;
/// Columns of a tile.
const NR: usize = 4;

/// Below this many multiply-adds the plain loop is faster than packing (the article's products
/// are 2×2 or so).
const SMALL: usize = 512;

/// One k of a packed A panel (MR rows) and of a packed B panel (NR columns).
type APanel = [[f64; 2]; PAIRS];
type BPanel = [f64; NR];

/// The packing buffers, kept per thread and grown to the largest product seen, so that once a
/// model has run, its products allocate nothing.
#[derive(Default)]
struct Packed {
    a: Vec<APanel>,
    b: Vec<BPanel>,
}

thread_local! {
    static PACKED: Cell<Packed> = const { Cell::new(Packed { a: Vec::new(), b: Vec::new() }) };
}

fn product(alpha: f64, a: View, b: View, mut c: Out, write: Write) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    debug_assert!(b.rows == k && c.rows == m && c.cols == n, "product shapes");
    // Tiny products take the plain loop, and so does K = 0 (its panels would be empty).
    if k == 0 || m * n * k < SMALL {
        plain(alpha, a, b, &mut c, write);
        return;
    }
    // Taken out of the cell and put back (not borrowed), so nothing here can fail.
    let mut p = PACKED.take();
    pack_a(a, &mut p.a);
    pack_b(b, &mut p.b);
    for (jp, bp) in p.b.chunks_exact(k).enumerate() {
        let j0 = jp * NR;
        for (ip, ap) in p.a.chunks_exact(k).enumerate() {
            let i0 = ip * MR;
            // A causal tile wholly above the diagonal (every j > every i) is all zeros.
            let above = write == Write::Causal && j0 > i0 + MR - 1;
            let acc = if above {
                [[0.0; MR]; NR]
            } else {
                kernel(ap, bp)
            };
            store(&acc, alpha, &mut c, i0, j0, write);
        }
    }
    PACKED.set(p);
}

/// A as panels of MR rows: for each panel, its MR entries of column 0, then of column 1, …
/// Rows past the end are 0.
fn pack_a(a: View, out: &mut Vec<APanel>) {
    out.clear();
    out.reserve(a.rows.div_ceil(MR) * a.cols);
    for i0 in (0..a.rows).step_by(MR) {
        for k in 0..a.cols {
            let x = |i: usize| if i < a.rows { a.at(i, k) } else { 0.0 };
            out.push(std::array::from_fn(|p| [x(i0 + 2 * p), x(i0 + 2 * p + 1)]));
        }
    }
}

/// B as panels of NR columns: for each panel, its NR entries of row 0, then of row 1, …
/// Columns past the end are 0.
fn pack_b(b: View, out: &mut Vec<BPanel>) {
    out.clear();
    out.reserve(b.cols.div_ceil(NR) * b.rows);
    for j0 in (0..b.cols).step_by(NR) {
        for k in 0..b.rows {
            out.push(std::array::from_fn(|q| {
                if j0 + q < b.cols {
                    b.at(k, j0 + q)
                } else {
                    0.0
                }
            }));
        }
    }
}

/// The MR×NR tile Σ_k a[k] ⊗ b[k] of one A panel and one B panel (same length K): the
/// product's inner loop, where all the time goes. `acc[j][i]` is entry (i, j) of the tile.
#[inline(always)]
fn kernel(a: &[APanel], b: &[BPanel]) -> [[f64; MR]; NR] {
    let mut acc = [[F64x2::splat(0.0); PAIRS]; NR];
    for (ak, bk) in a.iter().zip(b) {
        let av: [F64x2; PAIRS] = std::array::from_fn(|p| F64x2::load(&ak[p]));
        for (col, &bkj) in acc.iter_mut().zip(bk) {
            let bv = F64x2::splat(bkj);
            for (c, &x) in col.iter_mut().zip(&av) {
                *c = c.add_mul(x, bv);
            }
        }
    }
    let mut out = [[0.0; MR]; NR];
    for (o, col) in out.iter_mut().zip(&acc) {
        for (p, v) in col.iter().enumerate() {
            [o[2 * p], o[2 * p + 1]] = v.to_array();
        }
    }
    out
}

/// Writes a tile's entries that lie inside C: α·acc (Set, Causal) or C + α·acc (Add).
fn store(acc: &[[f64; MR]; NR], alpha: f64, c: &mut Out, i0: usize, j0: usize, write: Write) {
    let rows = MR.min(c.rows - i0);
    for (q, col) in acc.iter().enumerate().take(c.cols.saturating_sub(j0)) {
        let j = j0 + q;
        for (p, (dst, &s)) in c.run(i0, j, rows).iter_mut().zip(col).enumerate() {
            *dst = match write {
                Write::Set => alpha * s,
                Write::Add => *dst + alpha * s,
                Write::Causal if j <= i0 + p => alpha * s,
                Write::Causal => 0.0,
            };
        }
    }
}

/// The textbook loop, for products too small to be worth packing.
fn plain(alpha: f64, a: View, b: View, c: &mut Out, write: Write) {
    for j in 0..b.cols {
        for i in 0..a.rows {
            let dst = &mut c.data[i + j * c.ld];
            if write == Write::Causal && j > i {
                *dst = 0.0;
                continue;
            }
            let mut s = 0.0;
            for k in 0..a.cols {
                s += a.at(i, k) * b.at(k, j);
            }
            *dst = match write {
                Write::Add => *dst + alpha * s,
                _ => alpha * s,
            };
        }
    }
}

#[cfg(test)]
mod tests {
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
        let want = naive(
            1.0,
            &a.columns(4, 4).into_owned(),
            &b.columns(2, 4).transpose(),
        );
        assert_eq!(c.columns(10, 10).into_owned(), want);
        assert!(c.columns(0, 10).iter().all(|&x| x == 9.0));
    }
}
