//! Once its buffers exist, a training step allocates nothing: counted with a global allocator.
//! (The matrix products' packing buffers are kept per thread and grow only for a larger product.)
#![cfg(not(target_arch = "wasm32"))]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

use how_llms_learn::{resize, Resize, Session, State, StepOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Per thread, so the test harness's own threads are not counted.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|c| c.set(c.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The article example with layer norm on and two heads, so every layer's buffers are used.
fn state(d_model: usize, d_ff: usize, t_len: usize) -> State {
    let mut cfg = how_llms_learn::article_example().config;
    cfg.layer_norm = true;
    cfg.n_heads = 2;
    cfg.d_model = d_model;
    cfg.d_ff = d_ff;
    cfg.context = t_len;
    let mut s = resize(
        &how_llms_learn::article_example(),
        &Resize {
            vocab: None,
            config: Some(cfg),
        },
    )
    .unwrap();
    s.tokens = ["AI", "rocks"]
        .iter()
        .cycle()
        .take(t_len)
        .map(|t| t.to_string())
        .collect();
    s
}

/// Allocations made by each of 100 steps after two warm-up steps (which create Adam's moments
/// and the spare buffers).
fn allocations_per_step(state: State, options: &StepOptions) -> Vec<usize> {
    let mut session = Session::new(state).unwrap();
    session.step(options).unwrap();
    session.step(options).unwrap();
    (0..100)
        .map(|_| {
            let before = allocations();
            session.step(options).unwrap();
            allocations() - before
        })
        .collect()
}

#[test]
fn training_steps_allocate_nothing() {
    for options in [StepOptions::sgd(0.1), StepOptions::adam(0.01)] {
        // The article's sizes (every product small enough for the plain loop), and larger ones
        // (products packed for the kernel).
        for (d_model, d_ff, t_len) in [(2, 4, 2), (8, 16, 8), (32, 64, 16)] {
            let counts = allocations_per_step(state(d_model, d_ff, t_len), &options);
            assert!(
                counts.iter().all(|c| *c == 0),
                "{:?}, C={d_model} F={d_ff} T={t_len}: {counts:?}",
                options.optimizer
            );
        }
    }
}
