// @ts-check
// The article's notation: one table of every symbol the page writes, in captions (plain Unicode
// text), in formulas (LaTeX) and in the notation legend. Panels, the derivation dialog and the
// exports take their names from here, so a symbol means one thing everywhere (tests/notation.test.mjs
// checks that no two entries share a symbol and that no other module spells one out itself).
//
// Conventions: a sequence is a matrix with one row per position; rows t, s, r are positions,
// i, j are columns, k runs over the vocabulary. Positions, columns and heads count from 0.

/**
 * Weights in reading order (the legend's): key -> { text, tex, meaning }. The keys are the core's
 * names (its registry, crate/src/weights.rs; tests/notation.test.mjs checks they match).
 */
export const WEIGHTS = {
  embedding: { text: 'E', tex: 'E', meaning: 'Token embeddings', shape: 'n_vocab × d_model' },
  position: { text: 'P', tex: 'P', meaning: 'Position embeddings', shape: 'n_ctx × d_model' },
  ln1Gain: { text: 'γ₁', tex: '\\gamma_1', meaning: 'Layer norm 1 gain', shape: 'd_model' },
  ln1Bias: { text: 'β₁', tex: '\\beta_1', meaning: 'Layer norm 1 bias', shape: 'd_model' },
  wq: { text: 'W_Q', tex: 'W_Q', meaning: 'Query weights', shape: 'd_model × d_model' },
  wk: { text: 'W_K', tex: 'W_K', meaning: 'Key weights', shape: 'd_model × d_model' },
  wv: { text: 'W_V', tex: 'W_V', meaning: 'Value weights', shape: 'd_model × d_model' },
  wo: { text: 'W_O', tex: 'W_O', meaning: 'Output weights', shape: 'd_model × d_model' },
  ln2Gain: { text: 'γ₂', tex: '\\gamma_2', meaning: 'Layer norm 2 gain', shape: 'd_model' },
  ln2Bias: { text: 'β₂', tex: '\\beta_2', meaning: 'Layer norm 2 bias', shape: 'd_model' },
  w1: { text: 'W₁', tex: 'W_1', meaning: 'Feed-forward weights (in)', shape: 'd_model × d_ff' },
  b1: { text: 'b₁', tex: 'b_1', meaning: 'Feed-forward bias (in)', shape: 'd_ff' },
  w2: { text: 'W₂', tex: 'W_2', meaning: 'Feed-forward weights (out)', shape: 'd_ff × d_model' },
  b2: { text: 'b₂', tex: 'b_2', meaning: 'Feed-forward bias (out)', shape: 'd_model' },
  lnfGain: { text: 'γ_f', tex: '\\gamma_f', meaning: 'Final layer norm gain', shape: 'd_model' },
  lnfBias: { text: 'β_f', tex: '\\beta_f', meaning: 'Final layer norm bias', shape: 'd_model' },
  unembedding: { text: 'W_U', tex: 'W_U', meaning: 'Unembedding', shape: 'd_model × n_vocab' },
};

/** Activations of the forward pass, in the order they are computed. */
export const ACTIVATIONS = {
  x: { text: 'X', tex: 'X', meaning: 'Input to the block: embeddings plus positions', shape: 'T × d_model' },
  attnIn: { text: 'X̃', tex: '\\tilde X', meaning: 'Attention input: X, after layer norm 1 when it is on', shape: 'T × d_model' },
  q: { text: 'Q', tex: 'Q', meaning: 'Queries', shape: 'T × d_model' },
  k: { text: 'K', tex: 'K', meaning: 'Keys', shape: 'T × d_model' },
  v: { text: 'V', tex: 'V', meaning: 'Values', shape: 'T × d_model' },
  scores: { text: 'S', tex: 'S', meaning: 'Attention scores', shape: 'per head, T × T' },
  attention: { text: 'A', tex: 'A', meaning: 'Attention weights', shape: 'per head, T × T' },
  z: { text: 'Z', tex: 'Z', meaning: 'Attention heads’ output', shape: 'T × d_model' },
  attnOut: { text: 'O', tex: 'O', meaning: 'Attention output: Z W_O, the heads combined', shape: 'T × d_model' },
  x1: { text: 'X₁', tex: 'X_1', meaning: 'After the attention residual', shape: 'T × d_model' },
  mlpIn: { text: 'X̃₁', tex: '\\tilde X_1', meaning: 'Feed-forward input: X₁, after layer norm 2 when it is on', shape: 'T × d_model' },
  u: { text: 'U', tex: 'U', meaning: 'Feed-forward pre-activation', shape: 'T × d_ff' },
  hidden: { text: 'H', tex: 'H', meaning: 'Feed-forward hidden layer: act(U)', shape: 'T × d_ff' },
  mlpOut: { text: 'M', tex: 'M', meaning: 'Feed-forward output', shape: 'T × d_model' },
  x2: { text: 'X₂', tex: 'X_2', meaning: 'After the feed-forward residual', shape: 'T × d_model' },
  xf: { text: 'X_f', tex: 'X_f', meaning: 'Final representation: X₂, after the final layer norm when it is on', shape: 'T × d_model' },
  logits: { text: 'logits', tex: '\\text{logits}', meaning: 'Logits: one score per vocabulary token', shape: 'T × n_vocab' },
  probs: { text: 'P̂', tex: '\\hat P', meaning: 'Probabilities of the next token', shape: 'T × n_vocab' },
};

