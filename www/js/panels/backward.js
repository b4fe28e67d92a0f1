// Stage 5, back propagation: the gradient of every activation and weight, walking
// backwards from ∂L/∂logits = (P̂ − Y)/N to the embeddings. Every gradient comes
// from the core; clicking a cell opens its derivation and finite-difference check.
import { h } from '../dom.js';
import { tex } from '../format.js';
import { gradientMatrix, step, dL, whyEmpty, noTargetMessage } from './common.js';
import { products } from './forward.js';

const n = (v) => tex(v, 3, true);
const r = (v) => tex(v, 3, false);
const lines = (...rows) => `\\begin{aligned}${rows.join('\\\\[2pt]')}\\end{aligned}`;
const lnBack = (out, inp, g, b) => lines(
  `${dL(g)} &= \\textstyle\\sum_t ${dL(`{${out}}_t`)} \\odot \\hat x_t, \\qquad ${dL(b)} = \\textstyle\\sum_t ${dL(`{${out}}_t`)}`,
  `${dL(`{${inp}}_t`)} &= \\frac{1}{\\sigma_t}\\Big(g_t - \\overline{g_t} - \\hat x_t\\,\\overline{g_t \\odot \\hat x_t}\\Big), \\quad g_t = ${g} \\odot ${dL(`{${out}}_t`)}`,
);

