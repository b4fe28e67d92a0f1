// @ts-check
// Row/column labels and human names for every matrix in the state and the
// forward pass. Token names appear as labels (text only, never markup).
import { WEIGHTS, ACTIVATIONS, titleOf } from './notation.js';

export function dims(state) {
  const C = state.config.dModel;
  const H = state.config.nHeads;
  return {
    V: state.vocab.length,
    C,
    H,
    D: C / H, // head size: a shape, used only for labels
    F: state.config.dFf,
    T: state.tokens.length,
    context: state.config.context,
  };
}

const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));

function dimLabels(n) { return range(n, (i) => `d${i}`); }
export function unitLabels(n) { return range(n, (i) => `h${i}`); }
export function positionLabels(state) { return state.tokens.map((tok, t) => `${t} ${tok}`); }

/** Per weight and activation: its caption title, plain-text symbol and LaTeX (from notation.js). */
const info = (table) => Object.fromEntries(Object.entries(table).map(([key, s]) => [key, { title: titleOf(key), sym: s.text, tex: s.tex }]));
export const WEIGHT_INFO = info(WEIGHTS);
export const ACTIVATION_INFO = info(ACTIVATIONS);

/**
 * Labels for each size the core's schema names (`dims` of a schema entry): vocabulary tokens,
 * learned positions, model columns d0…, feed-forward units h0…, input positions "0 AI".
 */
function labelsOf(dim, state, symbol) {
  const d = dims(state);
  switch (dim) {
    case 'vocab size': return state.vocab.slice();
    case 'context': return range(d.context, (i) => `pos ${i}`);
    case 'dModel': return dimLabels(d.C);
    case 'dFf': return unitLabels(d.F);
    case 'T': return positionLabels(state);
    default: return [symbol]; // "1": a vector's one row, named by its symbol
  }
}

/** The core's schema entry for `name` in `view` (see docs/API.md, schema). */
function entryOf(view, group, name) {
  const e = view.schema?.[group]?.find((x) => x.name === name);
  if (!e) throw new Error(`the core's schema has no ${group} entry ${name}`);
  return e;
}

/** Labels for a weight of `view`'s model: { rows, cols, vector, headColumns }. */
export function weightLabels(name, view) {
  const e = entryOf(view, 'weights', name);
  const rows = labelsOf(e.dims[0], view.state, WEIGHTS[name].text);
  return { rows, cols: labelsOf(e.dims[1], view.state, WEIGHTS[name].text), vector: e.vector, headColumns: e.headColumns };
}

/** Labels for an activation of `view`'s model (per head for scores and attention). */
export function activationLabels(name, view) {
  const e = entryOf(view, 'activations', name);
  return { rows: labelsOf(e.dims[0], view.state, name), cols: labelsOf(e.dims[1], view.state, name), perHead: e.perHead };
}

/** The names of `view`'s weights (or activations), in the core's order. */
export const namesOf = (view, group) => (view.schema?.[group] || []).map((e) => e.name);
