//! The matrix products of the forward and backward passes: C = α·A·B, C += α·A·B, and a causal
//! variant that fills only the entries on and below the diagonal.
//!
//! Why not nalgebra's `gemm`: on wasm its backend (matrixmultiply) has no SIMD kernel, nalgebra's
//! `gemm_tr` (Aᵀ·B, every weight gradient) takes one dot product per entry, and products with a
//! transposed weight (∇x = ∇y·Wᵀ) needed a transposed copy of the weight first. Here:
//!
//! - A and B are *views* with any strides, so a transposed or column-sliced operand is only a
//!   different view ([`View::t`], [`View::columns`]); nothing is copied to transpose.
//! - A tile reads A's MR rows at each k as lane pairs from a packed copy of A (panels of MR rows,
//!   one k after another, in a buffer kept per thread), and B's NR entries at each k in place
//!   when B's columns are contiguous, else from a packed copy of the NR columns. Both copies
//!   turn reads that jump a whole stored column (or row) per k, a new cache line and often a new
//!   page each time, into one sequential stream; each is reused by every tile of its panel.
//! - The kernel keeps an MR×NR tile of C in registers as pairs of f64 lanes: wasm's `f64x2`
//!   (simd128) where the build enables it, a plain `[f64; 2]` elsewhere (the compiler vectorises
//!   it natively), so native tests run the very same code; a tile is stored from them two rows
//!   at a time.
//!
//! Every entry of C is summed like the textbook loop `s = 0; for k in 0..K { s += a·b }` (k in
//! order), then scaled by α. In the simd128 build and natively each step is a separate multiply
//! and add, so the result does not depend on the platform, the tile sizes, or whether the kernel
//! or the plain loop (tiny products, and the rows and columns whole tiles leave over) computed
//! it. The relaxed-SIMD build (wasm-pack.toml [relaxed]) fuses the kernel's multiply-add where
//! the machine can, one rounding instead of two: its entries agree with the textbook loop to a
//! few ulps of the sum's magnitude (tested below), not bit for bit.

use crate::lanes::F64x2;
use crate::mat::Mat;
use std::cell::Cell;
use std::ops::Range;

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

/// Which of A's entries are known to be 0 (attention's causal matrices and their transposes):
/// a tile of C then sums only over the k where its rows of A can be nonzero. Skipping a term
/// 0·b leaves the sum as it was (up to the sign of a zero sum) for a finite b.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Zeros {
    None,
    /// A[i][k] = 0 for k > i.
    AboveDiagonal,
    /// A[i][k] = 0 for k < i.
    BelowDiagonal,
}

/// C = α·A·B.
pub fn set(alpha: f64, a: View, b: View, c: Out) {
    product(alpha, a, b, c, Write::Set, Zeros::None);
}

/// C = α·A·B where A has the zeros `zeros`.
pub fn set_triangular(alpha: f64, a: View, zeros: Zeros, b: View, c: Out) {
    product(alpha, a, b, c, Write::Set, zeros);
}

/// C += α·A·B.
pub fn add(alpha: f64, a: View, b: View, c: Out) {
    product(alpha, a, b, c, Write::Add, Zeros::None);
}

/// C = α·A·B for j ≤ i, and 0 for j > i.
pub fn causal(alpha: f64, a: View, b: View, c: Out) {
    product(alpha, a, b, c, Write::Causal, Zeros::None);
}

/// Rows of a tile: MR = 2·PAIRS, as PAIRS lane pairs.
const PAIRS: usize = 2;
const MR: usize = 2 * PAIRS;
/// Columns of a tile. 4×4 is the largest tile whose accumulators, A pairs and B lane fit the
/// 15 vector registers V8 allocates on x86-64: 4×6, 6×4, 8×3 and 4×5 spill and were slower.
const NR: usize = 4;

/// A tile of C in registers: `tile[j][p]` holds rows 2p and 2p + 1 of column j.
type Tile = [[F64x2; PAIRS]; NR];

/// Below this many multiply-adds the plain loop is faster than the tiles (the article's products
/// are 2×2 or so).
const SMALL: usize = 512;

// The packing buffers for A and for one panel of B, kept per thread and grown to the largest
// product seen, so that once a model has run, its products allocate nothing.
thread_local! {
    static PACKED: Cell<Vec<f64>> = const { Cell::new(Vec::new()) };
    static PACKED_B: Cell<Vec<f64>> = const { Cell::new(Vec::new()) };
}

