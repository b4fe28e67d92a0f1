// @ts-check
// A large matrix as a heatmap <canvas>: one coloured square per entry on the same diverging
// scale as the tables (red positive, blue negative, green for probabilities, grey masked),
// without per-cell numbers. The number under the pointer, or under the keyboard cursor
// (focus the map, move with the arrow keys), is shown in full precision in a readout line;
// weight maps can be edited there, gradient maps open their derivation with Enter.
import { h, setText } from './dom.js';
import { colourFloor, full, parseNumber } from './format.js';

/** Matrices with more entries than this (or a side longer than HEATMAP_SIDE) become heatmaps. */
const HEATMAP_CELLS = 256;
const HEATMAP_SIDE = 64;
export const useHeatmap = (R, C) => R * C > HEATMAP_CELLS || R > HEATMAP_SIDE || C > HEATMAP_SIDE;

const MAX_PX = 560;
const BUDGET_MS = 30; // painting stops after this long in one task and continues in the next

// Paint queue: only heatmaps near the viewport are painted, a few per task, so a large model's
// dozens of maps never hold the main thread for long. Off-screen maps paint when scrolled to.
const queue = new Set();
let queued = false;
function schedule(map) {
  queue.add(map);
  if (queued) return;
  queued = true;
  setTimeout(drain, 0);
}
function drain() {
  queued = false;
  const start = performance.now();
  for (const map of queue) {
    if (!map.visible) { queue.delete(map); continue; }
    queue.delete(map);
    map.paint();
    if (performance.now() - start > BUDGET_MS) break;
  }
  if (queue.size && !queued) { queued = true; setTimeout(drain, 0); }
}
const observer = new IntersectionObserver((entries) => {
  for (const e of entries) {
    const map = /** @type {any} */ (e.target).heatmap;
    if (!map) continue;
    map.visible = e.isIntersecting;
    if (map.visible && map.dirty) schedule(map);
  }
}, { rootMargin: '400px 0px' });
const RGB = {
  pos: [178, 24, 43], neg: [33, 102, 172], prob: [27, 122, 74], masked: [200, 200, 200],
};

