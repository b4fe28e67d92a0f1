// @ts-check
// A matrix as an accessible table: token names as labels, fixed precision with
// full precision on hover/focus, a diverging colour scale plus a sign and a bar
// (colour is never the only cue). Weight cells are editable; gradient cells open
// their derivation. Only one cell per table is in the Tab order (roving tabindex);
// arrow keys move between cells.
import { h, setText, uniqueId, whenIdle } from './dom.js';
import { colourFloor, fmt, full, magnitude, parseNumber } from './format.js';
import { Heatmap, useHeatmap } from './heatmap.js';
import { captionNodes } from './legend.js';

/** Errors of a commit that finishes later (large models are computed in a worker). */
const later = (result, onError) => {
  if (result && typeof result.then === 'function') result.then(null, (err) => onError(err.message || String(err)));
};

const NUDGE = 0.01;
const DRAG_PER_PX = 0.005;
const round3 = (x) => Math.round(x * 1000) / 1000; // keeps nudged values readable

let dragCounter = 0;

// Large models (computed in the worker, so already asynchronous): a table out of view is
// repainted when it comes near the viewport or when the page is idle, not in the frame of the
// edit. Small models repaint every table in the edit's frame.
const near = new WeakSet();
const lazyQueue = new Set();
let nearObserver = null;
let idleQueued = false;
function observeNear(mv) {
  nearObserver ??= new IntersectionObserver((entries) => {
    for (const e of entries) {
      const view = /** @type {any} */ (e.target).matrixView;
      if (!view) continue;
      if (e.isIntersecting) { near.add(view); view.flushPending(); } else near.delete(view);
    }
  }, { rootMargin: '300px 0px' });
  mv.el.matrixView = mv;
  nearObserver.observe(mv.el);
}
// Off-screen tables catch up once edits pause (QUIET_MS), in idle time, so a burst of edits or
// a training run does not repaint every hidden table after each step.
const QUIET_MS = 400;
let quietTimer = 0;
function idleSoon() {
  clearTimeout(quietTimer);
  quietTimer = setTimeout(idleFlush, QUIET_MS);
}
function idleFlush() {
  if (idleQueued || !lazyQueue.size) return;
  idleQueued = true;
  whenIdle((deadline) => {
    idleQueued = false;
    for (const view of lazyQueue) {
      if (deadline.timeRemaining() < 6) break;
      view.flushPending();
    }
    idleFlush();
  });
}

