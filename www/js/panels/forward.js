// @ts-check
// Stage 2, the forward pass: every weight editable in place, every activation
// shown, each step with its formula and a second line with the live numbers.
import { h } from '../dom.js';
import { tex } from '../format.js';
import { dims } from '../labels.js';
import { entry, tx } from '../notation.js';
import { weightMatrix, activationMatrix, step } from './common.js';
import { attachProvenance } from '../provenance.js';

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

  const t = (key) => `@${key}`; // a symbol in a step's title or prose (common.js step)
  const steps = [
    step({
      slot: 'forward-embed',
      title: `Embeddings: ${t('x')} = ${t('embedding')}[ids] + ${t('position')}`,
      text: `Each input token picks its row of ${t('embedding')} (the token embeddings); the row of ${t('position')} (the position embeddings) for its position is added.`,
      formula: tx`@x_t = @embedding_{@tokenId} + @position_t`,
      live: (v) => {
        const id0 = v.state.vocab.indexOf(v.state.tokens[0]);
        const e = v.state.weights.embedding[id0][0];
        const p = v.state.weights.position[0][0];
        return `${entry('x', [0, 0])} = ${entry('embedding', [id0, 0])} + ${entry('position', [0, 0])} = ${n(e)} + ${n(p)} = ${r(v.forward.x[0][0])}`;
      },
      items: [W('embedding'), W('position'), A('x')],
    }),
    step({
      slot: 'forward-ln1',
      title: 'Layer norm before attention',
      text: `Each row of ${t('x')} is centred, scaled to unit variance, then multiplied by ${t('ln1Gain')} and shifted by ${t('ln1Bias')}: the result is ${t('attnIn')}.`,
      formula: tx`@attnIn_t = @ln1Gain \odot \frac{@x_t - @mean}{\sqrt{@std^2}} + @ln1Bias, \quad @std^2 = \operatorname{var}(@x_t) + 10^{-5}`,
      present: ln,
      items: [W('ln1Gain'), W('ln1Bias'), A('attnIn')],
    }),
    step({
      slot: 'forward-qkv',
      title: 'Queries, keys and values',
      text: `${t('attnIn')} is the attention input: ${t('x')} itself, or ${t('x')} after layer norm when that is switched on. Three weight matrices turn each position’s vector into a query (what it looks for), a key (what it offers) and a value (what it passes on).`,
      formula: tx`@q = @attnIn @wq,\quad @k = @attnIn @wk,\quad @v = @attnIn @wv`,
      live: (v) => {
        const a = v.forward.attnIn[0];
        const pairs = Array.from(a, (ai, i) => [ai, v.state.weights.wq[i][0]]); // rows may be Float64Arrays
        return `${entry('q', [0, 0])} = \\textstyle\\sum_i ${entry('attnIn', [0, 'i'])}\\,${entry('wq', ['i', 0])} = ${products(pairs)} = ${r(v.forward.q[0][0])}`;
      },
      items: [W('wq'), W('wk'), W('wv'), A('q'), A('k'), A('v')],
    }),
    step({
      slot: 'forward-scores',
      title: 'Attention scores and weights, per head',
      text: `A position may only look at itself and earlier positions: later entries are masked (hatched) and get weight 0. Each row of weights is a softmax of the scores and sums to 1. Heads are counted from 0, like positions; ${t('headSize')} is the size of one head.`,
      formula: tx`@scores^{(h)}_{t,s} = \frac{@q^{(h)}_t \cdot @k^{(h)}_s}{\sqrt{@headSize}}\ (s \le t), \qquad @attention^{(h)}_{t,s} = \frac{e^{@scores^{(h)}_{t,s}}}{\sum_{r \le t} e^{@scores^{(h)}_{t,r}}}`,
      live: (v) => {
        const d = dims(v.state);
        const last = d.T - 1;
        const qh = v.forward.q[last].slice(0, d.D);
        const kh = v.forward.k[0].slice(0, d.D);
        const s = v.forward.scores[0][last];
        const exps = Array.from(s.slice(0, last + 1), (x) => `e^{${n(x)}}`);
        const shownExps = exps.length > 4 ? [...exps.slice(0, 4), '\\cdots'] : exps;
        return `${entry('scores', [last, 0], 0)} = \\frac{${products(Array.from(qh, (q, i) => [q, kh[i]]))}}{\\sqrt{${d.D}}} = ${r(s[0])}, \\qquad ${entry('attention', [last, 0], 0)} = \\frac{e^{${n(s[0])}}}{${shownExps.join(' + ')}} = ${r(v.forward.attention[0][last][0])}`;
      },
      items: [A('scores'), A('attention')],
    }),
    step({
      slot: 'forward-attn-out',
      title: 'Attention output and the residual',
      text: `Each head mixes the value vectors with its weights; ${t('wo')} combines the heads into ${t('attnOut')}, and the result is added back to ${t('x')} (the residual connection).`,
      formula: tx`@z^{(h)} = @attention^{(h)} @v^{(h)},\qquad @attnOut = @z\,@wo,\qquad @x1 = @x + @attnOut`,
      live: (v) => `${entry('x1', [0, 0])} = ${entry('x', [0, 0])} + ${entry('attnOut', [0, 0])} = ${n(v.forward.x[0][0])} + ${n(v.forward.attnOut[0][0])} = ${r(v.forward.x1[0][0])}`,
      items: [A('z'), W('wo'), A('attnOut'), A('x1')],
    }),
    step({
      slot: 'forward-ln2',
      title: 'Layer norm before the feed-forward block',
      text: `The same normalisation, on ${t('x1')}, with its own ${t('ln2Gain')} and ${t('ln2Bias')}: the result is ${t('mlpIn')}.`,
      formula: tx`@mlpIn_t = @ln2Gain \odot \frac{@x1_t - @mean}{\sqrt{@std^2}} + @ln2Bias`,
      present: (v) => ln(v) && v.state.config.dFf > 0,
      items: [W('ln2Gain'), W('ln2Bias'), A('mlpIn')],
    }),
    step({
      slot: 'forward-ff',
      title: 'Feed-forward block and the second residual',
      text: `Each position on its own: widen ${t('mlpIn')} with ${t('w1')}, apply the activation, narrow back with ${t('w2')}, add to ${t('x1')}. Without layer norm, ${t('mlpIn')} is ${t('x1')} itself.`,
      formula: tx`@u = @mlpIn @w1 + @b1,\quad @hidden = @activation(@u),\quad @mlpOut = @hidden\,@w2 + @b2,\quad @x2 = @x1 + @mlpOut`,
      live: (v) => {
        const act = v.state.config.activation === 'gelu' ? '\\operatorname{gelu}' : '\\operatorname{relu}';
        return `${entry('hidden', [0, 0])} = ${act}(${entry('u', [0, 0])}) = ${act}(${n(v.forward.u[0][0])}) = ${r(v.forward.hidden[0][0])}`;
      },
      present: (v) => v.state.config.dFf > 0,
      items: [W('w1'), W('b1'), A('u'), A('hidden'), W('w2'), W('b2'), A('mlpOut'), A('x2')],
    }),
    step({
      slot: 'forward-lnf',
      title: 'Final layer norm',
      text: `${t('xf')}, the final representation of each position, is ${t('x2')} normalised once more with ${t('lnfGain')} and ${t('lnfBias')}; without layer norm it is ${t('x2')} itself.`,
      formula: tx`@xf_t = @lnfGain \odot \frac{@x2_t - @mean}{\sqrt{@std^2}} + @lnfBias`,
      present: ln,
      items: [W('lnfGain'), W('lnfBias'), A('xf')],
    }),
    step({
      slot: 'forward-logits',
      title: 'Logits and probabilities',
      text: `The unembedding ${t('unembedding')} gives one score (logit) per vocabulary token from the final representation ${t('xf')} (${t('x2')} itself when layer norm is off); a softmax over each row turns them into the probabilities ${t('probs')} of the next token.`,
      formula: tx`@logits = @xf\,@unembedding, \qquad @probs_{t,j} = \frac{e^{@logits_{t,j}}}{\sum_k e^{@logits_{t,k}}}`,
      live: (v) => {
        const row = v.forward.logits[0];
        const j = v.loss?.targets?.[0] ?? 0;
        const exps = Array.from(row.slice(0, 5), (x) => `e^{${n(x)}}`);
        const shown = exps.length > 4 ? [...exps.slice(0, 4), '\\cdots'] : exps;
        return `${entry('probs', [0, j])} = \\frac{e^{${n(row[j])}}}{${shown.join(' + ')}} = ${r(v.forward.probs[0][j])}`;
      },
      items: [W('unembedding'), A('logits'), A('probs')],
    }),
  ];

  container.append(
    h('h3', { class: 'panel-title', text: 'Forward pass' }),
    h('p', { class: 'panel-help', text: 'Weights (white cells) are editable: type a number and press Enter, use the arrow keys to move, Escape to cancel, Alt+↑/↓ or drag sideways to nudge. Hover or focus any number for its full precision; on a computed number, the numbers it comes from are outlined. Colour shows size on each matrix’s own scale, given under it (white is 0, full colour the end of the range); a number that prints as 0.000 stays white, however it compares with the rest.' }),
    ...steps.map((s) => s.el),
  );
  attachProvenance(container, () => ctx.store.view.state);
  return {
    update(view) {
      if (!view.forward) return;
      for (const s of steps) s.update(view);
    },
  };
}