fn product(alpha: f64, a: View, b: View, mut c: Out, write: Write, zeros: Zeros) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    debug_assert!(b.rows == k && c.rows == m && c.cols == n, "product shapes");
    // Tiny products take the plain loop, and so does K = 0.
    if k == 0 || m * n * k < SMALL {
        plain(alpha, a, b, &mut c, write, 0..m, 0..n);
        return;
    }
    // Rows and columns covered by whole tiles; the rest (fewer than MR rows, NR columns) is
    // summed by the plain loop in the same order.
    let (mt, nt) = (m - m % MR, n - n % NR);
    if mt > 0 && nt > 0 {
        tiles(alpha, a, b, &mut c, write, zeros, (mt, nt));
    }
    plain(alpha, a, b, &mut c, write, mt..m, 0..n);
    plain(alpha, a, b, &mut c, write, 0..mt, nt..n);
}

/// Rows 0..mt and columns 0..nt of C (multiples of MR and NR) by whole tiles.
fn tiles(
    alpha: f64,
    a: View,
    b: View,
    c: &mut Out,
    write: Write,
    zeros: Zeros,
    mt_nt: (usize, usize),
) {
    let ((mt, nt), k) = (mt_nt, a.cols);
    // A is packed once and read by every panel of B. Measured in V8 (large state's shapes, load
    // 6): the in-place reads of A (a T-row column-major matrix: one cache line per k) and of a
    // transposed B (a stored row per k: a new 4 KiB page per k for a 512-wide weight) ran the
    // products at 9-16 GFLOP/s, the packed ones at 19-23.
    let mut packed = PACKED.take();
    pack_a(a, mt, &mut packed);
    let mut packed_b = PACKED_B.take();
    // B's NR entries at one k are read one lane each: in place when its columns are contiguous
    // (NR sequential streams), otherwise packed per panel.
    let pack_b = b.rs != 1;
    if pack_b {
        packed_b.clear();
        packed_b.resize(k * NR, 0.0);
    }
    for j0 in (0..nt).step_by(NR) {
        let (b_panel, b_k, b_j): (&[f64], usize, usize) = if pack_b {
            pack_b_panel(b, j0, &mut packed_b);
            (&packed_b, NR, 1)
        } else {
            (&b.data[j0 * b.cs..], b.rs, b.cs)
        };
        for i0 in (0..mt).step_by(MR) {
            // The k where the tile's rows of A can be nonzero.
            let (k0, k1) = match zeros {
                Zeros::None => (0, k),
                Zeros::AboveDiagonal => (0, k.min(i0 + MR)),
                Zeros::BelowDiagonal => (i0.min(k), k),
            };
            // A causal tile wholly above the diagonal (every j > every i) is all zeros.
            let acc = if (write == Write::Causal && j0 > i0 + MR - 1) || k0 == k1 {
                [[F64x2::splat(0.0); PAIRS]; NR]
            } else {
                let a_tile = &packed[i0 * k + k0 * MR..];
                // Two call sites, so that the packed one gets B's strides as constants (its
                // four reads at fixed offsets, no address arithmetic per k).
                if pack_b {
                    kernel(a_tile, MR, &b_panel[k0 * NR..], NR, 1, k1 - k0)
                } else {
                    kernel(a_tile, MR, &b_panel[k0 * b_k..], b_k, b_j, k1 - k0)
                }
            };
            if write != Write::Causal || j0 + NR - 1 <= i0 {
                store_whole(&acc, alpha, c, i0, j0, write == Write::Add);
            } else {
                store_causal(&acc, alpha, c, i0, j0);
            }
        }
    }
    PACKED.set(packed);
    PACKED_B.set(packed_b);
}

/// Rows 0..mt of A (mt a multiple of MR) as panels of MR rows: for each panel, its MR entries
/// of column 0, then of column 1, …
fn pack_a(a: View, mt: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(mt * a.cols, 0.0);
    for (i0, panel) in (0..mt).step_by(MR).zip(out.chunks_exact_mut(MR * a.cols)) {
        if a.rs == 1 {
            // The MR rows are adjacent at every k.
            for (k, dst) in panel.chunks_exact_mut(MR).enumerate() {
                dst.copy_from_slice(&a.data[i0 + k * a.cs..][..MR]);
            }
            continue;
        }
        if a.cs == 1 {
            // A transposed view (every weight gradient's Xᵀ): each row is contiguous in k, so
            // the MR rows are read as MR sequential streams, with no index arithmetic per entry.
            let rows: [&[f64]; MR] = std::array::from_fn(|p| &a.data[(i0 + p) * a.rs..][..a.cols]);
            for (k, dst) in panel.chunks_exact_mut(MR).enumerate() {
                for (d, row) in dst.iter_mut().zip(&rows) {
                    *d = row[k];
                }
            }
            continue;
        }
        for p in 0..MR {
            // Row i0 + p, every k: entries a.cs apart.
            let row = &a.data[(i0 + p) * a.rs..];
            for (k, dst) in panel.chunks_exact_mut(MR).enumerate() {
                dst[p] = row[k * a.cs];
            }
        }
    }
}