export function mount(container, ctx) {
  const G = (name) => gradientMatrix(ctx, 'weights', name);
  const GA = (name) => gradientMatrix(ctx, 'activations', name);
  const ln = (v) => Boolean(v.state.config.layerNorm);
  const ff = (v) => v.state.config.dFf > 0;
  const why = whyEmpty();

  const steps = [
    step({
      title: 'Start at the output: ∂L/∂logits',
      text: 'Softmax followed by cross-entropy has a simple gradient: the predicted probabilities minus the one-hot target, divided by N. Rows without a target are zero.',
      formula: `${dL('\\text{logits}')} = \\frac{1}{N}\\left(\\hat P - Y\\right)`,
      live: (v) => {
        const j = v.loss.targets[0];
        if (j == null) return null;
        return `${dL(`\\text{logits}_{0,${j}}`)} = \\frac{\\hat P_{0,${j}} - Y_{0,${j}}}{N} = \\frac{${n(v.forward.probs[0][j])} - 1}{${v.loss.count}} = ${r(v.backward.activations.logits[0][j])}`;
      },
      items: [GA('logits')],
    }),
    step({
      title: 'Unembedding',
      text: 'Since logits = X_f W_U, the gradient of W_U pairs each final vector with each logit gradient, and the gradient flows back to X_f through W_U transposed.',
      formula: `${dL('W_U')} = X_f^{\\top}\\, ${dL('\\text{logits}')}, \\qquad ${dL('X_f')} = ${dL('\\text{logits}')}\\, W_U^{\\top}`,
      live: (v) => {
        const pairs = v.forward.xf.map((row, t) => [row[0], v.backward.activations.logits[t][0]]);
        return `${dL('(W_U)_{0,0}')} = \\textstyle\\sum_t X_{f;\\,t,0}\\, ${dL('\\text{logits}_{t,0}')} = ${products(pairs)} = ${r(v.backward.weights.unembedding[0][0])}`;
      },
      items: [G('unembedding'), GA('xf')],
    }),
    step({
      title: 'Final layer norm',
      formula: (v) => (ln(v) ? lnBack('X_f', 'X_2', '\\gamma_f', '\\beta_f')
        : `\\text{No layer norm: } X_f = X_2, \\text{ so } ${dL('X_2')} = ${dL('X_f')}`),
      items: [G('lnfGain'), G('lnfBias'), GA('x2')],
    }),
    step({
      title: 'Feed-forward block',
      text: 'Backwards through W₂, the activation (its slope at each U), and W₁. The biases collect the gradient of every position.',
      formula: lines(
        `${dL('M')} &= ${dL('X_2')}, & ${dL('W_2')} &= H^{\\top} ${dL('M')}, & ${dL('b_2')} &= \\textstyle\\sum_t ${dL('M_t')}`,
        `${dL('H')} &= ${dL('M')}\\, W_2^{\\top}, & ${dL('U')} &= ${dL('H')} \\odot \\operatorname{act}'(U), & ${dL('W_1')} &= \\tilde X_1^{\\top} ${dL('U')}`,
        `${dL('b_1')} &= \\textstyle\\sum_t ${dL('U_t')}, & ${dL('\\tilde X_1')} &= ${dL('U')}\\, W_1^{\\top} & &`,
      ),
      present: ff,
      items: [GA('mlpOut'), G('w2'), G('b2'), GA('hidden'), GA('u'), G('w1'), G('b1'), GA('mlpIn')],
    }),
    step({
      title: 'Layer norm before the feed-forward block',
      formula: lnBack('\\tilde X_1', 'X_1', '\\gamma_2', '\\beta_2'),
      present: (v) => ln(v) && ff(v),
      items: [G('ln2Gain'), G('ln2Bias')],
    }),
    step({
      title: 'The residual: two paths meet at X₁',
      text: 'X₁ reaches the loss directly (through the residual) and through the feed-forward block; the chain rule adds the two.',
      formula: (v) => {
        if (!ff(v)) return `\\text{No feed-forward block: } X_2 = X_1, \\text{ so } ${dL('X_1')} = ${dL('X_2')}`;
        return ln(v)
          ? `${dL('X_1')} = ${dL('X_2')} + ${dL('\\tilde X_1')}\\,\\frac{\\partial \\tilde X_1}{\\partial X_1}`
          : `${dL('X_1')} = ${dL('X_2')} + ${dL('\\tilde X_1')} \\qquad (\\tilde X_1 = X_1 \\text{ without layer norm})`;
      },
      items: [GA('x1')],
    }),
    step({
      title: 'Attention output',
      formula: `${dL('O')} = ${dL('X_1')}, \\qquad ${dL('W_O')} = Z^{\\top} ${dL('O')}, \\qquad ${dL('Z')} = ${dL('O')}\\, W_O^{\\top}`,
      items: [GA('attnOut'), G('wo'), GA('z')],
    }),
    step({
      title: 'Through the attention weights, per head',
      text: 'The softmax couples the entries of a row: raising one weight lowers the others. Masked entries were never used, so they have no gradient.',
      formula: lines(
        `${dL('A^{(h)}')} &= ${dL('Z^{(h)}')}\\, V^{(h)\\top}`,
        `${dL('S^{(h)}_{t,s}')} &= A^{(h)}_{t,s}\\Big(${dL('A^{(h)}_{t,s}')} - \\textstyle\\sum_{r \\le t} A^{(h)}_{t,r}\\, ${dL('A^{(h)}_{t,r}')}\\Big)`,
      ),
      items: [GA('attention'), GA('scores')],
    }),
    step({
      title: 'Queries, keys and values',
      text: 'Through the scores to the queries and keys, and through the weighted sum to the values. When only the first position has a target, as in the article’s example, the queries and keys get no gradient at all: position 0 can only attend to itself, so its attention weight is 1 whatever the scores are.',
      formula: lines(
        `${dL('Q^{(h)}')} &= \\frac{1}{\\sqrt{D}}\\, ${dL('S^{(h)}')}\\, K^{(h)}, \\quad ${dL('K^{(h)}')} = \\frac{1}{\\sqrt{D}}\\Big(${dL('S^{(h)}')}\\Big)^{\\!\\top} Q^{(h)}, \\quad ${dL('V^{(h)}')} = A^{(h)\\top}\\, ${dL('Z^{(h)}')}`,
        `${dL('W_Q')} &= \\tilde X^{\\top} ${dL('Q')}, \\qquad ${dL('W_K')} = \\tilde X^{\\top} ${dL('K')}, \\qquad ${dL('W_V')} = \\tilde X^{\\top} ${dL('V')}`,
      ),
      items: [GA('q'), GA('k'), GA('v'), G('wq'), G('wk'), G('wv')],
    }),
    step({
      title: 'Into the attention input',
      formula: (v) => lines(
        `${dL('\\tilde X')} &= ${dL('Q')}\\,W_Q^{\\top} + ${dL('K')}\\,W_K^{\\top} + ${dL('V')}\\,W_V^{\\top}`,
        ...(ln(v) ? [lnBack('\\tilde X', 'X', '\\gamma_1', '\\beta_1').replace(/^\\begin\{aligned\}|\\end\{aligned\}$/g, '')] : []),
      ),
      items: [GA('attnIn'), G('ln1Gain'), G('ln1Bias')],
    }),
    step({
      title: 'The first residual: back to X',
      formula: (v) => `${dL('X')} = ${dL('X_1')} + ${dL('\\tilde X')}${ln(v) ? '\\,\\frac{\\partial \\tilde X}{\\partial X}' : ''}`,
      items: [GA('x')],
    }),
    step({
      title: 'Embeddings',
      text: 'Each position’s gradient goes to the row of E of its token (added up when a token appears twice) and to its row of P. Tokens not in the input and positions beyond the input get zero.',
      formula: `${dL('E_j')} = \\sum_{t\\,:\\,\\text{id}_t = j} ${dL('X_t')}, \\qquad ${dL('P_t')} = ${dL('X_t')}\\ \\ (t < T),\\ \\ 0 \\text{ otherwise}`,
      items: [G('embedding'), G('position')],
    }),
  ];

  container.append(
    h('h3', { class: 'panel-title', text: 'Back propagation' }),
    h('p', { class: 'panel-help', text: 'Click a gradient (or focus it and press Enter) to see the sum that produces it, with the actual numbers, and a numerical check.' }),
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
