// @ts-check
// The derivation dialog: the chain-rule sum behind one gradient entry (or, for a forward cell,
// the sum the forward pass computed it as), written
// with the actual numbers, and a finite-difference check of that entry — both
// computed by the core on the reader's current state. A factor that is itself a
// gradient entry links to that entry's derivation, so a reader can walk the chain
// towards the loss and come back (Back, or the trail of derivations opened).
import { h, errorMessage, keyboardScrollable } from './dom.js';
import { fmt, full } from './format.js';
import { renderTex } from './katex.js';
import { WEIGHT_INFO, ACTIVATION_INFO, weightLabels, activationLabels } from './labels.js';
import { settledNow } from './client.js';
import { symbol, factorCell, cellSymbol, formulaTex, spoken } from './factors.js';
import { symText } from './notation.js';

/** A forward cell { group: 'forward', name, index } is asked of the core as an activation cell. */
const coreCell = (cell) => (cell.group === 'forward' ? { ...cell, group: 'activations' } : cell);

/** What the core is asked for a cell: how the forward pass computed it, or its derivation and check. */
const asksFor = (cell) => (cell.group === 'forward' ? ['forwardExplanation'] : ['derivation', 'finiteDifference']);
const unwrap = (r) => { if (r.error) throw r.error; return r.value; };

const MAX_TERMS = 80;
// Factors and products far below the shown digits (gradients deep in the chain often are) keep
// three significant digits instead of reading as a row of zeros.
const short = (v, digits) => (v !== 0 && Math.abs(v) < 10 ** -digits
  ? v.toExponential(2).replace('-', '−').replace('e−', 'e-') : fmt(v, digits));
const keyOf = (cell) => `${cell.group}:${cell.name}:${cell.index.join(',')}`;
// The width at which widget.css stacks the dialog's lists: one term a formula line there.
const narrow = () => window.matchMedia?.('(max-width: 520px)').matches;
const inlineTex = (tex, cls) => renderTex(h('span', { class: cls }), tex, false);

export class DerivationDialog {
  constructor(root) {
    this.titleId = `deriv-title-${Math.random().toString(36).slice(2, 8)}`;
    // The title takes focus after a step along the chain, so that the new heading is read out.
    this.title = h('h2', { id: this.titleId, class: 'deriv-title', tabindex: '-1' });
    this.body = h('div', { class: 'deriv-body' });
    this.closeBtn = h('button', { type: 'button', class: 'btn deriv-close', text: 'Close' });
    this.backBtn = h('button', { type: 'button', class: 'btn deriv-back', text: '← Back', hidden: true });
    this.trail = h('ol', { class: 'deriv-trail' });
    this.trailNav = h('nav', { class: 'deriv-trail-nav', 'aria-label': 'Derivations followed', hidden: true }, this.trail);
    this.dialog = h('dialog', { class: 'derivation', 'aria-labelledby': this.titleId },
      h('div', { class: 'deriv-head' },
        h('div', { class: 'deriv-head-row' }, this.backBtn, this.title, this.closeBtn),
        this.trailNav),
      this.body);
    this.history = [];
    this.closeBtn.addEventListener('click', () => this.dialog.close());
    this.backBtn.addEventListener('click', () => this.back(1));
    this.dialog.addEventListener('click', (e) => { if (e.target === this.dialog) this.dialog.close(); });
    this.dialog.addEventListener('close', () => this.anchor?.focus?.());
    root.append(this.dialog);
  }

  /** Open for cell { group, name, index } of `store`'s view; anchor gets focus back on close. */
  open(store, cell, anchor) {
    this.anchor = anchor;
    this.store = store;
    this.view = store.view;
    this.history = [{ cell, followed: null }];
    this.show('close');
  }

  /** Step along the chain to the derivation of a factor's own gradient entry. */
  follow(cell, fromKey) {
    this.history[this.history.length - 1].followed = fromKey;
    this.history.push({ cell, followed: null });
    this.show('title');
  }

