// The derivation dialog: the chain-rule sum behind one gradient entry, written
// with the actual numbers, and a finite-difference check of that entry — both
// computed by the core on the reader's current state.
import { h, errorMessage } from './dom.js';
import { fmt, full } from './format.js';
import { renderTex } from './katex.js';
import { WEIGHT_INFO, ACTIVATION_INFO, weightLabels, activationLabels } from './labels.js';
import { request } from './compute.js';

/** A large model's derivation and check come from the worker (the state is never parsed here). */
function fromWorker(cell) {
  const get = (op) => request(op, { cell }, { view: false }).then((r) => ({ value: r.result }), (error) => ({ error }));
  return Promise.all([get('derivation'), get('finiteDifference')]);
}
const unwrap = (r) => { if (r.error) throw r.error; return r.value; };

const MAX_TERMS = 80;

export class DerivationDialog {
  constructor(root) {
    this.titleId = `deriv-title-${Math.random().toString(36).slice(2, 8)}`;
    this.title = h('h2', { id: this.titleId, class: 'deriv-title' });
    this.body = h('div', { class: 'deriv-body' });
    this.closeBtn = h('button', { type: 'button', class: 'btn deriv-close', text: 'Close' });
    this.dialog = h('dialog', { class: 'derivation', 'aria-labelledby': this.titleId },
      h('div', { class: 'deriv-head' }, this.title, this.closeBtn), this.body);
    this.closeBtn.addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('click', (e) => { if (e.target === this.dialog) this.dialog.close(); });
    this.dialog.addEventListener('close', () => this.anchor?.focus?.());
    root.append(this.dialog);
  }

  /** Open for cell { group, name, index } of `view`; anchor gets focus back on close. */
  open(core, view, cell, anchor, fetched = null) {
    this.anchor = anchor;
    const { state } = view;
    const info = cell.group === 'weights' ? WEIGHT_INFO[cell.name] : ACTIVATION_INFO[cell.name];
    const where = describeCell(cell, state);
    this.title.textContent = `How ∂L/∂${info.sym} ${where} is computed`;
    if (view.large && !fetched) {
      this.body.replaceChildren(h('p', { class: 'deriv-wait', role: 'status', text: 'Computing in the background…' }));
      if (!this.dialog.open) this.dialog.showModal();
      this.closeBtn.focus();
      const ticket = (this.ticket = {});
      fromWorker(cell).then((results) => {
        if (this.ticket === ticket && this.dialog.open) this.open(core, view, cell, anchor, results);
      });
      return;
    }
    const shown = pickGradient(view, cell);
    const parts = [];
    try {
      const d = fetched ? unwrap(fetched[0]) : core.derivation(state, cell);
      parts.push(h('p', { class: 'deriv-intro', text: `The chain rule writes this entry of the gradient of the ${info.title.charAt(0).toLowerCase()}${info.title.slice(1)} as a sum of products. Every factor below is a number from the forward or backward pass of your current model.` }));
      parts.push(renderTex(h('div', { class: 'formula' }), d.latex));
      if (d.note) parts.push(h('p', { class: 'deriv-note', text: d.note }));
      parts.push(termsTable(d));
      parts.push(h('dl', { class: 'deriv-summary' },
        h('dt', { text: 'Sum of the terms' }),
        h('dd', { class: 'deriv-total', title: full(d.total), dataset: { value: full(d.total) }, text: fmt(d.total, 6) }),
        h('dt', { text: 'Gradient shown in the table' }),
        h('dd', { class: 'deriv-shown', title: full(shown), dataset: { value: full(shown) }, text: fmt(shown, 6) })));
    } catch (err) {
      parts.push(h('p', { class: 'error', role: 'alert', text: `The derivation could not be computed: ${errorMessage(err)}` }));
    }
    parts.push(h('h3', { text: 'Check by finite differences' }));
    try {
      const fd = fetched ? unwrap(fetched[1]) : core.finiteDifference(state, cell);
      const agree = Math.abs(fd.difference) <= 1e-6 * Math.max(1, Math.abs(fd.analytic));
      parts.push(h('p', { text: `Nudge this one ${cell.group === 'weights' ? 'weight' : 'activation'} up and down by ε, run the model forward each time and compare the two losses. The slope (L₊ − L₋) / 2ε should match the gradient from back propagation.` }));
      parts.push(h('dl', { class: 'deriv-fd' },
        ...row('ε', fd.epsilon, 'fd-epsilon', null),
        ...row('L₊, loss with the entry + ε', fd.lossPlus, 'fd-plus', 10),
        ...row('L₋, loss with the entry − ε', fd.lossMinus, 'fd-minus', 10),
        ...row('Numerical slope (L₊ − L₋) / 2ε', fd.numeric, 'fd-numeric', 8),
        ...row('Back propagation', fd.analytic, 'fd-analytic', 8),
        ...row('Difference', fd.difference, 'fd-difference', 12)));
      parts.push(h('p', { class: agree ? 'fd-verdict ok' : 'fd-verdict warn',
        text: agree
          ? 'They agree: the difference is rounding error from the finite step.'
          : 'They differ by more than rounding error. Near a kink (ReLU at 0) the slope is different on each side, and a numerical slope cannot match.' }));
    } catch (err) {
      parts.push(h('p', { class: 'error', role: 'alert', text: `The finite-difference check could not be computed: ${errorMessage(err)}` }));
    }
    this.body.replaceChildren(...parts);
    if (!this.dialog.open) this.dialog.showModal();
    this.closeBtn.focus();
  }
}

