// @ts-check
// Stage 5, back propagation: the gradient of every activation and weight, walking
// backwards from ∂L/∂logits = (P̂ − Y)/N to the embeddings (symbols from notation.js). Every gradient comes
// from the core; clicking a cell opens its derivation and finite-difference check.
import { h } from '../dom.js';
import { tex } from '../format.js';
import { gradientMatrix, step, whyEmpty, noTargetMessage } from './common.js';
import { dL, entry, sym, tx } from '../notation.js';
import { products } from './forward.js';

const n = (v) => tex(v, 3, true);
const r = (v) => tex(v, 3, false);
const lines = (...rows) => `\\begin{aligned}${rows.join('\\\\[2pt]')}\\end{aligned}`;
const t = (key) => `@${key}`; // a symbol in a step's title or prose (common.js step)
// Back through a layer norm whose output is `out`, input `inp`, gain `g` and bias `b` (keys).
const lnRows = (out, inp, g, b) => [
  `${dL(sym(g))} &= \\textstyle\\sum_t ${dL(`{${sym(out)}}_t`)} \\odot ${sym('normalised')}, \\qquad ${dL(sym(b))} = \\textstyle\\sum_t ${dL(`{${sym(out)}}_t`)}`,
  `${dL(`{${sym(inp)}}_t`)} &= \\frac{1}{${sym('std')}}\\Big(${sym('lnUpstream')} - \\overline{${sym('lnUpstream')}} - ${sym('normalised')}\\,\\overline{${sym('lnUpstream')} \\odot ${sym('normalised')}}\\Big), \\quad ${sym('lnUpstream')} = ${sym(g)} \\odot ${dL(`{${sym(out)}}_t`)}`,
];
const lnBack = (...keys) => lines(...lnRows(...keys));
const d = (key) => dL(sym(key));

