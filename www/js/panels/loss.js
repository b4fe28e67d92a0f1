// @ts-check
// Stage 4, the loss: each position's −ln P̂[t, target] (from the core) and their
// average over the positions that have a target.
import { h, setText, keyboardScrollable } from '../dom.js';
import { fmt, full, tex } from '../format.js';
import { renderTex, renderTexLazy } from '../katex.js';
import { whyEmpty, noTargetMessage } from './common.js';
import { symText, tx } from '../notation.js';

const n = (v) => tex(v, 3, true);
const MAX_ROWS = 64;

function numCell(value, digits, cls) {
  return h('td', { class: `num ${cls}`, title: full(value), dataset: { value: full(value) }, text: fmt(value, digits) });
}

/** A numCell's new value. Returns whether its text changed length (the table may change width). */
function setNum(td, value, digits) {
  const before = td.textContent.length;
  setText(td, fmt(value, digits));
  const exact = full(value);
  if (td.dataset.value !== exact) { td.title = exact; td.dataset.value = exact; }
  return td.textContent.length !== before;
}

export function mount(container) {
  const formula = renderTex(h('div', { class: 'formula' }),
    tx`@loss = -\frac{1}{@count} \sum_{t\,:\,@targetId \text{ exists}} \ln @probs_{t,\,@targetId}`);
  const live = h('div', { class: 'formula live' });
  const caption = h('p', { class: 'mat-caption', id: 'loss-table-caption', text: 'Each position’s term: minus the log of the probability given to its target' });
  const table = h('table', { class: 'loss-table', 'aria-labelledby': 'loss-table-caption' });
  const tableScroll = h('div', { class: 'mat-scroll' }, table);
  const total = h('p', { class: 'loss-total' });
  const why = whyEmpty();
  container.append(
    h('h3', { class: 'panel-title', text: 'The loss' }),
    formula, live,
    caption,
    tableScroll,
    total,
    why.el,
  );
  // The table's rows are built again only when what they name changes (tokens, targets, counts):
  // an edit of a weight writes its numbers into the cells already there (numbers[t] = [P̂, term];
  // building the table anew each time made the browser restyle and lay it out from scratch).
  let shapeKey = '';
  let numbers = [];
  let lossCell = null;
  function build(state, loss, forward, hiddenRows) {
    numbers = [];
    const rows = state.tokens.slice(0, MAX_ROWS).map((tok, t) => {
      const i = loss.targets[t];
      if (i == null) {
        return h('tr', { class: 'skipped-row' },
          h('th', { scope: 'row', text: String(t) }), h('td', { class: 'tok', text: tok }),
          h('td', { class: 'skipped', colspan: '3', text: 'no target (skipped)' }));
      }
      numbers[t] = [numCell(forward.probs[t][i], 4, 'prob'), numCell(loss.terms[t], 4, 'term')];
      return h('tr', null,
        h('th', { scope: 'row', text: String(t) }),
        h('td', { class: 'tok', text: tok }),
        h('td', { class: 'tok', text: state.vocab[i] }),
        ...numbers[t]);
    });
    lossCell = numCell(loss.value, 4, 'loss-value');
    table.replaceChildren(
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', text: 't' }), h('th', { scope: 'col', text: 'Input' }),
        h('th', { scope: 'col', text: 'Target' }), h('th', { scope: 'col', text: `${symText('probs')}[t, target]` }),
        h('th', { scope: 'col', text: `−ln ${symText('probs')}` }))),
      h('tbody', null, rows, hiddenRows ? h('tr', { class: 'skipped-row' },
        h('td', { colspan: '5', class: 'more-rows', text: `… and ${hiddenRows} more position${hiddenRows === 1 ? '' : 's'} (all of them in the average below).` })) : null),
      h('tfoot', null, h('tr', null,
        h('th', { scope: 'row', colspan: '4', text: `Average over N = ${loss.count} position${loss.count === 1 ? '' : 's'}: L` }),
        lossCell)));
  }
  /** Writes the numbers into the cells there are; whether one changed length (and so maybe the table's width). */
  function refill(loss, forward) {
    let resized = setNum(lossCell, loss.value, 4);
    numbers.forEach(([prob, term], t) => {
      if (setNum(prob, forward.probs[t][loss.targets[t]], 4)) resized = true;
      if (setNum(term, loss.terms[t], 4)) resized = true;
    });
    return resized;
  }
  return {
    update(view) {
      const { state, loss, forward } = view;
      why.show(loss ? null : noTargetMessage(view));
      table.hidden = !loss;
      caption.hidden = !loss;
      live.hidden = !loss;
      total.hidden = !loss;
      if (!loss) return;
      // Long inputs: the first MAX_ROWS positions as rows, the rest summed up in one line.
      const hiddenRows = Math.max(0, state.tokens.length - MAX_ROWS);
      const key = JSON.stringify([state.tokens.slice(0, MAX_ROWS),
        loss.targets.slice(0, MAX_ROWS).map((i) => (i == null ? null : state.vocab[i])), hiddenRows, loss.count]);
      let resized = true;
      if (key !== shapeKey) {
        shapeKey = key;
        build(state, loss, forward, hiddenRows);
      } else resized = refill(loss, forward);
      if (resized) keyboardScrollable(tableScroll, 'Loss terms (scrolls sideways)');
      const used = loss.targets.map((i, t) => (i == null ? null : t)).filter((t) => t != null);
      const shown = used.slice(0, 4);
      const more = used.length > 4 ? ' + \\cdots' : '';
      const logs = shown.map((t) => `\\ln ${n(forward.probs[t][loss.targets[t]])}`).join(' + ') + more;
      const terms = shown.map((t) => n(loss.terms[t])).join(' + ') + more;
      renderTexLazy(live, `L = -\\frac{1}{${loss.count}}\\left(${logs}\\right) = \\frac{1}{${loss.count}}\\left(${terms}\\right) = ${n(loss.value)}`);
      setText(total, `L = ${fmt(loss.value, 4)}. A perfect model would put probability 1 on every target and reach L = 0; guessing uniformly among ${state.vocab.length} tokens gives L = ln ${state.vocab.length}.`);
    },
  };
}
