//! Row-wise layer norm's forward and backward passes: x̂ = (x − μ)/√(σ² + ε),
//! out = gain ⊙ x̂ + bias (σ² biased). The core's layernorm.rs explains their entries.

use crate::mat::Mat;

pub const EPS: f64 = 1e-5;

/// What the backward pass needs from the forward pass.
#[derive(Clone, Debug)]
pub struct Cache {
    pub xhat: Mat,      // T×C, the normalised rows
    pub rstd: Vec<f64>, // T, 1/√(σ² + ε) of each row
}

impl Cache {
    pub fn new(t_len: usize, c: usize) -> Cache {
        Cache {
            xhat: Mat::zeros(t_len, c),
            rstd: vec![0.0; t_len],
        }
    }
}

/// Rows are normalised BLOCK at a time, column after column: the matrices are stored by columns,
/// so a block's entries of one column are adjacent, where a row strides across all the columns.
/// Each row's sums still run over its entries in column order, so the numbers are the same.
const BLOCK: usize = 32;

/// Column j, rows t0 .. t0 + n, of a column-major matrix with `rows` rows.
fn part(m: &[f64], rows: usize, t0: usize, n: usize, j: usize) -> &[f64] {
    &m[t0 + j * rows..][..n]
}

/// out: T×C.
pub fn forward(x: &Mat, gain: &Mat, bias: &Mat, out: &mut Mat, cache: &mut Cache) {
    let (t_len, c) = x.shape();
    let xs = x.as_slice();
    for t0 in (0..t_len).step_by(BLOCK) {
        let n = BLOCK.min(t_len - t0);
        let mut mean = [0.0; BLOCK];
        for j in 0..c {
            let col = part(xs, t_len, t0, n, j);
            mean.iter_mut().zip(col).for_each(|(m, v)| *m += v);
        }
        mean.iter_mut().for_each(|m| *m /= c as f64);
        let mut var = [0.0; BLOCK];
        for j in 0..c {
            let col = part(xs, t_len, t0, n, j);
            for ((s, v), m) in var.iter_mut().zip(col).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        for (r, s) in cache.rstd[t0..t0 + n].iter_mut().zip(&var) {
            *r = 1.0 / (s / c as f64 + EPS).sqrt();
        }
        let rstd = &cache.rstd[t0..t0 + n];
        for j in 0..c {
            let (g, b) = (gain[(0, j)], bias[(0, j)]);
            let col = part(xs, t_len, t0, n, j);
            let xhat = &mut cache.xhat.as_mut_slice()[t0 + j * t_len..][..n];
            let o = &mut out.as_mut_slice()[t0 + j * t_len..][..n];
            for i in 0..n {
                let xh = (col[i] - mean[i]) * rstd[i];
                xhat[i] = xh;
                o[i] = g * xh + b;
            }
        }
    }
}

/// ∇x (T×C), ∇gain and ∇bias (1×C).
///
/// With g = gain ⊙ ∇out, every x̂ in a row depends on every x of that row through μ and σ, which
/// gives ∇x = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)).
pub fn backward(
    d_out: &Mat,
    cache: &Cache,
    gain: &Mat,
    dx: &mut Mat,
    d_gain: &mut Mat,
    d_bias: &mut Mat,
) {
    let (t_len, c) = d_out.shape();
    d_gain.fill(0.0);
    d_bias.fill(0.0);
    let (dy, xhat) = (d_out.as_slice(), cache.xhat.as_slice());
    // BLOCK rows at a time, as `forward`; each sum in the order of `row_means`.
    for t0 in (0..t_len).step_by(BLOCK) {
        let n = BLOCK.min(t_len - t0);
        let (mut mean_g, mut mean_gx) = ([0.0; BLOCK], [0.0; BLOCK]);
        for j in 0..c {
            let (dyj, xhj) = (part(dy, t_len, t0, n, j), part(xhat, t_len, t0, n, j));
            for i in 0..n {
                let g = gain[(0, j)] * dyj[i];
                mean_g[i] += g;
                mean_gx[i] += g * xhj[i];
            }
        }
        mean_g.iter_mut().for_each(|m| *m /= c as f64);
        mean_gx.iter_mut().for_each(|m| *m /= c as f64);
        let rstd = &cache.rstd[t0..t0 + n];
        for j in 0..c {
            let (dyj, xhj) = (part(dy, t_len, t0, n, j), part(xhat, t_len, t0, n, j));
            let dxj = &mut dx.as_mut_slice()[t0 + j * t_len..][..n];
            let (mut dg, mut db) = (d_gain[(0, j)], d_bias[(0, j)]);
            for i in 0..n {
                let g = gain[(0, j)] * dyj[i];
                dxj[i] = rstd[i] * (g - mean_g[i] - xhj[i] * mean_gx[i]);
                dg += dyj[i] * xhj[i];
                db += dyj[i];
            }
            (d_gain[(0, j)], d_bias[(0, j)]) = (dg, db);
        }
    }
}
