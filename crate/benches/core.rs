//! Time of forward + loss + backward (and one SGD step) for the article example and larger states.
//! Run with `cargo bench --bench core`; numbers go into the closing notes and docs/PERFORMANCE.md.
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use how_llms_learn::{
    article_example, backward, corpus_state, preset_corpus, step, Activation, BatchDraw, Cell,
    Config, CorpusOptions, FeedForwardWeights, LayerNormWeights, Mat, Session, State, StepOptions,
    Weights,
};
use std::hint::black_box;

/// A state of the given size with weights drawn uniformly from ±1/√fan-in (so activations stay
/// of order 1 and no probability underflows), from a fixed-seed generator.
fn sized_state(v: usize, t: usize, c: usize, h: usize, f: usize) -> State {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |scale: f64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ((seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
    };
    let mut m = |r: usize, k: usize, fan_in: usize| {
        let s = 1.0 / (fan_in as f64).sqrt();
        Mat::from_fn(r, k, |_, _| next(s))
    };
    let ln = |c: usize| LayerNormWeights {
        gain: Mat::from_element(1, c, 1.0),
        bias: Mat::zeros(1, c),
    };
    let vocab: Vec<String> = (0..v).map(|i| format!("t{i}")).collect();
    State {
        tokens: (0..t).map(|i| vocab[(i * 7) % v].clone()).collect(),
        eos: Some(vocab[0].clone()),
        config: Config {
            d_model: c,
            n_heads: h,
            d_ff: f,
            layer_norm: true,
            activation: Activation::Gelu,
            context: t,
        },
        weights: Weights {
            embedding: m(v, c, 1),
            position: m(t, c, 1),
            wq: m(c, c, c),
            wk: m(c, c, c),
            wv: m(c, c, c),
            wo: m(c, c, c),
            ffn: Some(FeedForwardWeights {
                w1: m(c, f, c),
                b1: Mat::zeros(1, f),
                w2: m(f, c, f),
                b2: Mat::zeros(1, c),
            }),
            ln1: Some(ln(c)),
            ln2: Some(ln(c)),
            lnf: Some(ln(c)),
            unembedding: m(c, v, c),
        },
        vocab,
        optimizer: None,
        sequences: None,
        held_out: None,
    }
}

fn bench(cr: &mut Criterion) {
    let mut group = cr.benchmark_group("forward+loss+backward");
    let sizes = [
        ("article", article_example()),
        ("V64 T32 C64 H4 F256", sized_state(64, 32, 64, 4, 256)),
        ("V256 T64 C128 H4 F512", sized_state(256, 64, 128, 4, 512)),
    ];
    for (label, state) in &sizes {
        backward(state).expect("benchmark state is valid");
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(label), state, |b, s| {
            b.iter(|| backward(black_box(s)).expect("backward"))
        });
    }
    group.finish();
    let mut group = cr.benchmark_group("sgd step");
    for (label, state) in &sizes[..2] {
        group.bench_with_input(BenchmarkId::from_parameter(label), state, |b, s| {
            b.iter(|| step(black_box(s), &StepOptions::sgd(0.1)).expect("step"))
        });
    }
    group.finish();
    // The page's path: a Session keeps its buffers, so an edit recomputes in place.
    let mut group = cr.benchmark_group("session");
    for (label, state) in &sizes {
        let mut session = Session::new(state.clone()).expect("valid");
        let cell = Cell::weight("wo", &[0, 0]);
        let mut x = 0.0;
        group.bench_function(BenchmarkId::new("edit+forward+loss+backward", label), |b| {
            b.iter(|| {
                x = if x > 0.5 { 0.0 } else { x + 0.001 };
                session.set_weight(&cell, x).expect("edit");
                session.backward().expect("backward").loss
            })
        });
        let mut session = Session::new(state.clone()).expect("valid");
        group.bench_function(BenchmarkId::new("sgd step", label), |b| {
            b.iter(|| session.step(&StepOptions::sgd(1e-6)).expect("step"))
        });
    }
    group.finish();
    // Training the preset corpus (issue 15): one Adam step on the whole batch of 12 sentences,
    // and on a seeded mini-batch of 4; steps per second = 10⁹ / the time per step in ns.
    let mut group = cr.benchmark_group("preset corpus");
    let p = preset_corpus();
    let options = CorpusOptions {
        held_out: Some(p.held_out.to_string()),
        seed: 0,
    };
    let state = corpus_state(p.text, &options).expect("the preset is valid");
    for (label, batch) in [("whole batch", None), ("mini-batch 4", Some(4))] {
        let mut session = Session::new(state.clone()).expect("valid");
        let mut o = StepOptions::adam(1e-3);
        let mut k = 0;
        group.bench_function(BenchmarkId::new("adam step", label), |b| {
            b.iter(|| {
                k += 1;
                o.batch = batch.map(|size| BatchDraw {
                    size,
                    seed: 0,
                    step: k,
                });
                session.step(&o).expect("step")
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