export function mount(container, ctx) {
  const G = (name) => gradientMatrix(ctx, 'weights', name);
  const GA = (name) => gradientMatrix(ctx, 'activations', name);
  const ln = (v) => Boolean(v.state.config.layerNorm);
  const ff = (v) => v.state.config.dFf > 0;
  const why = whyEmpty();

  const steps = [
    step({
      slot: 'backward-logits',
      title: `Start at the output: ∂${t('loss')}/∂${t('logits')}`,
      text: `Softmax followed by cross-entropy has a simple gradient: the predicted probabilities ${t('probs')} minus the one-hot target ${t('target')}, divided by ${t('count')}. Rows without a target are zero.`,
      formula: `${d('logits')} = \\frac{1}{${sym('count')}}\\left(${sym('probs')} - ${sym('target')}\\right)`,
      live: (v) => {
        const j = v.loss.targets[0];
        if (j == null) return null;
        return `${dL(`${sym('logits')}_{0,${j}}`)} = \\frac{${entry('probs', [0, j])} - ${entry('target', [0, j])}}{${sym('count')}} = \\frac{${n(v.forward.probs[0][j])} - 1}{${v.loss.count}} = ${r(v.backward.activations.logits[0][j])}`;
      },
      items: [GA('logits')],
    }),
    step({
      slot: 'backward-unembed',
      title: 'Unembedding',
      text: `Since ${t('logits')} = ${t('xf')} ${t('unembedding')}, the gradient of ${t('unembedding')} pairs each final vector with each logit gradient, and the gradient flows back to ${t('xf')} through ${t('unembedding')} transposed.`,
      formula: `${d('unembedding')} = ${tx`@xf^{\top}`}\\, ${d('logits')}, \\qquad ${d('xf')} = ${d('logits')}\\, ${tx`@unembedding^{\top}`}`,
      live: (v) => {
        const pairs = v.forward.xf.map((row, i) => [row[0], v.backward.activations.logits[i][0]]);
        return `${dL(entry('unembedding', [0, 0]))} = \\textstyle\\sum_t ${entry('xf', ['t', 0])}\\, ${dL(`${sym('logits')}_{t,0}`)} = ${products(pairs)} = ${r(v.backward.weights.unembedding[0][0])}`;
      },
      items: [G('unembedding'), GA('xf')],
    }),
    step({
      slot: 'backward-lnf',
      title: 'Final layer norm',
      formula: (v) => (ln(v) ? lnBack('xf', 'x2', 'lnfGain', 'lnfBias')
        : `\\text{No layer norm: } ${tx`@xf = @x2`}, \\text{ so } ${d('x2')} = ${d('xf')}`),
      items: [G('lnfGain'), G('lnfBias'), GA('x2')],
    }),
    step({
      slot: 'backward-ff',
      title: 'Feed-forward block',
      text: `Backwards through ${t('w2')}, the activation (its slope at each entry of ${t('u')}), and ${t('w1')}. The biases collect the gradient of every position.`,
      formula: lines(
        `${d('mlpOut')} &= ${d('x2')}, & ${d('w2')} &= ${tx`@hidden^{\top}`} ${d('mlpOut')}, & ${d('b2')} &= \\textstyle\\sum_t ${dL(`${sym('mlpOut')}_t`)}`,
        `${d('hidden')} &= ${d('mlpOut')}\\, ${tx`@w2^{\top}`}, & ${d('u')} &= ${d('hidden')} \\odot ${tx`@activation'(@u)`}, & ${d('w1')} &= ${tx`@mlpIn^{\top}`} ${d('u')}`,
        `${d('b1')} &= \\textstyle\\sum_t ${dL(`${sym('u')}_t`)}, & ${d('mlpIn')} &= ${d('u')}\\, ${tx`@w1^{\top}`} & &`,
      ),
      present: ff,
      items: [GA('mlpOut'), G('w2'), G('b2'), GA('hidden'), GA('u'), G('w1'), G('b1'), GA('mlpIn')],
    }),
    step({
      slot: 'backward-ln2',
      title: 'Layer norm before the feed-forward block',
      formula: lnBack('mlpIn', 'x1', 'ln2Gain', 'ln2Bias'),
      present: (v) => ln(v) && ff(v),
      items: [G('ln2Gain'), G('ln2Bias')],
    }),
    step({
      slot: 'backward-x1',
      title: `The residual: two paths meet at ${t('x1')}`,
      text: `${t('x1')} reaches the loss directly (through the residual) and through the feed-forward block; the chain rule adds the two.`,
      formula: (v) => {
        if (!ff(v)) return `\\text{No feed-forward block: } ${tx`@x2 = @x1`}, \\text{ so } ${d('x1')} = ${d('x2')}`;
        return ln(v)
          ? `${d('x1')} = ${d('x2')} + ${d('mlpIn')}\\,\\frac{\\partial ${sym('mlpIn')}}{\\partial ${sym('x1')}}`
          : `${d('x1')} = ${d('x2')} + ${d('mlpIn')} \\qquad (${tx`@mlpIn = @x1`} \\text{ without layer norm})`;
      },
      items: [GA('x1')],
    }),
    step({
      slot: 'backward-attn-out',
      title: 'Attention output',
      formula: `${d('attnOut')} = ${d('x1')}, \\qquad ${d('wo')} = ${tx`@z^{\top}`} ${d('attnOut')}, \\qquad ${d('z')} = ${d('attnOut')}\\, ${tx`@wo^{\top}`}`,
      items: [GA('attnOut'), G('wo'), GA('z')],
    }),
    step({
      slot: 'backward-attention',
      title: 'Through the attention weights, per head',
      text: 'The softmax couples the entries of a row: raising one weight lowers the others. Masked entries were never used, so they have no gradient.',
      formula: lines(
        `${dL(tx`@attention^{(h)}`)} &= ${dL(tx`@z^{(h)}`)}\\, ${tx`@v^{(h)\top}`}`,
        `${dL(tx`@scores^{(h)}_{t,s}`)} &= ${tx`@attention^{(h)}_{t,s}`}\\Big(${dL(tx`@attention^{(h)}_{t,s}`)} - \\textstyle\\sum_{r \\le t} ${tx`@attention^{(h)}_{t,r}`}\\, ${dL(tx`@attention^{(h)}_{t,r}`)}\\Big)`,
      ),
      items: [GA('attention'), GA('scores')],
    }),
    step({
      slot: 'backward-qkv',
      title: 'Queries, keys and values',
      text: 'Through the scores to the queries and keys, and through the weighted sum to the values. When only the first position has a target, as in the article’s example, the queries and keys get no gradient at all: position 0 can only attend to itself, so its attention weight is 1 whatever the scores are.',
      formula: lines(
        `${dL(tx`@q^{(h)}`)} &= \\frac{1}{\\sqrt{${sym('headSize')}}}\\, ${dL(tx`@scores^{(h)}`)}\\, ${tx`@k^{(h)}`}, \\quad ${dL(tx`@k^{(h)}`)} = \\frac{1}{\\sqrt{${sym('headSize')}}}\\Big(${dL(tx`@scores^{(h)}`)}\\Big)^{\\!\\top} ${tx`@q^{(h)}`}, \\quad ${dL(tx`@v^{(h)}`)} = ${tx`@attention^{(h)\top}`}\\, ${dL(tx`@z^{(h)}`)}`,
        `${d('wq')} &= ${tx`@attnIn^{\top}`} ${d('q')}, \\qquad ${d('wk')} = ${tx`@attnIn^{\top}`} ${d('k')}, \\qquad ${d('wv')} = ${tx`@attnIn^{\top}`} ${d('v')}`,
      ),
      items: [GA('q'), GA('k'), GA('v'), G('wq'), G('wk'), G('wv')],
    }),
    step({
      slot: 'backward-attn-in',
      title: 'Into the attention input',
      formula: (v) => lines(
        `${d('attnIn')} &= ${d('q')}\\,${tx`@wq^{\top}`} + ${d('k')}\\,${tx`@wk^{\top}`} + ${d('v')}\\,${tx`@wv^{\top}`}`,
        ...(ln(v) ? lnRows('attnIn', 'x', 'ln1Gain', 'ln1Bias') : []),
      ),
      items: [GA('attnIn'), G('ln1Gain'), G('ln1Bias')],
    }),
    step({
      slot: 'backward-x',
      title: `The first residual: back to ${t('x')}`,
      formula: (v) => `${d('x')} = ${d('x1')} + ${d('attnIn')}${ln(v) ? `\\,\\frac{\\partial ${sym('attnIn')}}{\\partial ${sym('x')}}` : ''}`,
      items: [GA('x')],
    }),
    step({
      slot: 'backward-embed',
      title: 'Embeddings',
      text: `Each position’s gradient goes to the row of ${t('embedding')} of its token (added up when a token appears twice) and to its row of ${t('position')}. Tokens not in the input and positions beyond the input get zero.`,
      formula: `${dL(`${sym('embedding')}_j`)} = \\sum_{t\\,:\\,${sym('tokenId')} = j} ${dL(`${sym('x')}_t`)}, \\qquad ${dL(`${sym('position')}_t`)} = ${dL(`${sym('x')}_t`)}\\ \\ (t < ${sym('positions')}),\\ \\ 0 \\text{ otherwise}`,
      items: [G('embedding'), G('position')],
    }),
  ];

  container.append(
    h('h3', { class: 'panel-title', text: 'Back propagation' }),
    h('p', { class: 'panel-help', text: 'Click a gradient (or focus it and press Enter) to see the sum that produces it, with the actual numbers, and a numerical check. Colour shows size on each matrix’s own scale, given under it (white is 0, full colour the end of the range); a number that prints as 0.000 stays white, however it compares with the rest.' }),
    why.el,
    ...steps.map((s) => s.el),
  );
  return {
    update(view) {
      const ok = Boolean(view.backward);
      why.show(ok ? null : noTargetMessage(view));
      for (const s of steps) {
        if (ok) s.update(view); else s.el.hidden = true;
      }
    },
  };
}
