//! The article's example worked by hand: every number below is derived in the comments from the
//! weights in `article_example()`, so the test checks the core against arithmetic a reader can redo.
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

use how_llms_learn::{article_example, backward, forward, loss, step, StepOptions};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        assert!(close(a, b), "{} = {a}, expected {b}", stringify!($a));
    }};
}

#[test]
fn forward_pass_of_position_0_by_hand() {
    let f = forward(&article_example()).unwrap();
    // x[0] = E[AI] + P[0] = (1, 0) + (0.1, 0) = (1.1, 0)
    assert_close!(f.x[(0, 0)], 1.1);
    assert_close!(f.x[(0, 1)], 0.0);
    // q[0] = x[0]·wq = (1.1·0.5, 1.1·0.2) = (0.55, 0.22); v[0] = (1.1·0.8, 1.1·0.1) = (0.88, 0.11)
    assert_close!(f.q[(0, 0)], 0.55);
    assert_close!(f.q[(0, 1)], 0.22);
    // Position 0 can only attend to itself: attention[0][0][0] = 1, so z[0] = v[0].
    assert_close!(f.attention[0][(0, 0)], 1.0);
    assert_eq!(f.attention[0][(0, 1)], 0.0);
    assert_close!(f.z[(0, 0)], 0.88);
    // attnOut[0] = z[0]·wo = (0.88·1 + 0.11·0.3, 0.88·(−0.5) + 0.11·0.7) = (0.913, −0.363)
    // x1[0] = x[0] + attnOut[0] = (2.013, −0.363)
    assert_close!(f.x1[(0, 0)], 2.013);
    assert_close!(f.x1[(0, 1)], -0.363);
    // u[0] = x1[0]·w1 + b1
    //      = (2.013·0.4 + 0.363·0.1 + 0.1, −2.013·0.3 − 0.363·0.6, 2.013·0.2 − 0.363·0.3 − 0.1,
    //         2.013·0.5 + 0.363·0.4 + 0.2)
    //      = (0.9415, −0.8217, 0.1937, 1.3517); ReLU zeroes the second entry.
    let m = f.mlp.as_ref().unwrap();
    for (j, u) in [0.9415, -0.8217, 0.1937, 1.3517].into_iter().enumerate() {
        assert_close!(m.u[(0, j)], u);
        assert_close!(m.hidden[(0, j)], u.max(0.0));
    }
    // mlpOut[0] = hidden[0]·w2 + b2
    //           = (0.9415·0.5 − 0.1937·0.6 + 1.3517·0.2, −0.9415·0.2 + 0.1937·0.1 + 1.3517·0.3 + 0.1)
    //           = (0.62487, 0.33658);  x2[0] = x1[0] + mlpOut[0] = (2.63787, −0.02642)
    assert_close!(f.x2[(0, 0)], 2.63787);
    assert_close!(f.x2[(0, 1)], -0.02642);
    // Layer norm is off, so xf = x2. logits[0] = xf[0]·unembedding
    //   = (2.63787·0.4 + 0.02642·0.3, 2.63787·0.2 − 0.02642·0.9) = (1.063074, 0.503796)
    assert_close!(f.logits[(0, 0)], 1.063074);
    assert_close!(f.logits[(0, 1)], 0.503796);
    // probs[0][rocks] = e^0.503796 / (e^1.063074 + e^0.503796) = 1 / (1 + e^0.559278)
    let p_rocks = 1.0 / (1.0 + 0.559278f64.exp());
    assert_close!(f.probs[(0, 1)], p_rocks);
    assert_close!(f.probs[(0, 0)], 1.0 - p_rocks);
    assert!((p_rocks - 0.363715).abs() < 1e-6);
    // Position 1 attends to both positions with unequal weights (a non-trivial pattern).
    let a = &f.attention[0];
    assert!((a[(1, 0)] - 0.434077).abs() < 1e-6 && (a[(1, 1)] - 0.565923).abs() < 1e-6);
    for t in 0..2 {
        assert_close!(f.probs.row(t).sum(), 1.0);
    }
}

