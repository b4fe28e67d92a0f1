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
export const WEIGHT_ORDER = Object.keys(WEIGHTS);
export const ACTIVATION_INFO = info(ACTIVATIONS);

/** Labels for a weight: { rows, cols, vector }. */
export function weightLabels(name, state) {
  const d = dims(state);
  const dl = dimLabels(d.C);
  switch (name) {
    case 'embedding': return { rows: state.vocab.slice(), cols: dl };
    case 'position': return { rows: range(d.context, (i) => `pos ${i}`), cols: dl };
    case 'wq': case 'wk': case 'wv': case 'wo': return { rows: dl, cols: dl };
    case 'w1': return { rows: dl, cols: unitLabels(d.F) };
    case 'b1': return { rows: [WEIGHTS.b1.text], cols: unitLabels(d.F), vector: true };
    case 'w2': return { rows: unitLabels(d.F), cols: dl };
    case 'b2': return { rows: [WEIGHTS.b2.text], cols: dl, vector: true };
    case 'unembedding': return { rows: dl, cols: state.vocab.slice() };
    default: return { rows: [WEIGHTS[name].text], cols: dl, vector: true }; // layer norm gains and biases
  }
}

/** Labels for an activation (per head for scores/attention). */
export function activationLabels(name, state) {
  const d = dims(state);
  const pos = positionLabels(state);
  switch (name) {
    case 'u': case 'hidden': return { rows: pos, cols: unitLabels(d.F) };
    case 'logits': case 'probs': return { rows: pos, cols: state.vocab.slice() };
    case 'scores': case 'attention': return { rows: pos, cols: pos, perHead: true };
    default: return { rows: pos, cols: dimLabels(d.C) };
  }
}
