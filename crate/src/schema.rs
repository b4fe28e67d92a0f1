//! `schema(state)`: the registry (weights.rs, activations.rs) for one state, so the page lists no
//! name and computes no shape itself: every weight and activation the state's model has, in
//! contract order, with its shape, whether it is a vector, one matrix per head or one block of
//! columns per head, and the layer that owns it.

use crate::activations::{ADim, Dims, ACTIVATIONS};
use crate::state::State;
use crate::weights::{Dim, WEIGHTS};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub name: &'static str,
    /// [rows, cols], or [heads, rows, cols] for scores and attention.
    pub shape: Vec<usize>,
    /// What the rows and columns count: "vocab size", "context", "dModel", "dFf", "T" or "1".
    pub dims: [&'static str; 2],
    /// A weight stored as one row and written as a flat array.
    pub vector: bool,
    pub per_head: bool,
    /// Its columns are one block of dModel/H per attention head (W_Q, W_K, W_V; Q, K, V, Z).
    pub head_columns: bool,
    /// The core module whose forward pass reads (weights) or writes (activations) it.
    pub layer: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Schema {
    pub weights: Vec<Entry>,
    pub activations: Vec<Entry>,
}

pub fn of(state: &State) -> Schema {
    let (cfg, v) = (&state.config, state.vocab.len());
    let weights = WEIGHTS
        .iter()
        .filter(|d| d.presence.holds(cfg))
        .map(|d| Entry {
            name: d.name,
            shape: vec![d.rows.size(cfg, v), d.cols.size(cfg, v)],
            dims: [d.rows.name(), d.cols.name()],
            vector: d.is_vector(),
            per_head: false,
            head_columns: d.cols == Dim::Heads,
            layer: d.layer,
        })
        .collect();
    let dims = Dims::of(state);
    let activations = ACTIVATIONS
        .iter()
        .filter(|d| !d.feed_forward || cfg.d_ff > 0)
        .map(|d| Entry {
            name: d.name,
            shape: d.shape(&dims),
            dims: [d.rows.name(), d.cols.name()],
            vector: false,
            per_head: d.per_head,
            head_columns: d.cols == ADim::Heads,
            layer: d.layer,
        })
        .collect();
    Schema {
        weights,
        activations,
    }
}
