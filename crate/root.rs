//! The package wasm-pack builds: the core (crate/src/, package how-llms-learn-core) as one
//! module. Only a re-export, so that this crate, whose opt-level the whole program's link-time
//! optimisation runs at, stays at 3 while the core's own code is built for size.
pub use how_llms_learn_core::*;
