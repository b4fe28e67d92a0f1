//! Back propagation checked against central finite differences, entry by entry, for every weight
//! and every activation, on configurations that cover every switch of the model.
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

mod common;

use common::{activation_cells, random_state, rel_error, Shape};
use how_llms_learn::{
    article_example, backward, finite_difference, forward, loss, Activation, ActivationRef,
    Activations, Backward, Cell, Factor, Idx, Kind, State,
};

const EPS: f64 = 1e-5;
const TOLERANCE: f64 = 1e-6;

/// Richardson extrapolation of two central differences, (4·D(ε/2) − D(ε))/3: its error shrinks as
/// ε⁴ instead of ε², which matters where the loss curves sharply (∂L/∂P = −1/(N·P) for a small P).
fn extrapolate(central: impl Fn(f64) -> f64) -> f64 {
    (4.0 * central(EPS / 2.0) - central(EPS)) / 3.0
}

fn configurations() -> Vec<(&'static str, State)> {
    use Activation::{Gelu, Relu};
    let shape =
        |vocab, tokens: &[usize], eos, d_model, n_heads, d_ff, layer_norm, activation, context| {
            Shape {
                vocab,
                tokens: tokens.to_vec(),
                eos,
                d_model,
                n_heads,
                d_ff,
                layer_norm,
                activation,
                context,
            }
        };
    vec![
        ("article example", article_example()),
        (
            "2 heads, GELU, layer norm, eos, repeated tokens",
            random_state(
                &shape(3, &[0, 2, 0, 0, 1], Some(2), 4, 2, 6, true, Gelu, 6),
                1,
                0.8,
            ),
        ),
        (
            "1 head, no feed-forward, layer norm, no eos, repeats",
            random_state(
                &shape(3, &[1, 1, 0, 1], None, 3, 1, 0, true, Relu, 5),
                2,
                0.9,
            ),
        ),
        (
            "4 heads of size 1, no feed-forward, no layer norm, eos",
            random_state(
                &shape(2, &[0, 1, 1], Some(0), 4, 4, 0, false, Relu, 3),
                3,
                1.0,
            ),
        ),
        (
            "2 heads, ReLU, layer norm, unused token, no eos",
            random_state(
                &shape(4, &[0, 1, 0, 2, 2, 1], None, 6, 2, 5, true, Relu, 7),
                4,
                0.7,
            ),
        ),
        (
            "3 heads, GELU, no layer norm, eos also in input",
            random_state(
                &shape(3, &[2, 0, 2], Some(2), 3, 3, 2, false, Gelu, 4),
                5,
                1.2,
            ),
        ),
        (
            "single token with eos",
            random_state(&shape(2, &[1], Some(0), 2, 2, 3, true, Gelu, 2), 6, 1.0),
        ),
        (
            // 8×8 and larger: every product here (the head's included) goes through the packed
            // kernel of crate/src/matmul.rs, not its plain loop for tiny products.
            "1 head of size 8, GELU, layer norm, products past the plain loop",
            random_state(
                &shape(
                    8,
                    &[3, 1, 4, 1, 5, 6, 2, 7],
                    Some(0),
                    8,
                    1,
                    16,
                    true,
                    Gelu,
                    9,
                ),
                7,
                0.7,
            ),
        ),
    ]
}

/// L with one weight entry moved by `delta`, computed by the forward pass alone.
fn loss_with_weight(state: &State, name: &str, i: usize, j: usize, delta: f64) -> f64 {
    let mut s = state.clone();
    s.weights.get_mut(name).expect("weight exists")[(i, j)] += delta;
    loss(&s).expect("loss").value
}

