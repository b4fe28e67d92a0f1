//! Row-wise layer norm: x̂ = (x − μ)/√(σ² + ε), out = gain ⊙ x̂ + bias (σ² biased).

use crate::state::Mat;

pub const EPS: f64 = 1e-5;

/// What the backward pass needs from the forward pass.
#[derive(Clone, Debug)]
pub struct Cache {
    pub xhat: Mat,      // T×C, the normalised rows
    pub rstd: Vec<f64>, // T, 1/√(σ² + ε) of each row
}

/// out: T×C.
pub fn forward(x: &Mat, gain: &Mat, bias: &Mat) -> (Mat, Cache) {
    let (t_len, c) = x.shape();
    let mut xhat = Mat::zeros(t_len, c);
    let mut rstd = Vec::with_capacity(t_len);
    for t in 0..t_len {
        let row = x.row(t);
        let mean = row.mean();
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / c as f64;
        let r = 1.0 / (var + EPS).sqrt();
        for j in 0..c {
            xhat[(t, j)] = (x[(t, j)] - mean) * r;
        }
        rstd.push(r);
    }
    let out = Mat::from_fn(t_len, c, |t, j| gain[(0, j)] * xhat[(t, j)] + bias[(0, j)]);
    (out, Cache { xhat, rstd })
}

/// Returns (∇x T×C, ∇gain 1×C, ∇bias 1×C).
///
/// With g = gain ⊙ ∇out, every x̂ in a row depends on every x of that row through μ and σ, which
/// gives ∇x = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)).
pub fn backward(d_out: &Mat, cache: &Cache, gain: &Mat) -> (Mat, Mat, Mat) {
    let (t_len, c) = d_out.shape();
    let mut dx = Mat::zeros(t_len, c);
    let mut d_gain = Mat::zeros(1, c);
    let mut d_bias = Mat::zeros(1, c);
    for t in 0..t_len {
        let g: Vec<f64> = (0..c).map(|j| gain[(0, j)] * d_out[(t, j)]).collect();
        let mean_g = g.iter().sum::<f64>() / c as f64;
        let mean_gx = (0..c).map(|j| g[j] * cache.xhat[(t, j)]).sum::<f64>() / c as f64;
        for j in 0..c {
            let xh = cache.xhat[(t, j)];
            dx[(t, j)] = cache.rstd[t] * (g[j] - mean_g - xh * mean_gx);
            d_gain[(0, j)] += d_out[(t, j)] * xh;
            d_bias[(0, j)] += d_out[(t, j)];
        }
    }
    (dx, d_gain, d_bias)
}
