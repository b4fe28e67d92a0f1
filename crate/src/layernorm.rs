//! Row-wise layer norm: x̂ = (x − μ)/√(σ² + ε), out = gain ⊙ x̂ + bias (σ² biased).

use crate::state::Mat;

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

/// out: T×C.
pub fn forward(x: &Mat, gain: &Mat, bias: &Mat, out: &mut Mat, cache: &mut Cache) {
    let (t_len, c) = x.shape();
    for t in 0..t_len {
        let row = x.row(t);
        let mean = row.mean();
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / c as f64;
        let r = 1.0 / (var + EPS).sqrt();
        cache.rstd[t] = r;
        for j in 0..c {
            let xh = (x[(t, j)] - mean) * r;
            cache.xhat[(t, j)] = xh;
            out[(t, j)] = gain[(0, j)] * xh + bias[(0, j)];
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
    for t in 0..t_len {
        let g = |j: usize| gain[(0, j)] * d_out[(t, j)];
        let mean_g = (0..c).map(g).sum::<f64>() / c as f64;
        let mean_gx = (0..c).map(|j| g(j) * cache.xhat[(t, j)]).sum::<f64>() / c as f64;
        for j in 0..c {
            let xh = cache.xhat[(t, j)];
            dx[(t, j)] = cache.rstd[t] * (g(j) - mean_g - xh * mean_gx);
            d_gain[(0, j)] += d_out[(t, j)] * xh;
            d_bias[(0, j)] += d_out[(t, j)];
        }
    }
}