#[test]
fn every_weight_gradient_matches_finite_differences() {
    for (label, state) in configurations() {
        let grads = backward(&state).expect(label);
        let mut checked = 0;
        let mut worst: f64 = 0.0;
        for (name, g) in grads.weights.params() {
            for i in 0..g.nrows() {
                for j in 0..g.ncols() {
                    let numeric = extrapolate(|e| {
                        (loss_with_weight(&state, name, i, j, e)
                            - loss_with_weight(&state, name, i, j, -e))
                            / (2.0 * e)
                    });
                    let err = rel_error(g[(i, j)], numeric);
                    worst = worst.max(err);
                    assert!(
                        err <= TOLERANCE,
                        "{label}: weights.{name}[{i}][{j}] backward {} vs numeric {numeric} (rel error {err:e})",
                        g[(i, j)]
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(
            checked,
            state.weights.params().map(|(_, m)| m.len()).sum::<usize>()
        );
        eprintln!("{label}: {checked} weight entries, largest relative error {worst:.1e}");
    }
}

#[test]
fn every_activation_gradient_matches_finite_differences() {
    for (label, state) in configurations() {
        let grads = backward(&state).expect(label);
        let mut checked = 0;
        let mut worst: f64 = 0.0;
        for (name, g) in grads.activations.entries() {
            let cells = activation_cells(g);
            for (index, analytic) in cells {
                let cell = Cell::activation(name, &index);
                let fd = finite_difference(&state, &cell, Some(EPS)).expect(label);
                assert_eq!(
                    fd.analytic, analytic,
                    "{label}: {name}{index:?} analytic value"
                );
                let numeric = extrapolate(|e| {
                    finite_difference(&state, &cell, Some(e))
                        .expect(label)
                        .numeric
                });
                let err = rel_error(analytic, numeric);
                worst = worst.max(err);
                assert!(
                    err <= TOLERANCE,
                    "{label}: activations.{name}{index:?} backward {analytic} vs numeric {numeric} (rel error {err:e})"
                );
                checked += 1;
            }
        }
        assert!(checked > 0, "{label}: no activation checked");
        eprintln!("{label}: {checked} activation entries, largest relative error {worst:.1e}");
    }
}

#[test]
fn finite_difference_of_a_weight_agrees_with_perturbing_it_directly() {
    for (label, state) in configurations() {
        for (name, m) in state.weights.params() {
            let (i, j) = (m.nrows() - 1, m.ncols() - 1);
            let index: Vec<usize> =
                if how_llms_learn::WEIGHT_NAMES[6..16].contains(&name) && m.nrows() == 1 {
                    vec![j]
                } else {
                    vec![i, j]
                };
            let fd =
                finite_difference(&state, &Cell::weight(name, &index), Some(EPS)).expect(label);
            let direct = (loss_with_weight(&state, name, i, j, EPS)
                - loss_with_weight(&state, name, i, j, -EPS))
                / (2.0 * EPS);
            assert_eq!(fd.numeric, direct, "{label}: {name}");
            assert_eq!(fd.difference, fd.numeric - fd.analytic);
        }
    }
}

/// The number a factor names, looked up in the model itself: `None` for kinds that are not one
/// entry of a weight, an activation or a gradient.
fn referenced(state: &State, grads: &Backward, acts: &Activations, f: &Factor) -> Option<f64> {
    let index: Vec<usize> = f
        .index
        .iter()
        .map(|i| match i {
            Idx::At(n) => *n,
            Idx::Var(v) => panic!("a factor's own index holds the variable {v}"),
        })
        .collect();
    let in_activation = |a: ActivationRef| match (a, &index[..]) {
        (ActivationRef::Matrix(m), [i, j]) => m[(*i, *j)],
        (ActivationRef::Heads(hs), [h, i, j]) => hs[*h][(*i, *j)],
        _ => panic!("{} has index {index:?}", f.name),
    };
    match f.kind {
        Kind::Weight => {
            let m = state.weights.get(f.name).expect(f.name);
            Some(match &index[..] {
                [j] => m[(0, *j)],
                [i, j] => m[(*i, *j)],
                _ => panic!("{} has index {index:?}", f.name),
            })
        }
        Kind::Activation => Some(in_activation(acts.get(f.name).expect(f.name))),
        Kind::Gradient => Some(in_activation(grads.activations.get(f.name).expect(f.name))),
        _ => None,
    }
}

/// Every cell of every gradient in the configurations: its derivation's terms add up to the value
/// back propagation reports (the popover on the page shows exactly these terms), normwise per
/// matrix, and every factor that names an entry of the model holds that entry's value, so the
/// page may link a gradient factor to that entry's own derivation.
#[test]
fn every_derivation_adds_up_to_its_gradient() {
    for (label, state) in configurations() {
        let grads = backward(&state).expect(label);
        let acts = forward(&state).expect(label);
        let mut matrices: Vec<Vec<(Cell, f64)>> = Vec::new();
        for (name, m) in grads.weights.params() {
            let vector =
                how_llms_learn::WEIGHT_NAMES[6..16].contains(&name) && name.starts_with(['b', 'l']);
            let mut cells = Vec::new();
            for i in 0..m.nrows() {
                for j in 0..m.ncols() {
                    let index = if vector { vec![j] } else { vec![i, j] };
                    cells.push((Cell::weight(name, &index), m[(i, j)]));
                }
            }
            matrices.push(cells);
        }
        for (name, a) in grads.activations.entries() {
            let mut cells = Vec::new();
            match a {
                ActivationRef::Matrix(m) => {
                    for i in 0..m.nrows() {
                        for j in 0..m.ncols() {
                            cells.push((Cell::activation(name, &[i, j]), m[(i, j)]));
                        }
                    }
                }
                ActivationRef::Heads(hs) => {
                    for (h, m) in hs.iter().enumerate() {
                        for t in 0..m.nrows() {
                            for s in 0..=t {
                                cells.push((Cell::activation(name, &[h, t, s]), m[(t, s)]));
                            }
                        }
                    }
                }
            }
            matrices.push(cells);
        }
        for cells in matrices {
            let (mut worst, mut scale) = (0.0f64, 0.0f64);
            for (cell, value) in &cells {
                let what = format!("{label}: {}", cell.describe());
                let d = how_llms_learn::derivation(&state, cell).expect(&what);
                assert_eq!(d.gradient, *value, "{what}");
                worst = worst.max((d.total - value).abs());
                scale = scale.max(value.abs());
                if d.terms.is_empty() {
                    assert!(
                        *value == 0.0 && !d.note.is_empty(),
                        "{what} has no terms and no note"
                    );
                }
                for t in &d.terms {
                    let product: f64 = t.factors.iter().map(|f| f.value).product();
                    assert_eq!(t.value, f64::from(t.sign) * product, "{what}: {}", t.label);
                    assert!(t.sign == 1 || t.sign == -1, "{what}: sign {}", t.sign);
                    for f in &t.factors {
                        if let Some(v) = referenced(&state, &grads, &acts, f) {
                            assert_eq!(f.value, v, "{what}: factor {f:?}");
                        }
                        assert_eq!(f.of.is_empty(), f.kind != Kind::Mean, "{what}: {f:?}");
                    }
                }
            }
            let cell = &cells[0].0;
            assert!(
                worst <= 1e-9 * scale + 1e-14,
                "{label}: {} and its neighbours: terms miss the gradient by {worst} (largest entry {scale})",
                cell.describe()
            );
        }
    }
}

/// Every forward entry of every configuration: its explanation adds up to the value `forward`
/// reports (normwise per matrix), and every factor that names a weight or an activation holds
/// that entry's value, so the page may link it to that entry's own explanation.
#[test]
fn every_forward_explanation_adds_up_to_its_value() {
    use how_llms_learn::forward_explanation;
    let mut checked = 0;
    for (label, state) in configurations() {
        let acts = forward(&state).expect(label);
        let grads = backward(&state).ok(); // `referenced` reads weights and activations only
        for (name, a) in acts.entries() {
            let cells: Vec<Vec<usize>> = match a {
                ActivationRef::Matrix(m) => (0..m.nrows())
                    .flat_map(|i| (0..m.ncols()).map(move |j| vec![i, j]))
                    .collect(),
                ActivationRef::Heads(hs) => (0..hs.len())
                    .flat_map(|h| {
                        (0..hs[h].nrows()).flat_map(move |t| (0..=t).map(move |s| vec![h, t, s]))
                    })
                    .collect(),
            };
            let (mut worst, mut scale) = (0.0_f64, 0.0_f64);
            for index in cells {
                let what = format!("{label}: {name}{index:?}");
                let e = forward_explanation(&state, &Cell::activation(name, &index)).expect(&what);
                assert!(!e.terms.is_empty(), "{what}: no terms");
                worst = worst.max((e.total - e.value).abs());
                scale = scale.max(e.value.abs());
                for t in &e.terms {
                    let product: f64 = t.factors.iter().map(|f| f.value).product();
                    assert_eq!(
                        t.value,
                        f64::from(t.sign) * product,
                        "{what}: term {}",
                        t.label
                    );
                    for f in t
                        .factors
                        .iter()
                        .filter(|f| matches!(f.kind, Kind::Weight | Kind::Activation))
                    {
                        if let Some(want) =
                            grads.as_ref().and_then(|g| referenced(&state, g, &acts, f))
                        {
                            assert_eq!(f.value, want, "{what}: factor {} {:?}", f.name, f.index);
                        }
                    }
                }
                checked += 1;
            }
            assert!(
                worst <= 1e-9 * scale + 1e-14,
                "{label}: {name}: max |total − value| = {worst:e} at scale {scale:e}"
            );
        }
    }
    assert!(checked > 500, "only {checked} entries explained");
}