export class MatrixView {
  /**
   * @param {object} o
   * @param {string} o.label  plain-text name used in captions and cell labels
   * @param {string} o.kind  'weight', 'activation', 'gradient', 'prob' or 'onehot'
   * @param {boolean} [o.editable]  weight cells take typed values
   * @param {(r:number,c:number,value:number|((current:number)=>number),opts?:object)=>(void|Promise<unknown>)} [o.onCommit]
   *   throws on invalid; a function value (a nudge) is applied to the entry as it is then
   * @param {()=>void} [o.onEditStart]  the reader began typing into a cell
   * @param {(r:number,c:number,cellEl:HTMLElement)=>void} [o.onActivate]  gradient cells
   * @param {string} [o.name]  data-name on the figure (tests, styling)
   * @param {number} [o.groupCols]  draw a divider every n columns (attention heads)
   * @param {string} [o.note]  short text under the caption
   * @param {number} [o.digits]  digits shown (3 unless given)
   * @param {string} [o.maskText]  what a masked cell shows
   * @param {string} [o.maskTitle]  a masked cell's tooltip
   */
  constructor(o) {
    this.opts = o;
    this.label = o.label;
    this.kind = o.kind;
    this.editable = Boolean(o.editable && o.onCommit);
    this.activatable = Boolean(o.onActivate);
    this.signed = o.kind !== 'prob' && o.kind !== 'onehot';
    this.values = null;
    this.rows = [];
    this.cols = [];
    this.shapeKey = '';
    this.focusPos = [0, 0];
    this.cells = []; // cells[r][c] = { td, focusEl, bar }
    this.captionId = uniqueId('cap');
    this.msgId = uniqueId('msg');

    this.caption = h('figcaption', { id: this.captionId, class: 'mat-caption' });
    this.captionText = h('span', { class: 'mat-title' }, ...captionNodes(o.label));
    this.shapeText = h('span', { class: 'mat-shape' });
    this.caption.append(this.captionText, ' ', this.shapeText);
    if (o.note) this.caption.append(h('span', { class: 'mat-note', text: o.note }));
    this.table = h('table', { class: `mat mat-${o.kind}`, 'aria-labelledby': this.captionId });
    this.scroller = h('div', { class: 'mat-scroll' }, this.table);
    this.msg = h('p', { class: 'mat-msg', id: this.msgId, role: 'status', 'aria-live': 'polite' });
    // The colour scale's legend: the range that full colour stands for in this matrix (every
    // matrix has its own scale; what prints as zero stays white, see the panels' help).
    this.scaleLow = h('span', { class: 'mat-scale-end' });
    this.scaleHigh = h('span', { class: 'mat-scale-end' });
    this.scaleNone = h('span', { class: 'mat-scale-none' });
    this.scale = h('p', { class: 'mat-scale', title: 'Colour scale of this matrix: white is 0, full colour is the end of the range; entries that print as 0.000 stay white.' },
      h('span', { class: 'visually-hidden', text: 'Colour scale: ' }), this.scaleLow,
      h('span', { class: `mat-swatch ${this.signed ? 'signed' : 'unsigned'}`, 'aria-hidden': 'true' }), this.scaleHigh, this.scaleNone);
    this.el = h('figure', { class: 'matrix', dataset: { name: o.name || '', kind: o.kind } },
      this.caption, this.scroller, this.scale, this.msg);
    if (this.editable) this.el.classList.add('editable');

    this.table.addEventListener('keydown', (e) => this.onKeyDown(e));
    this.table.addEventListener('focusin', (e) => this.onFocusIn(e));
    this.table.addEventListener('focusout', (e) => this.onFocusOut(e));
    this.table.addEventListener('input', (e) => this.onInput(e));
    this.table.addEventListener('click', (e) => this.onClick(e));
    if (this.editable) {
      this.table.addEventListener('pointerdown', (e) => this.onPointerDown(e));
      this.table.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
      // Dragging selected text would start a native drag-and-drop and cancel the nudge.
      this.table.addEventListener('dragstart', (e) => e.preventDefault());
    }
    // Whether the table overflows its scroller is checked when either one changes size (after
    // layout, in the browser's own ResizeObserver step), never by reading layout during a repaint.
    this.resizeObserver = new ResizeObserver(() => this.updateScrollable());
    this.resizeObserver.observe(this.scroller);
    this.resizeObserver.observe(this.table);
    this.labelsKey = null;
    this.pending = null;
    observeNear(this);
  }

  /** Paint the update that waited for this table to come into view (lazy updates). */
  flushPending() {
    const args = this.pending;
    if (!args) return;
    this.pending = null;
    lazyQueue.delete(this);
    this.paint(args);
  }

  /**
   * @param {object} u
   * @param {Array<Array<number|null>>} u.values
   * @param {string[]} u.rows  row labels
   * @param {string[]} u.cols  column labels
   * @param {(r:number,c:number)=>boolean} [u.masked]
   * @param {string} [u.label]
   * @param {boolean} [u.lazy]  out of view: paint later (when near the viewport or idle)
   */
  update(u) {
    if (u.lazy && !near.has(this) && this.el.isConnected) {
      this.pending = u;
      lazyQueue.add(this);
      idleSoon();
      return;
    }
    this.pending = null;
    lazyQueue.delete(this);
    this.paint(u);
  }

