//! The hot loops of how-llms-learn: the matrix products (`matmul`), the two-lane f64 arithmetic
//! and exponential they and the softmax use (`lanes`), the softmax, layer norm's passes and the
//! finiteness check. A crate of their own because the release profile builds the core
//! (crate/src/) for size and these at opt-level 3 (the root Cargo.toml); a generic or
//! `#[inline]` function here is compiled, and optimised, in its caller's crate, so what must
//! stay fast is written with `lanes` or kept out of line.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::todo,
    clippy::unimplemented
)]
// `F64x2::add`, `mul`, … name the wasm instructions they are; operator traits would hide which
// lane operations a kernel performs.
#![allow(clippy::should_implement_trait)]
// `lanes::Consts::new()` is called once per loop to hold the exp's constants as values; a
// `Default` would be a second name for it.
#![allow(clippy::new_without_default)]

pub mod lanes;
pub mod mat;
pub mod matmul;
pub mod norm;
pub mod softmax;
