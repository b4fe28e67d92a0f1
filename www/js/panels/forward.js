// Stage 2, the forward pass: every weight editable in place, every activation
// shown, each step with its formula and a second line with the live numbers.
import { h } from '../dom.js';
import { tex } from '../format.js';
import { dims } from '../labels.js';
import { weightMatrix, activationMatrix, step } from './common.js';

const n = (v) => tex(v, 3, true);
const r = (v) => tex(v, 3, false);

/** "(a)(b) + (c)(d) + …" from pairs of numbers (at most four shown). */
export function products(pairs) {
  const shown = pairs.slice(0, 4).map(([a, b]) => `${n(a)} \\cdot ${n(b)}`);
  if (pairs.length > 4) shown.push('\\cdots');
  return shown.join(' + ');
}

export function mount(container, ctx) {
  const W = (name) => weightMatrix(ctx, name);
  const A = (name) => activationMatrix(ctx, name);
  const ln = (v) => Boolean(v.state.config.layerNorm);

  const steps = [
    step({
      title: 'Embeddings: X = E[ids] + P',
      text: 'Each input token picks its row of E; the row of P for its position is added.',
      formula: 'X_t = E_{\\text{id}_t} + P_t',
      live: (v) => {
        const id0 = v.state.vocab.indexOf(v.state.tokens[0]);
        const e = v.state.weights.embedding[id0][0];
        const p = v.state.weights.position[0][0];
        return `X_{0,0} = E_{${id0},0} + P_{0,0} = ${n(e)} + ${n(p)} = ${r(v.forward.x[0][0])}`;
      },
      items: [W('embedding'), W('position'), A('x')],
    }),
    step({
      title: 'Layer norm before attention',
      text: 'Each row is centred, scaled to unit variance, then multiplied by γ₁ and shifted by β₁.',
      formula: '\\tilde X_t = \\gamma_1 \\odot \\frac{X_t - \\mu_t}{\\sqrt{\\sigma_t^2 + 10^{-5}}} + \\beta_1',
      present: ln,
      items: [W('ln1Gain'), W('ln1Bias'), A('attnIn')],
    }),
    step({
      title: 'Queries, keys and values',
      text: 'X̃ is the attention input: X itself, or X after layer norm when that is switched on. Three weight matrices turn each position’s vector into a query (what it looks for), a key (what it offers) and a value (what it passes on).',
      formula: 'Q = \\tilde X W_Q,\\quad K = \\tilde X W_K,\\quad V = \\tilde X W_V',
      live: (v) => {
        const a = v.forward.attnIn[0];
        const pairs = Array.from(a, (ai, i) => [ai, v.state.weights.wq[i][0]]); // rows may be Float64Arrays
        return `Q_{0,0} = \\textstyle\\sum_i \\tilde X_{0,i}\\,(W_Q)_{i,0} = ${products(pairs)} = ${r(v.forward.q[0][0])}`;
      },
      items: [W('wq'), W('wk'), W('wv'), A('q'), A('k'), A('v')],
    }),
    step({
      title: 'Attention scores and weights, per head',
      text: 'A position may only look at itself and earlier positions: later entries are masked (hatched) and get weight 0. Each row of weights is a softmax of the scores and sums to 1.',
      formula: 'S^{(h)}_{t,s} = \\frac{Q^{(h)}_t \\cdot K^{(h)}_s}{\\sqrt{D}}\\ (s \\le t), \\qquad A^{(h)}_{t,s} = \\frac{e^{S^{(h)}_{t,s}}}{\\sum_{r \\le t} e^{S^{(h)}_{t,r}}}',
      live: (v) => {
        const d = dims(v.state);
        const t = d.T - 1;
        const qh = v.forward.q[t].slice(0, d.D);
        const kh = v.forward.k[0].slice(0, d.D);
        const s = v.forward.scores[0][t];
        const exps = Array.from(s.slice(0, t + 1), (x) => `e^{${n(x)}}`);
        const shownExps = exps.length > 4 ? [...exps.slice(0, 4), '\\cdots'] : exps;
        return `S^{(1)}_{${t},0} = \\frac{${products(Array.from(qh, (q, i) => [q, kh[i]]))}}{\\sqrt{${d.D}}} = ${r(s[0])}, \\qquad A^{(1)}_{${t},0} = \\frac{e^{${n(s[0])}}}{${shownExps.join(' + ')}} = ${r(v.forward.attention[0][t][0])}`;
      },
      items: [A('scores'), A('attention')],
    }),
    step({
      title: 'Attention output and the residual',
      text: 'Each head mixes the value vectors with its weights; W_O combines the heads, and the result is added back to X (the residual connection).',
      formula: 'Z^{(h)} = A^{(h)} V^{(h)},\\qquad O = Z\\,W_O,\\qquad X_1 = X + O',
      live: (v) => `X_{1;\\,0,0} = X_{0,0} + O_{0,0} = ${n(v.forward.x[0][0])} + ${n(v.forward.attnOut[0][0])} = ${r(v.forward.x1[0][0])}`,
      items: [A('z'), W('wo'), A('attnOut'), A('x1')],
    }),
    step({
      title: 'Layer norm before the feed-forward block',
      formula: '\\tilde X_{1,t} = \\gamma_2 \\odot \\frac{X_{1,t} - \\mu_t}{\\sqrt{\\sigma_t^2 + 10^{-5}}} + \\beta_2',
      present: (v) => ln(v) && v.state.config.dFf > 0,
      items: [W('ln2Gain'), W('ln2Bias'), A('mlpIn')],
    }),
    step({
      title: 'Feed-forward block and the second residual',
      text: 'Each position on its own: widen with W₁, apply the activation, narrow back with W₂, add to X₁.',
      formula: 'U = \\tilde X_1 W_1 + b_1,\\quad H = \\operatorname{act}(U),\\quad M = H\\,W_2 + b_2,\\quad X_2 = X_1 + M',
      live: (v) => {
        const act = v.state.config.activation === 'gelu' ? '\\operatorname{gelu}' : '\\operatorname{relu}';
        return `H_{0,0} = ${act}(U_{0,0}) = ${act}(${n(v.forward.u[0][0])}) = ${r(v.forward.hidden[0][0])}`;
      },
      present: (v) => v.state.config.dFf > 0,
      items: [W('w1'), W('b1'), A('u'), A('hidden'), W('w2'), W('b2'), A('mlpOut'), A('x2')],
    }),
    step({
      title: 'Final layer norm',
      formula: 'X_{f,t} = \\gamma_f \\odot \\frac{X_{2,t} - \\mu_t}{\\sqrt{\\sigma_t^2 + 10^{-5}}} + \\beta_f',
      present: ln,
      items: [W('lnfGain'), W('lnfBias'), A('xf')],
    }),
    step({
      title: 'Logits and probabilities',
      text: 'The unembedding gives one score (logit) per vocabulary token; a softmax over each row turns them into probabilities for the next token.',
      formula: '\\text{logits} = X_f\\,W_U, \\qquad \\hat P_{t,j} = \\frac{e^{\\text{logits}_{t,j}}}{\\sum_k e^{\\text{logits}_{t,k}}}',
      live: (v) => {
        const row = v.forward.logits[0];
        const j = v.loss?.targets?.[0] ?? 0;
        const exps = Array.from(row.slice(0, 5), (x) => `e^{${n(x)}}`);
        const shown = exps.length > 4 ? [...exps.slice(0, 4), '\\cdots'] : exps;
        return `\\hat P_{0,${j}} = \\frac{e^{${n(row[j])}}}{${shown.join(' + ')}} = ${r(v.forward.probs[0][j])}`;
      },
      items: [W('unembedding'), A('logits'), A('probs')],
    }),
  ];

  container.append(
    h('h3', { class: 'panel-title', text: 'Forward pass' }),
    h('p', { class: 'panel-help', text: 'Weights (white cells) are editable: type a number and press Enter, use the arrow keys to move, Escape to cancel, Alt+↑/↓ or drag sideways to nudge. Hover or focus any number for its full precision.' }),
    ...steps.map((s) => s.el),
  );
  return {
    update(view) {
      if (!view.forward) return;
      for (const s of steps) s.update(view);
    },
  };
}