  /** Go back `steps` derivations; focus returns to the link that was followed from there. */
  back(steps) {
    if (this.history.length - steps < 1) return;
    this.history.length -= steps;
    this.show('link');
  }

  show(focus, fetched = null) {
    const { cell } = this.history[this.history.length - 1];
    this.renderHead(cell, this.view);
    if (!fetched) {
      // Through the group's compute client: at once when the full core (extras.js) is here; a
      // large model's numbers come from the worker, and the others', the first time, wait for
      // the full core to arrive.
      const results = this.store.explain(asksFor(cell), coreCell(cell), this.view);
      fetched = settledNow(results)?.value ?? null;
      if (!fetched) {
        const text = this.view.large ? 'Computing in the background…' : 'Loading the part of the model core that explains numbers…';
        this.body.replaceChildren(h('p', { class: 'deriv-wait', role: 'status', text }));
        this.reveal(focus);
        const ticket = (this.ticket = {});
        results.then((r) => {
          if (this.ticket === ticket && this.dialog.open) this.show(focus, r);
        });
        return;
      }
    }
    this.ticket = null;
    const parts = cell.group === 'forward'
      ? this.forwardParts(cell, fetched)
      : [...this.derivationParts(cell, fetched), ...this.checkParts(cell, fetched)];
    this.body.replaceChildren(...parts.filter(Boolean));
    this.reveal(focus);
  }

  renderHead(cell, view) {
    const g = cellSymbol(cell);
    Object.assign(this.dialog.dataset, { group: cell.group, name: cell.name, index: cell.index.join(',') });
    this.title.replaceChildren('How ', inlineTex(g.tex, 'deriv-sym'), ' ',
      h('span', { class: 'deriv-where', text: describeCell(cell, view) }), ' is computed');
    this.title.setAttribute('aria-label', `How ${spoken(g.text)} ${describeCell(cell, view)} is computed`);
    const deep = this.history.length > 1;
    this.backBtn.hidden = !deep;
    this.backBtn.setAttribute('aria-label', deep ? `Back to ${spoken(cellSymbol(this.history[this.history.length - 2].cell).text)}` : 'Back');
    this.trailNav.hidden = !deep;
    this.trail.replaceChildren(...(deep ? this.history.map((step, k) => {
      const last = k === this.history.length - 1;
      const s = cellSymbol(step.cell);
      const crumb = last
        ? h('span', { 'aria-current': 'step', title: s.text }, inlineTex(s.tex, 'deriv-sym'))
        : h('button', { type: 'button', class: 'deriv-crumb', title: `Back to ${s.text}`, 'aria-label': `Back to ${spoken(s.text)}`,
          onclick: () => this.back(this.history.length - 1 - k) }, inlineTex(s.tex, 'deriv-sym'));
      return h('li', null, crumb);
    }) : []));
  }

  derivationParts(cell, fetched) {
    const info = cell.group === 'weights' ? WEIGHT_INFO[cell.name] : ACTIVATION_INFO[cell.name];
    const shown = pickGradient(this.view, cell);
    try {
      const d = unwrap(fetched[0]);
      return [
        h('p', { class: 'deriv-intro' }, info ? h('strong', { text: `${info.title}. ` }) : null,
          'The chain rule writes this entry of its gradient as a sum of products. Every factor below is a number from the forward or backward pass of your current model; a factor that is itself a gradient (framed) opens its own derivation.'),
        renderTex(h('div', { class: 'formula' }), formulaTex(cell, d.terms, narrow() ? 1 : 2)),
        d.note ? h('p', { class: 'deriv-note', text: d.note }) : null,
        ...this.termsTable(d),
        h('dl', { class: 'deriv-summary' },
          h('dt', { text: 'Sum of the terms' }),
          h('dd', { class: 'deriv-total', title: full(d.total), dataset: { value: full(d.total) }, text: fmt(d.total, 6) }),
          h('dt', { text: 'Gradient shown in the table' }),
          h('dd', { class: 'deriv-shown', title: full(shown), dataset: { value: full(shown) }, text: fmt(shown, 6) })),
      ];
    } catch (err) {
      return [h('p', { class: 'error', role: 'alert', text: `The derivation could not be computed: ${errorMessage(err)}` })];
    }
  }

