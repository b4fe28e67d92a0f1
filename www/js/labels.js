// Row/column labels and human names for every matrix in the state and the
// forward pass. Token names appear as labels (text only, never markup).

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

export function dimLabels(n) { return range(n, (i) => `d${i}`); }
export function unitLabels(n) { return range(n, (i) => `h${i}`); }
export function positionLabels(state) { return state.tokens.map((tok, t) => `${t} ${tok}`); }

/** Display names (plain text) and LaTeX symbols (no user text) for each weight. */
export const WEIGHT_INFO = {
  embedding: { title: 'Token embeddings E', sym: 'E', tex: 'E' },
  position: { title: 'Position embeddings P', sym: 'P', tex: 'P' },
  ln1Gain: { title: 'Layer norm 1 gain γ₁', sym: 'γ₁', tex: '\\gamma_1' },
  ln1Bias: { title: 'Layer norm 1 bias β₁', sym: 'β₁', tex: '\\beta_1' },
  wq: { title: 'Query weights W_Q', sym: 'W_Q', tex: 'W_Q' },
  wk: { title: 'Key weights W_K', sym: 'W_K', tex: 'W_K' },
  wv: { title: 'Value weights W_V', sym: 'W_V', tex: 'W_V' },
  wo: { title: 'Output weights W_O', sym: 'W_O', tex: 'W_O' },
  ln2Gain: { title: 'Layer norm 2 gain γ₂', sym: 'γ₂', tex: '\\gamma_2' },
  ln2Bias: { title: 'Layer norm 2 bias β₂', sym: 'β₂', tex: '\\beta_2' },
  w1: { title: 'Feed-forward weights W₁', sym: 'W₁', tex: 'W_1' },
  b1: { title: 'Feed-forward bias b₁', sym: 'b₁', tex: 'b_1' },
  w2: { title: 'Feed-forward weights W₂', sym: 'W₂', tex: 'W_2' },
  b2: { title: 'Feed-forward bias b₂', sym: 'b₂', tex: 'b_2' },
  lnfGain: { title: 'Final layer norm gain γ_f', sym: 'γ_f', tex: '\\gamma_f' },
  lnfBias: { title: 'Final layer norm bias β_f', sym: 'β_f', tex: '\\beta_f' },
  unembedding: { title: 'Unembedding W_U', sym: 'W_U', tex: 'W_U' },
};

export const WEIGHT_ORDER = ['embedding', 'position', 'ln1Gain', 'ln1Bias', 'wq', 'wk', 'wv', 'wo',
  'ln2Gain', 'ln2Bias', 'w1', 'b1', 'w2', 'b2', 'lnfGain', 'lnfBias', 'unembedding'];

export const ACTIVATION_INFO = {
  x: { title: 'Input to the block x', sym: 'X', tex: 'X' },
  attnIn: { title: 'Attention input (after layer norm 1)', sym: 'A_in', tex: 'A_{\\text{in}}' },
  q: { title: 'Queries Q', sym: 'Q', tex: 'Q' },
  k: { title: 'Keys K', sym: 'K', tex: 'K' },
  v: { title: 'Values V', sym: 'V', tex: 'V' },
  scores: { title: 'Attention scores S', sym: 'S', tex: 'S' },
  attention: { title: 'Attention weights A', sym: 'A', tex: 'A' },
  z: { title: 'Attention heads output Z', sym: 'Z', tex: 'Z' },
  attnOut: { title: 'Attention output Z·W_O', sym: 'O', tex: 'O' },
  x1: { title: 'After the attention residual x₁', sym: 'X₁', tex: 'X_1' },
  mlpIn: { title: 'Feed-forward input (after layer norm 2)', sym: 'M_in', tex: 'M_{\\text{in}}' },
  u: { title: 'Feed-forward pre-activation U', sym: 'U', tex: 'U' },
  hidden: { title: 'Feed-forward hidden layer H = act(U)', sym: 'H', tex: 'H' },
  mlpOut: { title: 'Feed-forward output', sym: 'M', tex: 'M' },
  x2: { title: 'After the feed-forward residual x₂', sym: 'X₂', tex: 'X_2' },
  xf: { title: 'Final representation (after final layer norm)', sym: 'X_f', tex: 'X_f' },
  logits: { title: 'Logits', sym: 'logits', tex: '\\text{logits}' },
  probs: { title: 'Probabilities P', sym: 'P̂', tex: '\\hat{P}' },
};

/** Labels for a weight: { rows, cols, vector }. */
export function weightLabels(name, state) {
  const d = dims(state);
  const dl = dimLabels(d.C);
  switch (name) {
    case 'embedding': return { rows: state.vocab.slice(), cols: dl };
    case 'position': return { rows: range(d.context, (i) => `pos ${i}`), cols: dl };
    case 'wq': case 'wk': case 'wv': case 'wo': return { rows: dl, cols: dl };
    case 'w1': return { rows: dl, cols: unitLabels(d.F) };
    case 'b1': return { rows: ['b₁'], cols: unitLabels(d.F), vector: true };
    case 'w2': return { rows: unitLabels(d.F), cols: dl };
    case 'b2': return { rows: ['b₂'], cols: dl, vector: true };
    case 'unembedding': return { rows: dl, cols: state.vocab.slice() };
    default: return { rows: [name.endsWith('Gain') ? 'γ' : 'β'], cols: dl, vector: true };
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