  paint({ values, rows, cols, masked = null, label = null }) {
    if (label && label !== this.label) { this.label = label; this.captionText.replaceChildren(...captionNodes(label)); }
    const R = values.length;
    const C = R ? values[0].length : 0;
    if (useHeatmap(R, C)) { this.updateHeatmap(values, rows, cols, masked, R, C); return; }
    if (this.heatmap && !this.heatmap.el.hidden) {
      this.heatmap.el.hidden = true;
      this.scroller.hidden = false;
      this.el.classList.remove('as-heatmap');
    }
    const key = `${R}x${C}`;
    const hadFocus = this.el.getRootNode().activeElement;
    const focusInside = hadFocus && this.table.contains(hadFocus);
    this.values = values;
    this.rows = rows;
    this.cols = cols;
    this.masked = masked;
    let rebuilt = false;
    if (key !== this.shapeKey) {
      this.shapeKey = key;
      this.build(R, C);
      rebuilt = true;
      if (focusInside) this.focusCell(...this.clampPos(this.focusPos));
    }
    // Labels (caption, token names) change rarely: cells repaint their titles only then.
    const labelsKey = `${this.label}\u0001${rows.join('\u0002')}\u0001${cols.join('\u0002')}`;
    const relabel = rebuilt || labelsKey !== this.labelsKey;
    this.labelsKey = labelsKey;
    if (relabel) {
      setText(this.shapeText, `${R}×${C}`);
      // Header labels (token names as text).
      this.colHeads.forEach((th, c) => setText(th, cols[c] ?? ''));
      this.rowHeads.forEach((th, r) => setText(th, rows[r] ?? ''));
    }

    let maxAbs = 0;
    for (const row of values) for (const v of row) if (v != null && Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
    const floor = colourFloor(this.opts.digits ?? undefined);
    this.paintScale(maxAbs, floor);
    const active = this.el.getRootNode().activeElement;
    for (let r = 0; r < R; r += 1) {
      const row = values[r];
      for (let c = 0; c < C; c += 1) this.paintCell(r, c, row[c], maxAbs, relabel, active, floor);
    }
  }

  /** The legend: "−0.500 ▭ +0.500", or that nothing is coloured when every entry prints as 0. */
  paintScale(maxAbs, floor) {
    const digits = this.opts.digits ?? undefined;
    const none = maxAbs < floor;
    setText(this.scaleLow, none ? '' : this.signed ? fmt(-maxAbs, digits) : fmt(0, digits));
    setText(this.scaleHigh, none ? '' : fmt(maxAbs, digits, this.signed));
    setText(this.scaleNone, none ? `all ${fmt(0, digits)}: no colour` : '');
    // Written only when they change: an edit repaints every matrix, most with the same scale.
    const key = full(maxAbs);
    if (this.el.dataset.scaleMax !== key) {
      this.scale.classList.toggle('none', none);
      this.el.dataset.scaleMax = key;
      this.el.dataset.scaleFloor = String(floor);
    }
    if (this.scale.hidden) this.scale.hidden = false;
  }

  /** Large matrices: a canvas heatmap instead of one table cell per entry (heatmap.js). */
  updateHeatmap(values, rows, cols, masked, R, C) {
    if (!this.heatmap) {
      this.heatmap = new Heatmap(this);
      this.scroller.after(this.heatmap.el);
    }
    this.values = values;
    this.rows = rows;
    this.cols = cols;
    this.masked = masked;
    if (this.shapeKey) { this.shapeKey = ''; this.table.replaceChildren(); this.cells = []; }
    this.scroller.hidden = true;
    this.scale.hidden = true; // the heatmap's readout gives every number in full
    this.heatmap.el.hidden = false;
    this.el.classList.add('as-heatmap');
    setText(this.shapeText, `${R}×${C}`);
    this.heatmap.update(values, rows, cols, masked);
  }

  /** A line under the matrix (messages about the last edit). */
  say(text, isError = false) {
    setText(this.msg, text || '');
    this.msg.classList.toggle('error', Boolean(isError && text));
  }

  /** @param {number[]} pos  [row, column] @returns {[number, number]} */
  clampPos([r, c]) {
    const R = this.cells.length;
    const C = R ? this.cells[0].length : 0;
    return [Math.max(0, Math.min(R - 1, r)), Math.max(0, Math.min(C - 1, c))];
  }

  build(R, C) {
    const headRow = h('tr', null, h('td', { class: 'corner' }));
    this.colHeads = [];
    for (let c = 0; c < C; c += 1) {
      const th = h('th', { scope: 'col' });
      if (this.opts.groupCols && c > 0 && c % this.opts.groupCols === 0) th.classList.add('group-start');
      this.colHeads.push(th);
      headRow.append(th);
    }
    const body = h('tbody');
    this.rowHeads = [];
    this.cells = [];
    for (let r = 0; r < R; r += 1) {
      const th = h('th', { scope: 'row' });
      this.rowHeads.push(th);
      const tr = h('tr', null, th);
      const rowCells = [];
      for (let c = 0; c < C; c += 1) {
        const td = h('td', { dataset: { r: String(r), c: String(c) } });
        if (this.opts.groupCols && c > 0 && c % this.opts.groupCols === 0) td.classList.add('group-start');
        let focusEl;
        const text = h('span', { class: 'num' });
        const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
        if (this.editable) {
          focusEl = h('input', {
            class: 'cell-input', type: 'text', inputmode: 'decimal', autocomplete: 'off',
            spellcheck: 'false', dataset: { r: String(r), c: String(c) },
          });
          td.append(focusEl, bar);
        } else if (this.activatable) {
          focusEl = h('button', { type: 'button', class: 'cell-btn', dataset: { r: String(r), c: String(c) } }, text);
          td.append(focusEl, bar);
        } else {
          focusEl = td;
          td.append(text, bar);
        }
        focusEl.tabIndex = -1;
        rowCells.push({ td, focusEl, text, bar });
        tr.append(td);
      }
      this.cells.push(rowCells);
      body.append(tr);
    }
    this.table.replaceChildren(h('thead', null, headRow), body);
    this.focusPos = this.clampPos(this.focusPos);
    if (R && C) this.cells[this.focusPos[0]][this.focusPos[1]].focusEl.tabIndex = 0;
  }

  /**
   * Paint one cell. Only what changed is written to the DOM (an edit changes some numbers of a
   * matrix, or none), so an unchanged cell costs a few comparisons and no style recalculation.
   */
  paintCell(r, c, v, maxAbs, relabel = true, active = this.el.getRootNode().activeElement, floor = 0) {
    const cell = this.cells[r][c];
    const { td, focusEl, text, bar } = cell;
    const isMasked = v == null || (this.masked ? this.masked(r, c) : false);
    if (relabel || !cell.painted || !Object.is(cell.value, v) || cell.isMasked !== isMasked) {
      cell.painted = true;
      cell.isMasked = isMasked;
      td.classList.toggle('masked', isMasked);
      const sign = isMasked || v === 0 ? 'zero' : v > 0 ? 'pos' : 'neg';
      td.classList.toggle('pos', sign === 'pos');
      td.classList.toggle('neg', sign === 'neg');
      const maskText = this.opts.maskText || 'masked';
      cell.shown = isMasked ? maskText : fmt(v, this.opts.digits, this.signed);
      cell.exact = isMasked ? maskText : full(v);
      td.dataset.value = cell.exact;
      const where = `${this.label}, row ${this.rows[r] ?? r}, column ${this.cols[c] ?? c}`;
      td.title = isMasked ? `${where}: ${this.opts.maskTitle || 'masked (a later position)'}` : `${where}: ${cell.exact}`;
      bar.hidden = isMasked;
      if (focusEl.tagName === 'INPUT') {
        if (relabel || !cell.labelled) {
          cell.labelled = true;
          focusEl.setAttribute('aria-label', `${this.label} row ${this.rows[r] ?? r} column ${this.cols[c] ?? c}`);
        }
      } else if (focusEl.tagName === 'BUTTON') {
        focusEl.setAttribute('aria-label', isMasked
          ? `masked: ${where}`
          : `${cell.shown}: ${where}. Show how it is computed`);
      }
    }
    cell.value = v;
    const mag = isMasked ? 0 : magnitude(v, maxAbs, floor);
    if (cell.mag !== mag) {
      cell.mag = mag;
      td.style.setProperty('--mag', String(mag));
    }
    const want = active === focusEl ? cell.exact : cell.shown;
    if (focusEl.tagName === 'INPUT') {
      if (focusEl.dataset.dirty !== 'true' && focusEl.value !== want) {
        // A focused cell whose whole value is selected stays selected as training repaints it,
        // so the reader's first key replaces the value instead of being appended to it.
        const all = active === focusEl && focusEl.selectionStart === 0 && focusEl.selectionEnd === focusEl.value.length;
        focusEl.value = want;
        if (all) focusEl.select();
      }
    } else if (cell.textShown !== want || text.firstChild?.data !== want) {
      cell.textShown = want;
      setText(text, want);
    }
  }

  updateScrollable() {
    const s = this.scroller;
    const overflow = s.scrollWidth > s.clientWidth + 1;
    if (overflow && !s.hasAttribute('tabindex')) {
      s.tabIndex = 0;
      s.setAttribute('role', 'region');
      s.setAttribute('aria-labelledby', this.captionId);
    } else if (!overflow && s.hasAttribute('tabindex')) {
      s.removeAttribute('tabindex');
      s.removeAttribute('role');
      s.removeAttribute('aria-labelledby');
    }
  }

  posOf(el) {
    const td = el.closest('td');
    if (!td || !this.table.contains(td) || td.dataset.r == null) return null;
    return [Number(td.dataset.r), Number(td.dataset.c)];
  }

  focusCell(r, c) {
    const [rr, cc] = this.clampPos([r, c]);
    const cell = this.cells[rr]?.[cc];
    if (!cell) return;
    const [pr, pc] = this.focusPos;
    if (this.cells[pr]?.[pc]) this.cells[pr][pc].focusEl.tabIndex = -1;
    this.focusPos = [rr, cc];
    cell.focusEl.tabIndex = 0;
    cell.focusEl.focus();
  }

  onFocusIn(e) {
    const pos = this.posOf(e.target);
    if (!pos) return;
    const [pr, pc] = this.focusPos;
    if (this.cells[pr]?.[pc]) this.cells[pr][pc].focusEl.tabIndex = -1;
    this.focusPos = pos;
    const cell = this.cells[pos[0]][pos[1]];
    cell.focusEl.tabIndex = 0;
    const exact = cell.td.dataset.value;
    if (cell.focusEl.tagName === 'INPUT') {
      if (cell.focusEl.dataset.dirty !== 'true') {
        cell.focusEl.value = exact;
        cell.focusEl.select();
      }
    } else if (cell.focusEl.matches(':focus-visible')) {
      // Keyboard focus shows the full precision. A click's focus does not: the longer number
      // would widen the table between press and release (a wrapped row of matrices reflows), the
      // release would land elsewhere and the click would be lost; the title has the number.
      setText(cell.text, exact);
    }
  }

  onFocusOut(e) {
    const pos = this.posOf(e.target);
    if (!pos) return;
    const cell = this.cells[pos[0]]?.[pos[1]];
    if (!cell) return;
    if (cell.focusEl.tagName === 'INPUT') {
      if (cell.focusEl.dataset.dirty === 'true') this.commitInput(pos[0], pos[1], { onBlur: true });
      if (cell.focusEl.dataset.dirty !== 'true') cell.focusEl.value = fmt(cell.value, this.opts.digits, this.signed);
    } else {
      setText(cell.text, cell.td.classList.contains('masked') ? (this.opts.maskText || 'masked') : fmt(cell.value, this.opts.digits, this.signed));
    }
  }

  onInput(e) {
    if (!e.target.classList?.contains('cell-input')) return;
    if (e.target.dataset.dirty !== 'true') this.opts.onEditStart?.();
    e.target.dataset.dirty = 'true';
  }

  onClick(e) {
    if (!this.activatable) return;
    const btn = e.target.closest('button.cell-btn');
    if (!btn) return;
    const pos = this.posOf(btn);
    if (!pos || btn.closest('td').classList.contains('masked')) return;
    this.opts.onActivate(pos[0], pos[1], btn);
  }

  onKeyDown(e) {
    const pos = this.posOf(e.target);
    if (!pos) return;
    const [r, c] = pos;
    const cell = this.cells[r][c];
    const input = cell.focusEl.tagName === 'INPUT' ? cell.focusEl : null;
    const dirty = input && input.dataset.dirty === 'true';
    const R = this.cells.length;
    const C = this.cells[0].length;
    if (input && e.key === 'Enter') {
      e.preventDefault();
      if (dirty) this.commitInput(r, c);
      return;
    }
    if (input && e.key === 'Escape') {
      if (dirty || input.getAttribute('aria-invalid') === 'true') {
        e.preventDefault();
        e.stopPropagation();
        this.cancelInput(r, c);
      }
      return;
    }
    if (input && e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown') && !dirty) {
      e.preventDefault();
      const step = (e.shiftKey ? 10 : 1) * NUDGE * (e.key === 'ArrowUp' ? 1 : -1);
      this.nudge(r, c, step, `key:${this.label}:${r}:${c}`);
      return;
    }
    let target = null;
    switch (e.key) {
      case 'ArrowUp': target = [r - 1, c]; break;
      case 'ArrowDown': target = [r + 1, c]; break;
      case 'ArrowLeft': if (!dirty) target = [r, c - 1]; break;
      case 'ArrowRight': if (!dirty) target = [r, c + 1]; break;
      case 'Home': if (!dirty) target = [r, 0]; break;
      case 'End': if (!dirty) target = [r, C - 1]; break;
      default: break;
    }
    if (!target) return;
    if (target[0] < 0 || target[0] >= R || target[1] < 0 || target[1] >= C) { e.preventDefault(); return; }
    e.preventDefault();
    if (dirty && !this.commitInput(r, c)) return;
    this.focusCell(...target);
  }

  /** Commit the typed text of cell (r, c). Returns true on success. */
  commitInput(r, c, { onBlur = false } = {}) {
    const cell = this.cells[r][c];
    const input = cell.focusEl;
    const parsed = parseNumber(input.value);
    if (parsed.error) {
      this.showError(r, c, parsed.error, onBlur);
      return false;
    }
    try {
      later(this.opts.onCommit(r, c, parsed.value), (msg) => this.showError(r, c, msg, true));
    } catch (err) {
      this.showError(r, c, err.message || String(err), onBlur);
      return false;
    }
    input.dataset.dirty = 'false';
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
    cell.td.classList.remove('invalid');
    setText(this.msg, parsed.note || '');
    return true;
  }

  showError(r, c, message, revert) {
    const cell = this.cells[r][c];
    const input = cell.focusEl;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', this.msgId);
    cell.td.classList.add('invalid');
    setText(this.msg, `${this.rows[r] ?? r} / ${this.cols[c] ?? c}: ${String(message).replace(/[.\s]+$/, '')}. The previous value ${fmt(cell.value, undefined, this.signed)} is kept.`);
    if (revert) {
      input.dataset.dirty = 'false';
      input.value = fmt(cell.value, undefined, this.signed);
    }
  }

  cancelInput(r, c) {
    const cell = this.cells[r][c];
    const input = cell.focusEl;
    input.dataset.dirty = 'false';
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
    cell.td.classList.remove('invalid');
    setText(this.msg, '');
    input.value = cell.td.dataset.value;
    input.select();
  }

  nudge(r, c, delta, coalesce) {
    const cell = this.cells[r][c];
    if (cell.value == null) return;
    try {
      later(this.opts.onCommit(r, c, (current) => round3(current + delta), { coalesce }),
        (msg) => setText(this.msg, `${msg} The previous value is kept.`));
      setText(this.msg, '');
    } catch (err) {
      setText(this.msg, `${err.message || err} The previous value is kept.`);
    }
  }

  onWheel(e) {
    const pos = this.posOf(e.target);
    if (!pos) return;
    const cell = this.cells[pos[0]][pos[1]];
    const input = cell.focusEl;
    if (this.el.getRootNode().activeElement !== input || input.dataset.dirty === 'true') return;
    if (e.deltaY === 0) return;
    e.preventDefault();
    const step = (e.shiftKey ? 10 : 1) * NUDGE * (e.deltaY < 0 ? 1 : -1);
    this.nudge(pos[0], pos[1], step, `wheel:${this.label}:${pos[0]}:${pos[1]}`);
  }

  onPointerDown(e) {
    if (e.button !== 0) return;
    const pos = this.posOf(e.target);
    if (!pos) return;
    const cell = this.cells[pos[0]][pos[1]];
    const input = cell.focusEl;
    if (input.dataset.dirty === 'true' || cell.value == null) return;
    const startX = e.clientX;
    const startValue = cell.value;
    const id = `drag:${(dragCounter += 1)}`;
    let dragging = false;
    const move = (ev) => {
      const dx = ev.clientX - startX;
      if (!dragging && Math.abs(dx) < 4) return;
      if (!dragging) {
        dragging = true;
        input.setPointerCapture?.(ev.pointerId);
        cell.td.classList.add('dragging');
      }
      ev.preventDefault();
      const per = ev.shiftKey ? DRAG_PER_PX / 10 : DRAG_PER_PX;
      const value = round3(startValue + dx * per);
      if (value === this.cells[pos[0]][pos[1]].value) return;
      try {
        later(this.opts.onCommit(pos[0], pos[1], value, { coalesce: id, sticky: true }),
          (msg) => setText(this.msg, `${msg} The previous value is kept.`));
      } catch (err) {
        setText(this.msg, `${err.message || err} The previous value is kept.`);
      }
    };
    const up = () => {
      input.removeEventListener('pointermove', move);
      input.removeEventListener('pointerup', up);
      input.removeEventListener('pointercancel', up);
      cell.td.classList.remove('dragging');
    };
    input.addEventListener('pointermove', move);
    input.addEventListener('pointerup', up);
    input.addEventListener('pointercancel', up);
  }
}
