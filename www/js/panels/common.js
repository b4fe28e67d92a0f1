// @ts-check
// Building blocks shared by the panels: matrices bound to the store, per-head
// groups, titled steps with formulas, and "why there is nothing here" notes.
import { h, setText, errorMessage } from '../dom.js';
import { readerError } from '../messages.js';
import { MatrixView } from '../matrix.js';
import { renderTex, renderTexLazy } from '../katex.js';
import { WEIGHT_INFO, ACTIVATION_INFO, weightLabels, activationLabels, dims } from '../labels.js';
import { dLText } from '../notation.js';
import { richText } from '../legend.js';
import { noTarget } from '../view.js';

/** Masked attention scores: null from the JSON API, NaN in a large model's Float64Array rows. */
const isMaskedScore = (x) => x == null || Number.isNaN(x);


/**
 * An editable (unless readonly) weight matrix bound to the store.
 * @param {any} ctx @param {string} name @param {{ note?: string }} [options]
 */
export function weightMatrix(ctx, name, { note } = {}) {
  const info = WEIGHT_INFO[name];
  const view = new MatrixView({
    label: info.title, name: `weight-${name}`, kind: 'weight', note,
    editable: !ctx.readonly,
    // Typing into a cell pauses training (update.js), so the value committed is what was typed.
    onEditStart: () => ctx.store.editStarted(),
    onCommit: (r, c, value, options) => {
      const w = ctx.store.view.state.weights[name];
      const index = Array.isArray(w[0]) ? [r, c] : [c];
      // The core's message, in the reader's words (messages.js), shown under the matrix.
      const plain = (err) => new Error(readerError(errorMessage(err)).text);
      let result;
      try { result = ctx.store.setWeight(name, index, value, options); } catch (err) { throw plain(err); }
      return result && typeof result.then === 'function' ? result.catch((err) => { throw plain(err); }) : result;
    },
  });
  return {
    el: view.el,
    matrix: view,
    update(v) {
      const w = v.state.weights[name];
      view.el.hidden = !w;
      if (!w) return;
      const L = weightLabels(name, v);
      // The core's schema says which weights' columns fall into one block per head.
      const headCols = L.headColumns ? dims(v.state).D : 0;
      view.opts.groupCols = headCols && dims(v.state).H > 1 ? headCols : 0;
      view.update({ values: L.vector ? [w] : w, rows: L.rows, cols: L.cols, lazy: Boolean(v.large) });
    },
  };
}

/** A read-only activation (forward pass) matrix; scores/attention are split per head. */
export function activationMatrix(ctx, name, { kind = 'activation' } = {}) {
  const info = ACTIVATION_INFO[name];
  return perHeadAware(name, (label, head) => new MatrixView({
    label, name: head == null ? `act-${name}` : `act-${name}-h${head}`,
    kind: name === 'probs' || name === 'attention' ? 'prob' : kind,
    // A cell opens how the forward pass computed it (derivation.js, forward mode).
    onActivate: (r, c, el) => ctx.openDerivation({ group: 'forward', name, index: head == null ? [r, c] : [head, r, c] }, el),
  }), info.title, (v) => v.forward?.[name], (r, c, head, v) => (
    head != null && isMaskedScore(v.forward.scores[head][r][c])));
}

/** A gradient matrix whose cells open their derivation. */
export function gradientMatrix(ctx, group, name) {
  const title = dLText(name);
  if (group === 'weights') {
    let vector = false;
    const view = new MatrixView({
      label: title, name: `grad-${name}`, kind: 'gradient',
      onActivate: (r, c, el) => ctx.openDerivation({ group, name, index: vector ? [c] : [r, c] }, el),
    });
    return {
      el: view.el,
      matrix: view,
      update(v) {
        const g = v.backward?.weights?.[name];
        view.el.hidden = !g;
        if (!g) return;
        vector = typeof g[0] === 'number'; // rows may be Float64Array views (large models)
        const L = weightLabels(name, v);
        view.update({ values: vector ? [g] : g, rows: L.rows, cols: L.cols, lazy: Boolean(v.large) });
      },
    };
  }
  return perHeadAware(name, (label, head) => new MatrixView({
    label, name: head == null ? `grad-${name}` : `grad-${name}-h${head}`, kind: 'gradient',
    onActivate: (r, c, el) => ctx.openDerivation({
      group, name, index: head == null ? [r, c] : [head, r, c],
    }, el),
  }), title, (v) => v.backward?.activations?.[name],
  (r, c, head, v) => head != null && isMaskedScore(v.forward.scores[head][r][c]));
}