#[test]
fn target_and_loss_by_hand() {
    let l = loss(&article_example()).unwrap();
    // Target: the input shifted one position. Position 0 ("AI") should predict "rocks" (index 1);
    // position 1 is the last and the vocabulary has no end-of-sequence token, so it is skipped.
    assert_eq!(l.targets, vec![Some(1), None]);
    assert_eq!(l.count, 1);
    // L = −ln P[0][rocks] = ln(1 + e^0.559278) ≈ 1.011386, averaged over N = 1 position.
    let expected = (1.0 + 0.559278f64.exp()).ln();
    assert_close!(l.value, expected);
    assert_eq!(l.terms[1], None);
    assert_close!(l.terms[0].unwrap(), expected);
    assert!((l.value - 1.011386).abs() < 1e-6);
}

#[test]
fn gradient_of_logits_is_p_minus_y_over_n() {
    let state = article_example();
    let f = forward(&state).unwrap();
    let g = backward(&state).unwrap();
    let d = &g.activations.logits;
    // Row 0: (P[0] − Y[0]) / 1 with Y[0] = (0, 1), the one-hot row of "rocks".
    assert_close!(d[(0, 0)], f.probs[(0, 0)]);
    assert_close!(d[(0, 1)], f.probs[(0, 1)] - 1.0);
    // Row 1 has no target: it adds nothing to L, so its gradient is exactly zero.
    assert_eq!((d[(1, 0)], d[(1, 1)]), (0.0, 0.0));
    // ∇unembedding = xfᵀ·∇logits; only row 0 of ∇logits is non-zero:
    // ∇U[0][0] = xf[0][0]·P[0][AI] = 2.63787·(1 − p_rocks).
    let p_rocks = f.probs[(0, 1)];
    assert_close!(g.weights.unembedding[(0, 0)], 2.63787 * (1.0 - p_rocks));
    // Nothing at position 1 reaches the loss (it has no target and no later position reads it),
    // and with one token attending only to itself the scores get no gradient, so wq and wk don't.
    assert!(g.weights.wq.iter().all(|x| *x == 0.0));
    assert!(g.weights.wk.iter().all(|x| *x == 0.0));
    assert!(g.weights.embedding.row(1).iter().all(|x| *x == 0.0));
    assert!(g.weights.position.rows(1, 3).iter().all(|x| *x == 0.0));
}

#[test]
fn one_sgd_step_lowers_the_loss() {
    let state = article_example();
    let r = step(&state, &StepOptions::sgd(0.1)).unwrap();
    assert!(r.loss_after < r.loss_before);
    assert_close!(r.loss_before, loss(&state).unwrap().value);
    assert_close!(r.loss_after, loss(&r.state).unwrap().value);
    // w' = w − η·∇w, entry by entry.
    let g = backward(&state).unwrap();
    assert_close!(
        r.state.weights.unembedding[(0, 1)],
        state.weights.unembedding[(0, 1)] - 0.1 * g.weights.unembedding[(0, 1)]
    );
}

#[test]
fn adam_first_step_moves_each_weight_by_about_the_learning_rate() {
    let state = article_example();
    let r = step(&state, &StepOptions::adam(0.01)).unwrap();
    let opt = r.state.optimizer.as_ref().unwrap();
    assert_eq!(opt.step, 1);
    let g = backward(&state).unwrap();
    // At k = 1, m̂ = g and v̂ = g², so the update is η·g/(|g| + ε) ≈ η·sign(g).
    let g00 = g.weights.unembedding[(0, 0)];
    let expected = state.weights.unembedding[(0, 0)] - 0.01 * g00 / (g00.abs() + 1e-8);
    assert_close!(r.state.weights.unembedding[(0, 0)], expected);
    assert_close!(opt.m.unembedding[(0, 0)], 0.1 * g00);
    assert_close!(opt.v.unembedding[(0, 0)], 0.001 * g00 * g00);
    // A weight with a zero gradient does not move.
    assert_eq!(r.state.weights.wq, state.weights.wq);
    // A second step reads the moments back and uses k = 2.
    let r2 = step(&r.state, &StepOptions::adam(0.01)).unwrap();
    assert_eq!(r2.state.optimizer.unwrap().step, 2);
    assert!(r2.loss_after < r.loss_after);
}
