//! Derivations under a training batch. A weight's gradient is the sum of every sequence's share,
//! so its terms are every sequence's terms, each tagged with its sequence. An activation belongs
//! to the shown sequence: its gradient counts each copy of that sequence in the batch, so its
//! terms are one copy's terms repeated for each copy (tagged with that copy's index), and with no
//! copy the sum is empty and the gradient 0.

use crate::batch::{self, Pool};
use crate::cell::Cell;
use crate::derivation::{explain_in, finish, Derivation, Entry};
use crate::error::ModelError;
use crate::explain::Explained;
use crate::model;
use crate::state::State;

pub(crate) fn derive(state: &State, cell: &Cell) -> Result<Derivation, ModelError> {
    state.check_shapes()?;
    let (name, h, i, j) = cell.resolve(state)?;
    let at = Entry {
        weight: cell.weight,
        name,
        h,
        i,
        j,
    };
    let train = batch::training_ids(state);
    let n = batch::target_count(&train, state.eos_id());
    let tokens_of = |s: usize| match &state.sequences {
        Some(seqs) => &seqs[s][..],
        None => &state.tokens[..],
    };
    if cell.weight {
        let mut pool = Pool::default();
        let mut out = Explained::new(Vec::new(), 0.0);
        let mut notes: Vec<String> = Vec::new();
        for (s, ids) in train.iter().enumerate() {
            let ws = pool.get(state, ids);
            model::forward_into(ws, &state.weights, &state.config)?;
            crate::loss::fill_terms(&ws.lse, &ws.acts.logits, &ws.targets, &mut ws.terms);
            ws.count = n;
            model::backward_into(ws, &state.weights)?;
            let e = explain_in(state, ws, tokens_of(s), at)?;
            // Added in the order `batch::gradient` adds the shares, so the sums agree exactly.
            out.gradient += e.gradient;
            out.terms.extend(e.terms.into_iter().map(|t| tagged(t, s)));
            if !e.note.is_empty() && !notes.contains(&e.note) {
                notes.push(e.note);
            }
        }
        out.note = notes.join(" ");
        return Ok(finish(out));
    }
    let copies = batch::shown_copies(state);
    if copies.is_empty() {
        return Ok(finish(Explained::none(
            "The shown sequence is not in the training batch, so the batch loss does not depend \
             on its numbers: this gradient is 0."
                .to_string(),
            0.0,
        )));
    }
    let trace = batch::shown_trace(state, &state.weights, n, 1)?;
    let one = explain_in(state, &trace, &state.tokens, at)?;
    let terms = copies
        .iter()
        .flat_map(|&s| one.terms.iter().cloned().map(move |t| tagged(t, s)))
        .collect();
    let full = batch::shown_trace(state, &state.weights, n, copies.len())?;
    let gradient =
        crate::finite_difference::activation_entry(&full.grad.activations, name, h, i, j);
    Ok(finish(Explained {
        terms,
        gradient,
        note: one.note,
    }))
}

fn tagged(mut t: crate::Term, s: usize) -> crate::Term {
    t.sequence = Some(s);
    t
}