/** Every other symbol a formula or caption uses. */
export const OTHERS = {
  target: { text: 'Y', tex: 'Y', meaning: 'Targets, one one-hot row per position' },
  targetId: { text: 'y_t', tex: 'y_t', meaning: 'Vocabulary index of position t’s target' },
  tokenId: { text: 'id_t', tex: '\\text{id}_t', meaning: 'Vocabulary index of the token at position t' },
  loss: { text: 'L', tex: 'L', meaning: 'Loss: mean cross-entropy over the positions with a target' },
  count: { text: 'N', tex: 'N', meaning: 'Number of positions that have a target' },
  dModel: { text: 'd_model', tex: 'd_{\\text{model}}', meaning: 'Width of every vector the block passes on' },
  dFf: { text: 'd_ff', tex: 'd_{\\text{ff}}', meaning: 'Width of the feed-forward hidden layer (0: no feed-forward block)' },
  vocabSize: { text: 'n_vocab', tex: 'n_{\\text{vocab}}', meaning: 'Number of tokens in the vocabulary' },
  context: { text: 'n_ctx', tex: 'n_{\\text{ctx}}', meaning: 'Context length: the most tokens the model can read' },
  positions: { text: 'T', tex: 'T', meaning: 'Number of input tokens' },
  headSize: { text: 'D', tex: 'D', meaning: 'Size of one attention head: d_model / heads' },
  head: { text: '(h)', tex: '^{(h)}', meaning: 'Head h (from 0), as a superscript: S⁽⁰⁾ is head 0’s scores' },
  mean: { text: 'μ_t', tex: '\\mu_t', meaning: 'Mean of row t (layer norm)' },
  std: { text: 'σ_t', tex: '\\sigma_t', meaning: 'Standard deviation of row t, with 10⁻⁵ added to its variance (layer norm)' },
  normalised: { text: 'x̂_t', tex: '\\hat x_t', meaning: 'Row t centred and scaled (layer norm)' },
  lnUpstream: { text: 'φ_t', tex: '\\varphi_t', meaning: 'The gain times the gradient arriving at a layer norm’s output (back propagation)' },
  activation: { text: 'act', tex: '\\operatorname{act}', meaning: 'The feed-forward activation: ReLU or GELU' },
  weight: { text: 'W', tex: 'W', meaning: 'Any weight matrix, in the update rule' },
  updated: { text: 'W′', tex: "W'", meaning: 'The same weight after the step' },
  learningRate: { text: 'η', tex: '\\eta', meaning: 'Learning rate' },
  gradient: { text: 'g', tex: 'g', meaning: 'A weight’s gradient ∂L/∂W, in Adam’s update' },
  adamM: { text: 'm', tex: 'm', meaning: 'Adam’s running mean of the gradient' },
  adamV: { text: 'v', tex: 'v', meaning: 'Adam’s running mean of the squared gradient' },
  adamBeta1: { text: 'β_m', tex: '\\beta_m', meaning: 'Adam’s decay rate for m (PyTorch’s betas[0])' },
  adamBeta2: { text: 'β_v', tex: '\\beta_v', meaning: 'Adam’s decay rate for v (PyTorch’s betas[1])' },
  adamEps: { text: 'ε', tex: '\\varepsilon', meaning: 'Adam’s small constant in the denominator' },
  adamStep: { text: 'τ', tex: '\\tau', meaning: 'Adam’s step count, from 1' },
  nudge: { text: 'δ', tex: '\\delta', meaning: 'The small nudge of a finite-difference check' },
};

export const SYMBOLS = { ...WEIGHTS, ...ACTIVATIONS, ...OTHERS };

/** LaTeX of a symbol by key; an unknown key is a programming error, so it throws. */
export function sym(key) {
  const s = SYMBOLS[key];
  if (!s) throw new Error(`notation: no symbol "${key}"`);
  return s.tex;
}

/** Plain text of a symbol by key. */
export function symText(key) {
  const s = SYMBOLS[key];
  if (!s) throw new Error(`notation: no symbol "${key}"`);
  return s.text;
}

/**
 * A tagged template of raw LaTeX (single backslashes) whose @key placeholders become the
 * symbols' LaTeX: tx`@q = @attnIn\,@wq` is Q = \tilde X\,W_Q.
 */
export function tx(strings, ...values) {
  const raw = String.raw(strings, ...values);
  // X_1 followed by _t must read {X_1}_t: a second subscript is a LaTeX error.
  return raw.replace(/@([A-Za-z][A-Za-z0-9]*)/g, (_, key) => (/[_^]/.test(sym(key)) ? `{${sym(key)}}` : sym(key)));
}

/** ∂L/∂(LaTeX) */
export const dL = (latex) => `\\frac{\\partial ${sym('loss')}}{\\partial ${latex}}`;

/** ∂L/∂ before a symbol's plain text, for captions. */
export const dLText = (key) => `∂${symText('loss')}/∂${symText(key)}`;

/** A symbol with an entry index, in LaTeX: (W_Q)_{0,1}, X̃_{0,1}; head as a superscript. */
export function entry(key, index, head = null) {
  const base = sym(key);
  const wrapped = /[_^]/.test(base) ? `(${base})` : base;
  return `${wrapped}${head == null ? '' : `^{(${head})}`}_{${index.join(',')}}`;
}

/** A caption's title for a weight or activation: "Queries Q", "Final representation X_f". */
export function titleOf(key) {
  const s = SYMBOLS[key];
  const name = s.meaning.split(': ')[0];
  return name.toLowerCase() === s.text.toLowerCase() ? name : `${name} ${s.text}`;
}