export class Heatmap {
  /** @param {import('./matrix.js').MatrixView} mv  the matrix it draws for (labels, callbacks) */
  constructor(mv) {
    this.visible = false; // on screen (the IntersectionObserver above keeps it)
    this.mv = mv;
    this.pos = [0, 0];
    this.R = 0;
    this.C = 0;
    this.canvas = h('canvas', {
      class: 'heatmap-canvas', tabindex: '0', role: 'img',
      'aria-describedby': `${mv.msgId}-heat`,
    });
    this.cursor = h('div', { class: 'heat-cursor', 'aria-hidden': 'true' });
    this.readout = h('p', { class: 'heat-readout', id: `${mv.msgId}-heat`, 'aria-live': 'polite' });
    this.input = null;
    const tools = [this.readout];
    if (mv.editable) {
      this.input = h('input', {
        type: 'text', class: 'text-input heat-input', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false',
      });
      this.setBtn = h('button', { type: 'button', class: 'btn heat-set', text: 'Set' });
      const editRow = h('div', { class: 'heat-edit' },
        h('label', null, h('span', { class: 'label-text heat-edit-label', text: 'Selected entry' }), this.input), this.setBtn);
      tools.push(editRow);
      this.setBtn.addEventListener('click', () => this.commit());
      // As in a table's cells (matrix.js): typing pauses a running training, whose next step
      // would otherwise replace the number being typed.
      this.input.addEventListener('input', () => this.mv.opts.onEditStart?.());
      this.input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') { e.preventDefault(); this.commit(); }
        if (e.key === 'Escape') { e.preventDefault(); this.syncInput(); this.canvas.focus(); }
      });
    }
    this.el = h('div', { class: 'heatmap', hidden: true },
      h('div', { class: 'heat-scroll' }, h('div', { class: 'heat-stack' }, this.canvas, this.cursor)),
      ...tools);
    this.canvas.addEventListener('pointermove', (e) => this.onPointer(e));
    this.canvas.addEventListener('click', (e) => { this.onPointer(e, true); this.activate(); });
    this.canvas.addEventListener('pointerleave', () => this.describe());
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    this.canvas.addEventListener('focus', () => { this.cursor.hidden = false; this.describe(); });
    this.canvas.addEventListener('blur', () => { this.cursor.hidden = true; });
    this.cursor.hidden = true;
  }

  /** New values: painted soon if the map is near the viewport, else when it scrolls into view. */
  update(values, rows, cols, masked) {
    const R = values.length;
    const C = R ? values[0].length : 0;
    this.values = values;
    this.rows = rows;
    this.cols = cols;
    this.masked = masked;
    if (R !== this.R || C !== this.C) {
      this.R = R;
      this.C = C;
      this.canvas.width = Math.max(1, C);
      this.canvas.height = Math.max(1, R);
      this.px = Math.max(1, Math.min(8, Math.floor(MAX_PX / Math.max(R, C, 1))));
      this.canvas.style.width = `${C * this.px}px`;
      this.canvas.style.height = `${R * this.px}px`;
      this.pos = [Math.min(this.pos[0], R - 1), Math.min(this.pos[1], C - 1)];
      this.image = null;
    }
    this.canvas.setAttribute('aria-label',
      `${this.mv.label}: ${R}×${C} heatmap, red positive, blue negative. Focus it and use the arrow keys to read each number.`);
    this.placeCursor();
    this.describe();
    if (this.input && this.mv.el.getRootNode().activeElement !== this.input) this.syncInput();
    this.dirty = true;
    if (!this.observed) { this.observed = true; this.canvas.heatmap = this; observer.observe(this.canvas); }
    if (this.visible) schedule(this);
  }

  paint() {
    this.dirty = false;
    const { values, masked, R, C } = this;
    const ctx = this.canvas.getContext('2d');
    if (!ctx || !R || !C) return;
    let maxAbs = 0;
    for (let r = 0; r < R; r += 1) {
      const row = values[r];
      for (let c = 0; c < C; c += 1) {
        const a = Math.abs(row[c]);
        if (a > maxAbs && a !== Infinity) maxAbs = a; // NaN (masked) compares false
      }
    }
    if (!this.image) this.image = ctx.createImageData(C, R);
    const px = this.image.data;
    const kind = this.mv.kind;
    // As in the tables: what would print as 0.000 stays white (matrix.js, format.js colourFloor).
    const floor = colourFloor();
    const scale = maxAbs >= floor ? 1 / maxAbs : 0;
    let i = 0;
    for (let r = 0; r < R; r += 1) {
      const row = values[r];
      for (let c = 0; c < C; c += 1, i += 4) {
        const v = row[c];
        let rgb;
        let t;
        if (v == null || Number.isNaN(v) || (masked && masked(r, c))) { rgb = RGB.masked; t = 1; } else {
          rgb = kind === 'prob' || kind === 'onehot' ? RGB.prob : v >= 0 ? RGB.pos : RGB.neg;
          t = Math.abs(v) < floor ? 0 : Math.min(1, Math.abs(v) * scale);
        }
        px[i] = 255 + (rgb[0] - 255) * t;
        px[i + 1] = 255 + (rgb[1] - 255) * t;
        px[i + 2] = 255 + (rgb[2] - 255) * t;
        px[i + 3] = 255;
      }
    }
    ctx.putImageData(this.image, 0, 0);
    this.canvas.dataset.painted = String((Number(this.canvas.dataset.painted) || 0) + 1);
  }

  value(r, c) { return this.values?.[r]?.[c]; }

  isMasked(r, c) {
    const v = this.value(r, c);
    return v == null || Number.isNaN(v) || Boolean(this.masked && this.masked(r, c));
  }

  describe() {
    const [r, c] = this.pos;
    if (!this.R || !this.C) { setText(this.readout, ''); return; }
    const where = `row ${this.rows[r] ?? r}, column ${this.cols[c] ?? c}`;
    setText(this.readout, this.isMasked(r, c) ? `${where}: masked` : `${where}: ${full(this.value(r, c))}`);
    this.readout.dataset.r = String(r);
    this.readout.dataset.c = String(c);
    this.readout.dataset.value = this.isMasked(r, c) ? '' : full(this.value(r, c));
  }

  syncInput() {
    if (!this.input) return;
    const [r, c] = this.pos;
    this.input.value = this.isMasked(r, c) ? '' : full(this.value(r, c));
    this.input.setAttribute('aria-label', `${this.mv.label} row ${this.rows[r] ?? r} column ${this.cols[c] ?? c}`);
  }

  placeCursor() {
    const [r, c] = this.pos;
    const s = this.px || 1;
    this.cursor.style.left = `${c * s - 1}px`;
    this.cursor.style.top = `${r * s - 1}px`;
    this.cursor.style.width = `${s + 2}px`;
    this.cursor.style.height = `${s + 2}px`;
  }

  moveTo(r, c) {
    this.pos = [Math.max(0, Math.min(this.R - 1, r)), Math.max(0, Math.min(this.C - 1, c))];
    this.placeCursor();
    this.describe();
    this.syncInput();
  }

  /** Hover shows the number under the pointer (title and readout); a click selects it. */
  onPointer(e, select = false) {
    const rect = this.canvas.getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    const c = Math.max(0, Math.min(this.C - 1, Math.floor(((e.clientX - rect.left) / rect.width) * this.C)));
    const r = Math.max(0, Math.min(this.R - 1, Math.floor(((e.clientY - rect.top) / rect.height) * this.R)));
    if (select) { this.moveTo(r, c); return; }
    const where = `row ${this.rows[r] ?? r}, column ${this.cols[c] ?? c}`;
    const text = this.isMasked(r, c) ? `${where}: masked` : `${where}: ${full(this.value(r, c))}`;
    this.canvas.title = text;
    setText(this.readout, text);
  }

  onKey(e) {
    const [r, c] = this.pos;
    const page = Math.max(1, Math.round(this.R / 8));
    const moves = {
      ArrowUp: [r - 1, c], ArrowDown: [r + 1, c], ArrowLeft: [r, c - 1], ArrowRight: [r, c + 1],
      Home: [r, 0], End: [r, this.C - 1], PageUp: [r - page, c], PageDown: [r + page, c],
    };
    if (moves[e.key]) { e.preventDefault(); this.moveTo(...moves[e.key]); return; }
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.activate(); }
  }

  activate() {
    const [r, c] = this.pos;
    if (this.input) { this.syncInput(); this.input.focus(); this.input.select(); return; }
    if (this.mv.activatable && !this.isMasked(r, c)) this.mv.opts.onActivate(r, c, this.canvas);
  }

  commit() {
    const [r, c] = this.pos;
    const parsed = parseNumber(this.input.value);
    const fail = (msg) => {
      this.input.setAttribute('aria-invalid', 'true');
      this.mv.say(`${this.rows[r] ?? r} / ${this.cols[c] ?? c}: ${msg} The previous value ${full(this.value(r, c))} is kept.`, true);
    };
    if (parsed.error) { fail(parsed.error); return; }
    this.input.removeAttribute('aria-invalid');
    this.mv.say(parsed.note || '');
    try {
      const p = this.mv.opts.onCommit(r, c, parsed.value);
      if (p && typeof p.then === 'function') p.catch((err) => { fail(err.message || String(err)); this.syncInput(); });
    } catch (err) {
      fail(err.message || String(err));
    }
  }
}
