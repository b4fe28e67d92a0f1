//! Numbers in the core's messages, in the browser: `float_text` there rearranges JavaScript's
//! shortest digits instead of using core::fmt (which the lean module leaves out), and must write
//! every f64 exactly as Rust's `{}` does. Run by `wasm-pack test` with the other browser tests.
#![cfg(target_arch = "wasm32")]
// The root package builds only the wasm module (a cdylib): the core is its dependency.
extern crate how_llms_learn_core as how_llms_learn;

use how_llms_learn::float_text;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn float_text_writes_what_rust_writes() {
    let mut seen = 0;
    let mut check = |x: f64| {
        assert_eq!(float_text(x), format!("{x}"), "bits {:#x}", x.to_bits());
        seen += 1;
    };
    for x in [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        0.5,
        1.5,
        2.5,
        100.0,
        1e-6,
        1e-7,
        1.5e-7,
        123.25,
        1e20,
        1e21,
        1.5e21,
        1e22,
        9007199254740993.0,
        5e-324,
        2.2250738585072014e-308,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1.0 / 3.0,
        10_001.0,
        0.3,
    ] {
        check(x);
    }
    // Every binade, and random bit patterns (a fixed xorshift sequence).
    for e in -1074..1024 {
        check(2f64.powi(e));
        check(-2f64.powi(e) * 1.1);
    }
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        check(f64::from_bits(s));
    }
    assert!(seen > 24_000);
}