  /** How the forward pass computed a forward cell: its terms, their sum and the value shown. */
  forwardParts(cell, fetched) {
    const info = ACTIVATION_INFO[cell.name];
    const shown = pick(this.view.forward?.[cell.name], cell.index);
    try {
      const d = unwrap(fetched[0]);
      return [
        h('p', { class: 'deriv-intro' }, info ? h('strong', { text: `${info.title}. ` }) : null,
          'The forward pass computes this entry from numbers it computed before, as a sum of products. Every factor below is a number of your current model; a factor that was itself computed (framed) opens how it was computed, back to the weights.'),
        renderTex(h('div', { class: 'formula' }), formulaTex(cell, d.terms, narrow() ? 1 : 2)),
        d.note ? h('p', { class: 'deriv-note', text: d.note }) : null,
        ...this.termsTable(d, true),
        h('dl', { class: 'deriv-summary' },
          h('dt', { text: 'Sum of the terms' }),
          h('dd', { class: 'deriv-total', title: full(d.total), dataset: { value: full(d.total) }, text: fmt(d.total, 6) }),
          h('dt', { text: 'Value shown in the table' }),
          h('dd', { class: 'deriv-shown', title: full(shown), dataset: { value: full(shown) }, text: fmt(shown, 6) })),
      ];
    } catch (err) {
      return [h('p', { class: 'error', role: 'alert', text: `The computation could not be shown: ${errorMessage(err)}` })];
    }
  }

  checkParts(cell, fetched) {
    const parts = [h('h3', { text: 'Check by finite differences' })];
    try {
      const fd = unwrap(fetched[1]);
      const d = symText('nudge');
      const [Lp, Lm] = [`${symText('loss')}₊`, `${symText('loss')}₋`];
      const agree = Math.abs(fd.difference) <= 1e-6 * Math.max(1, Math.abs(fd.analytic));
      parts.push(h('p', { text: `Nudge this one ${cell.group === 'weights' ? 'weight' : 'activation'} up and down by ${d}, run the model forward each time and compare the two losses. The slope (${Lp} − ${Lm}) / 2${d} should match the gradient from back propagation.` }));
      parts.push(h('dl', { class: 'deriv-fd' },
        ...row(d, fd.epsilon, 'fd-epsilon', null),
        ...row(`${Lp}, loss with the entry + ${d}`, fd.lossPlus, 'fd-plus', 10),
        ...row(`${Lm}, loss with the entry − ${d}`, fd.lossMinus, 'fd-minus', 10),
        ...row(`Numerical slope (${Lp} − ${Lm}) / 2${d}`, fd.numeric, 'fd-numeric', 8),
        ...row('Back propagation', fd.analytic, 'fd-analytic', 8),
        ...row('Difference', fd.difference, 'fd-difference', 12)));
      parts.push(h('p', { class: agree ? 'fd-verdict ok' : 'fd-verdict warn',
        text: agree
          ? 'They agree: the difference is rounding error from the finite step.'
          : 'They differ by more than rounding error. Near a kink (ReLU at 0) the slope is different on each side, and a numerical slope cannot match.' }));
    } catch (err) {
      parts.push(h('p', { class: 'error', role: 'alert', text: `The finite-difference check could not be computed: ${errorMessage(err)}` }));
    }
    return parts;
  }