/// Columns j0 .. j0 + NR of B, NR entries per k one k after another, into `out` (K·NR).
fn pack_b_panel(b: View, j0: usize, out: &mut [f64]) {
    if b.cs == 1 {
        // A transposed view: the NR entries at one k are adjacent.
        for (k, dst) in out.chunks_exact_mut(NR).enumerate() {
            dst.copy_from_slice(&b.data[k * b.rs + j0..][..NR]);
        }
    } else {
        for (k, dst) in out.chunks_exact_mut(NR).enumerate() {
            for (q, d) in dst.iter_mut().enumerate() {
                *d = b.at(k, j0 + q);
            }
        }
    }
}

/// The MR×NR tile Σ_k A[i0.., k] ⊗ B[k, j0..]: the product's inner loop, where all the time
/// goes. `a[k·a_k + i]` is row i of the tile at k (rows adjacent); `b[k·b_k + j·b_j]` is column j
/// at k. `acc[j][p]` holds entries (2p, j) and (2p + 1, j) of the tile.
#[inline(always)]
fn kernel(a: &[f64], a_k: usize, b: &[f64], b_k: usize, b_j: usize, k: usize) -> Tile {
    // The last entries read (k ≥ 1 here): checked once, so the loop needs no bounds checks.
    assert!((k - 1) * a_k + MR <= a.len() && (k - 1) * b_k + (NR - 1) * b_j < b.len());
    let (a, b) = (a.as_ptr(), b.as_ptr());
    let mut acc = [[F64x2::splat(0.0); PAIRS]; NR];
    for kk in 0..k {
        // SAFETY: kk < k, so every offset below is at most the last one checked above.
        let ak = unsafe { a.add(kk * a_k) };
        let av: [F64x2; PAIRS] = std::array::from_fn(|p| unsafe { F64x2::load_ptr(ak.add(2 * p)) });
        let bk = unsafe { b.add(kk * b_k) };
        for (q, col) in acc.iter_mut().enumerate() {
            let bv = F64x2::splat(unsafe { *bk.add(q * b_j) });
            for (c, &x) in col.iter_mut().zip(&av) {
                *c = c.add_mul(x, bv);
            }
        }
    }
    acc
}

/// A whole tile with no masked entry: α·acc (Set, Causal) or C + α·acc (Add), stored from the
/// lanes two rows at a time (C's columns are contiguous).
#[inline(always)]
fn store_whole(acc: &Tile, alpha: f64, c: &mut Out, i0: usize, j0: usize, add: bool) {
    let alpha = F64x2::splat(alpha);
    for (q, col) in acc.iter().enumerate() {
        for (dst, v) in c.run(i0, j0 + q, MR).chunks_exact_mut(2).zip(col) {
            // (Chunks of exactly two: the conversion always succeeds.)
            if let Ok(dst) = <&mut [f64; 2]>::try_from(dst) {
                let s = alpha.mul(*v);
                let s = if add { F64x2::load(dst).add(s) } else { s };
                s.store(dst);
            }
        }
    }
}

/// A causal tile that crosses the diagonal: α·acc on and below it, 0 above.
fn store_causal(acc: &Tile, alpha: f64, c: &mut Out, i0: usize, j0: usize) {
    for (q, col) in acc.iter().enumerate() {
        let j = j0 + q;
        let col: [f64; MR] = std::array::from_fn(|i| col[i / 2].to_array()[i % 2]);
        for (p, (dst, &s)) in c.run(i0, j, MR).iter_mut().zip(&col).enumerate() {
            *dst = if j <= i0 + p { alpha * s } else { 0.0 };
        }
    }
}

/// The textbook loop over rows `rows` and columns `cols` of C: tiny products, and the rows and
/// columns a product's whole tiles leave over.
fn plain(
    alpha: f64,
    a: View,
    b: View,
    c: &mut Out,
    write: Write,
    rows: Range<usize>,
    cols: Range<usize>,
) {
    for j in cols {
        for i in rows.clone() {
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
mod tests;
