// @ts-check
// What the timeline draws for one recorded step: each head's attention map for the picked
// sentence (a table: one row per position, one column per position it may look at), and one
// position's next-token probabilities as bars. Values are the core's; only colours and widths
// are derived from them.
import { h } from '../dom.js';
import { fmt, full } from '../format.js';

/** Writes attention weight `v` into a cell: its text, full value and colour. */
function fillCell(cell, v) {
  cell.title = full(v);
  cell.dataset.value = full(v);
  cell.textContent = fmt(v, 2);
  // Two bands, so every cell's text keeps a 4.5:1 contrast: dark text on light blue up to 0.5,
  // white text on dark blue above it.
  const a = Math.max(0, Math.min(1, v));
  const alpha = a <= 0.5 ? 0.06 + 0.76 * a : 0.85 + 0.3 * (a - 0.5);
  cell.style.backgroundColor = `rgba(31, 95, 168, ${alpha.toFixed(3)})`;
  cell.classList.toggle('dark', a > 0.5);
}

/**
 * New values for a table made by attentionTable for the same tokens: written into its cells in
 * place, so a timeline that follows a running training repaints without rebuilding the tables.
 */
export function refillAttentionTable(table, head) {
  const rows = table.tBodies[0].rows;
  head.forEach((row, t) => {
    for (let s = 0; s <= t; s += 1) fillCell(rows[t].cells[s + 1], row[s]);
  });
}

/** One head's T × T attention as a table; masked (later) positions are left empty. */
export function attentionTable(head, tokens, h0) {
  const caption = h('caption', { text: `Head ${h0}` });
  const headRow = h('tr', null, h('th', { scope: 'col', class: 'corner', text: 'reads →' }),
    ...tokens.map((t, s) => h('th', { scope: 'col', title: `position ${s}`, text: t })));
  const rows = head.map((row, t) => h('tr', null,
    h('th', { scope: 'row', title: `position ${t}`, text: tokens[t] }),
    ...tokens.map((_, s) => {
      if (s > t) return h('td', { class: 'masked', 'aria-label': 'masked' });
      const cell = h('td');
      fillCell(cell, row[s]);
      return cell;
    })));
  return h('table', { class: 'attention-map', dataset: { head: String(h0) } }, caption, h('thead', null, headRow), h('tbody', null, ...rows));
}

/**
 * The `top` likeliest next tokens of one probability row as labelled bars, `actual` marked with
 * `tag` (the token that really comes next, or the one generation chose). `names`: the vocabulary.
 */
export function probabilityBars(row, names, actual, { top = 8, tag = 'comes next' } = {}) {
  const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a]).slice(0, top);
  return h('ol', { class: 'prob-bars' }, ...order.map((i) => {
    const bar = h('span', { class: 'bar' });
    bar.style.width = `${(100 * row[i]).toFixed(1)}%`;
    return h('li', { class: names[i] === actual ? 'actual' : null, dataset: { token: names[i], value: full(row[i]) } },
      h('span', { class: 'name', text: names[i] }),
      h('span', { class: 'track' }, bar),
      h('span', { class: 'p', text: fmt(row[i], 3) }),
      names[i] === actual ? h('span', { class: 'tag', text: ` (${tag})` }) : null);
  }));
}
