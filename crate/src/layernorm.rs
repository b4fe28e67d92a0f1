//! Row-wise layer norm: x̂ = (x − μ)/√(σ² + ε), out = gain ⊙ x̂ + bias (σ² biased).

use crate::explain::{factor, grad_of, signed, term, wt, Idx, Kind, Named, Positions, Ref, Term};
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
        let (mean_g, mean_gx) = row_means(d_out, cache, gain, t);
        for j in 0..c {
            let xh = cache.xhat[(t, j)];
            dx[(t, j)] = cache.rstd[t] * (g(j) - mean_g - xh * mean_gx);
            d_gain[(0, j)] += d_out[(t, j)] * xh;
            d_bias[(0, j)] += d_out[(t, j)];
        }
    }
}

/// mean(g) and mean(g ⊙ x̂) over row t, with g = gain ⊙ ∇out: the two row-wide terms of the
/// input's gradient, shared by `backward` and the explanation below.
fn row_means(d_out: &Mat, cache: &Cache, gain: &Mat, t: usize) -> (f64, f64) {
    let c = d_out.ncols();
    let g = |j: usize| gain[(0, j)] * d_out[(t, j)];
    let mean_g = (0..c).map(g).sum::<f64>() / c as f64;
    let mean_gx = (0..c).map(|j| g(j) * cache.xhat[(t, j)]).sum::<f64>() / c as f64;
    (mean_g, mean_gx)
}

/// The reader's name for a layer norm ("ln1", "ln2", "lnf"), for term labels.
pub fn words(ln: &str) -> &'static str {
    match ln {
        "ln1" => "layer norm 1",
        "ln2" => "layer norm 2",
        _ => "the final layer norm",
    }
}

/// ∂L/∂gain_j = Σ_t x̂[t][j]·∇out[t][j] (the bias is `explain::column`).
pub fn explain_gain(
    p: &Positions,
    ln: &'static str,
    out: Named,
    cache: &Cache,
    j: usize,
) -> Vec<Term> {
    (0..p.len())
        .map(|t| {
            term(
                p.label(t),
                vec![
                    factor(Kind::Normalized, ln, &[t, j], cache.xhat[(t, j)]),
                    grad_of(out, [t, j]),
                ],
            )
        })
        .collect()
}

/// The three terms of `backward` for input entry [t][j]:
/// rstd·γ_j·∇out_j − rstd·mean(g) − rstd·x̂_j·mean(g⊙x̂), with g = γ ⊙ ∇out.
pub fn explain_input(
    ln: &'static str,
    gain: Named,
    out: Named,
    cache: &Cache,
    t: usize,
    j: usize,
) -> Vec<Term> {
    let (mean_g, mean_gx) = row_means(out.1, cache, gain.1, t);
    let rstd = factor(Kind::InvStd, ln, &[t], cache.rstd[t]);
    let refer = |kind, name, index: Vec<Idx>| Ref { kind, name, index };
    let gain_k = refer(Kind::Weight, gain.0, vec![Idx::Var("k")]);
    let out_k = refer(Kind::Gradient, out.0, vec![Idx::At(t), Idx::Var("k")]);
    let xhat_k = refer(Kind::Normalized, ln, vec![Idx::At(t), Idx::Var("k")]);
    let mean = |of: Vec<Ref>, value: f64| crate::explain::Factor {
        of,
        ..factor(Kind::Mean, ln, &[t], value)
    };
    let words = words(ln);
    vec![
        term(
            format!("{words}: direct path"),
            vec![
                rstd.clone(),
                wt(gain.0, &[j], gain.1[(0, j)]),
                grad_of(out, [t, j]),
            ],
        ),
        signed(
            -1,
            format!("{words}: through the row mean"),
            vec![
                rstd.clone(),
                mean(vec![gain_k.clone(), out_k.clone()], mean_g),
            ],
        ),
        signed(
            -1,
            format!("{words}: through the row variance"),
            vec![
                rstd,
                factor(Kind::Normalized, ln, &[t, j], cache.xhat[(t, j)]),
                mean(vec![gain_k, out_k, xhat_k], mean_gx),
            ],
        ),
    ]
}