function row(label, value, cls, digits) {
  const text = digits == null ? full(value) : fmt(value, digits);
  return [h('dt', { text: label }), h('dd', { class: cls, title: full(value), dataset: { value: full(value) }, text })];
}

function termsTable(d) {
  const shownTerms = d.terms.slice(0, MAX_TERMS);
  const body = h('tbody', null, shownTerms.map((t) => h('tr', null,
    h('th', { scope: 'row', text: t.label }),
    h('td', { class: 'factors' }, t.factors.map((f, i) => [
      i ? h('span', { class: 'times', text: ' × ' }) : null,
      h('span', { class: 'factor', title: `${f.name} = ${full(f.value)}` },
        h('span', { class: 'factor-name', text: f.name }), ' ', h('span', { text: `(${fmt(f.value, 4)})` })),
    ])),
    h('td', { class: 'term-value', title: full(t.value), text: fmt(t.value, 6) }))));
  const table = h('table', { class: 'terms' },
    h('caption', { text: d.terms.length ? `The ${d.terms.length} term${d.terms.length === 1 ? '' : 's'} of the sum` : 'No terms: this entry does not reach the loss, so its gradient is 0' }),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: 'Term' }), h('th', { scope: 'col', text: 'Factors' }), h('th', { scope: 'col', text: 'Product' }))),
    body);
  const wrap = h('div', { class: 'terms-scroll', tabindex: '0', role: 'region', 'aria-label': 'Terms of the sum' }, table);
  if (d.terms.length > MAX_TERMS) wrap.append(h('p', { text: `…and ${d.terms.length - MAX_TERMS} more terms, included in the sum below.` }));
  return wrap;
}

function pickGradient(view, cell) {
  const g = cell.group === 'weights' ? view.backward?.weights?.[cell.name] : view.backward?.activations?.[cell.name];
  if (!g) return null;
  let v = g;
  for (const i of cell.index) v = v?.[i];
  return v ?? null;
}

/** "[row AI, column d1]" with token names as plain text. */
function describeCell(cell, state) {
  if (cell.group === 'weights') {
    const L = weightLabels(cell.name, state);
    if (cell.index.length === 1) return `[${L.cols[cell.index[0]]}]`;
    return `[${L.rows[cell.index[0]]}, ${L.cols[cell.index[1]]}]`;
  }
  const L = activationLabels(cell.name, state);
  if (cell.index.length === 3) return `[head ${cell.index[0] + 1}: ${L.rows[cell.index[1]]}, ${L.cols[cell.index[2]]}]`;
  return `[${L.rows[cell.index[0]]}, ${L.cols[cell.index[1]]}]`;
}