// One matrix, or one per head for scores/attention (H×T×T).
function perHeadAware(name, make, title, pick, isMasked) {
  const wrap = h('div', { class: 'heads' });
  const views = [];
  return {
    el: wrap,
    views,
    update(v) {
      const values = pick(v);
      wrap.hidden = !values;
      if (!values) return;
      const L = activationLabels(name, v);
      const { perHead } = L; // the core's schema: one matrix per head
      const blocks = perHead ? values : [values];
      while (views.length > blocks.length) views.pop().el.remove();
      while (views.length < blocks.length) {
        const head = perHead ? views.length : null;
        const label = perHead ? `${title}, head ${head}` : title; // heads count from 0, as in S⁽⁰⁾
        const mv = make(label, head);
        views.push(mv);
        wrap.append(mv.el);
      }
      blocks.forEach((block, i) => {
        const head = perHead ? i : null;
        views[i].update({
          values: block, rows: L.rows, cols: L.cols,
          masked: perHead ? (r, c) => isMasked(r, c, head, v) : null,
          lazy: Boolean(v.large),
        });
      });
    },
  };
}

/**
 * A titled step: heading, prose (both with @key symbols, see legend.js richText), a static formula, a live formula (numbers substituted)
 * and a grid of matrices. `live(view)` returns LaTeX or null; `present(view)` hides the step.
 *
 * @param {object} o
 * @param {string} o.title
 * @param {string} [o.text]
 * @param {string | ((view: any) => string)} [o.formula]  LaTeX, fixed or of the view
 * @param {(view: any) => (string | null)} [o.live]
 * @param {Array<{ el: HTMLElement, update: (view: any) => void }>} o.items
 * @param {(view: any) => boolean} [o.present]
 * @param {string | null} [o.slot]  the name of the reader's passage slotted beside the step
 * @param {string} [o.level]
 */
export function step({ title, text, formula, live, items, present, slot = null, level = 'h4' }) {
  const liveEl = h('div', { class: 'formula live', 'aria-live': 'off' });
  const formulaEl = h('div', { class: 'formula' });
  if (typeof formula === 'string') renderTex(formulaEl, formula);
  const grid = h('div', { class: 'matrices' }, items.map((i) => i.el));
  // The host page's own passage about this step, if it gives one (<div slot="forward-qkv"> inside
  // the element): shown beside the step's numbers on a wide widget and above them on a narrow one,
  // so the prose that explains a matrix sits next to it. Without one the step looks as before.
  const slotEl = slot ? h('slot', { name: slot }) : null;
  const aside = slot ? h('div', { class: 'step-aside' }, slotEl) : null;
  const el = h('section', { class: 'step', dataset: slot ? { slot } : null },
    h('div', { class: 'step-body' },
      aside,
      h('div', { class: 'step-main' },
        h(level, { class: 'step-title' }, ...richText(title)),
        text ? (typeof text === 'string' ? h('p', { class: 'step-text' }, ...richText(text)) : text) : null,
        formula ? formulaEl : null,
        live ? liveEl : null,
        grid,
        // A longer passage (a derivation) can follow the numbers: <div slot="forward-qkv-more">.
        slot ? h('slot', { name: `${slot}-more` }) : null)));
  if (slotEl) {
    const sync = () => {
      const given = slotEl.assignedNodes().length > 0;
      aside.hidden = !given;
      el.classList.toggle('has-aside', given);
    };
    slotEl.addEventListener('slotchange', sync);
    sync();
  }
  return {
    el,
    update(v) {
      const show = present ? present(v) : true;
      el.hidden = !show;
      if (!show) return;
      if (typeof formula === 'function') renderTex(formulaEl, formula(v));
      if (live) {
        const latex = live(v);
        liveEl.hidden = !latex;
        if (latex) renderTexLazy(liveEl, latex);
      }
      for (const item of items) item.update(v);
    },
  };
}

/** A note explaining why a panel has no numbers (e.g. no position has a target). */
export function whyEmpty() {
  const el = h('div', { class: 'why', role: 'note' });
  el.hidden = true;
  return {
    el,
    show(message) {
      el.hidden = !message;
      if (message) {
        el.replaceChildren(
          h('strong', { text: 'Nothing to compute here yet. ' }),
          h('span', { text: message }),
        );
      }
    },
  };
}

/** Explanation for the "no target" case, shared by the target, loss, backward and update panels. */
export function noTargetMessage(view) {
  if (noTarget(view)) {
    return 'The input is a single token and there is no end-of-sequence token, so no position has a next token to predict: there is no loss, and so no gradient. Add a token to the input or choose an end-of-sequence token in the model panel.';
  }
  return view.lossError || view.backwardError || null;
}

export function label(text, control) {
  return h('label', null, h('span', { class: 'label-text', text }), control);
}

export { setText };

/**
 * A panel's status line. `say(text, isError)` writes it; `stale(state)` tells whether it was
 * written for another state than `state` (the panel then clears it: a message about an edit
 * should not outlive the next change).
 */
export function panelMessage(store) {
  const element = h('p', { class: 'panel-msg', role: 'status', 'aria-live': 'polite' });
  let ownState = null; // the state when the message was written
  const say = (text, isError = false) => {
    ownState = text ? store.view.state : null;
    setText(element, text || '');
    element.classList.toggle('error', Boolean(isError && text));
  };
  const stale = (state) => Boolean(ownState && state !== ownState);
  return { element, say, stale };
}