  termsTable(d, forward = false) {
    const factor = (f) => {
      const s = symbol(f);
      const tip = `${s.text} = ${full(f.value)}${s.words ? `: ${s.words}` : ''}`;
      const content = [inlineTex(s.tex, 'factor-sym'), ' ', h('span', { class: 'factor-value', text: `(${short(f.value, 4)})` })];
      const target = factorCell(f, forward);
      const opens = target?.group === 'forward' ? 'open how it was computed' : 'open its derivation';
      if (!target) return h('span', { class: 'factor', title: tip }, content);
      const key = keyOf(target);
      return h('button', {
        type: 'button', class: 'factor factor-link', title: `${tip}. ${opens[0].toUpperCase()}${opens.slice(1)}`,
        'aria-label': `${spoken(s.text)} = ${short(f.value, 4)}: ${opens}`,
        dataset: { key, name: target.name, index: target.index.join(','), value: full(f.value) },
        onclick: () => this.follow(target, key),
      }, content);
    };
    const body = h('tbody', null, d.terms.slice(0, MAX_TERMS).map((t) => h('tr', null,
      h('th', { scope: 'row', text: t.label }),
      h('td', { class: 'factors' }, t.sign < 0 ? h('span', { class: 'term-sign', title: 'this term is subtracted', text: '−' }) : null,
        t.factors.map((f, i) => [i ? h('span', { class: 'times', text: ' × ' }) : null, factor(f)])),
      h('td', { class: 'term-value', title: full(t.value), text: short(t.value, 6) }))));
    const table = h('table', { class: 'terms' },
      h('caption', { text: d.terms.length ? `The ${d.terms.length} term${d.terms.length === 1 ? '' : 's'} of the sum` : 'No terms: this entry does not reach the loss, so its gradient is 0' }),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', text: 'Term' }), h('th', { scope: 'col', text: 'Factors' }), h('th', { scope: 'col', text: 'Product' }))),
      body);
    const wrap = h('div', { class: 'terms-scroll' }, table);
    keyboardScrollable(wrap, 'Terms of the sum (scrolls sideways)');
    // Shown only while the table is wider than its box (the box is focusable then, see dom.js).
    const hint = h('p', { class: 'scroll-hint', 'aria-hidden': 'true', text: 'The table is wider than the screen: scroll it sideways →' });
    const more = d.terms.length > MAX_TERMS ? h('p', { text: `…and ${d.terms.length - MAX_TERMS} more terms, included in the sum below.` }) : null;
    return [wrap, hint, more];
  }

  reveal(focus) {
    if (!this.dialog.open) this.dialog.showModal();
    const followed = this.history[this.history.length - 1].followed;
    const link = focus === 'link' && followed
      ? [...this.body.querySelectorAll('.factor-link')].find((b) => b.dataset.key === followed) : null;
    if (link) link.focus();
    else if (focus === 'close') this.closeBtn.focus();
    else this.title.focus();
  }
}

function row(label, value, cls, digits) {
  const text = digits == null ? full(value) : fmt(value, digits);
  return [h('dt', { text: label }), h('dd', { class: cls, title: full(value), dataset: { value: full(value) }, text })];
}

/** The entry at `index` of a matrix (or a stack of heads) from the view. */
function pick(m, index) {
  if (!m) return null;
  let v = m;
  for (const i of index) v = v?.[i];
  return v ?? null;
}

function pickGradient(view, cell) {
  return pick(cell.group === 'weights' ? view.backward?.weights?.[cell.name] : view.backward?.activations?.[cell.name], cell.index);
}

/** "[row AI, column d1]" with token names as plain text; heads counted from 0 as in S^(0). */
function describeCell(cell, view) {
  if (cell.group === 'weights') {
    const L = weightLabels(cell.name, view);
    if (cell.index.length === 1) return `[${L.cols[cell.index[0]]}]`;
    return `[${L.rows[cell.index[0]]}, ${L.cols[cell.index[1]]}]`;
  }
  const L = activationLabels(cell.name, view);
  if (cell.index.length === 3) return `[head ${cell.index[0]}: ${L.rows[cell.index[1]]}, ${L.cols[cell.index[2]]}]`;
  return `[${L.rows[cell.index[0]]}, ${L.cols[cell.index[1]]}]`;
}
