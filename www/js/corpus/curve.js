// @ts-check
// The training run's loss curve: the training loss and the held-out loss after every step, on a
// linear or a logarithmic axis. The pointer or the arrow keys (the curve is a slider over the
// steps) pick a step, whose two losses are shown as text. It draws the core's losses; it only
// maps them to pixels.
import { h, svg, setText } from '../dom.js';
import { fmt, full } from '../format.js';

const W = 640;
const H = 240;
const PAD = { l: 80, r: 12, t: 14, b: 34 };
/** At most this many points per polyline: a 2,000-step curve is drawn from every third point. */
const MAX_POINTS = 700;

export class LossCurve {
  constructor({ label = 'Loss curve' } = {}) {
    this.train = svg('polyline', { class: 'curve-train', fill: 'none', points: '' });
    this.held = svg('polyline', { class: 'curve-held', fill: 'none', points: '' });
    this.cursor = svg('line', { class: 'curve-cursor', y1: PAD.t, y2: H - PAD.b, x1: -10, x2: -10 });
    this.yTop = svg('text', { x: PAD.l - 6, y: PAD.t + 10, 'text-anchor': 'end', class: 'axis-label' });
    this.yBottom = svg('text', { x: PAD.l - 6, y: H - PAD.b, 'text-anchor': 'end', class: 'axis-label' });
    this.xEnd = svg('text', { x: W - PAD.r, y: H - 12, 'text-anchor': 'end', class: 'axis-label' });
    this.svg = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'loss-curve', 'aria-hidden': 'true', focusable: 'false' },
      svg('line', { x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b, class: 'axis' }),
      svg('line', { x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b, class: 'axis' }),
      svg('text', { x: PAD.l, y: H - 12, class: 'axis-label', text: '0' }),
      svg('text', { x: (W + PAD.l) / 2, y: H - 12, 'text-anchor': 'middle', class: 'axis-label', text: 'step' }),
      this.yTop, this.yBottom, this.xEnd, this.held, this.train, this.cursor);
    this.readout = h('p', { class: 'curve-readout', dataset: { testid: 'curve-readout' } });
    this.log = h('input', { type: 'checkbox' });
    // The slider is the curve's frame: focusable, named, with the picked step as its value.
    this.frame = h('div', {
      class: 'curve-frame', tabindex: '0', role: 'slider', 'aria-label': `${label}: pick a step with the arrow keys`,
      'aria-valuemin': '0', 'aria-valuemax': '0', 'aria-valuenow': '0', 'aria-valuetext': 'no steps yet',
    }, this.svg);
    this.el = h('div', { class: 'curve-box' },
      h('div', { class: 'curve-legend' },
        h('span', { class: 'key key-train', text: 'training loss' }),
        h('span', { class: 'key key-held', text: 'held-out loss' }),
        h('label', { class: 'check' }, this.log, ' logarithmic scale')),
      this.frame, this.readout);
    this.data = null;
    this.picked = null; // the step the reader pointed at or moved to; null: the last one
    this.log.addEventListener('change', () => this.paint());
    this.frame.addEventListener('pointermove', (e) => this.pointAt(e));
    this.frame.addEventListener('pointerdown', (e) => this.pointAt(e));
    this.frame.addEventListener('pointerleave', () => { this.picked = null; this.paint(); });
    this.frame.addEventListener('keydown', (e) => this.key(e));
  }

  /** `{ losses, heldOutLosses, done, total }`: point i is the loss after step i (0: before any). */
  update(data) {
    this.data = data;
    this.paint();
  }

  pointAt(event) {
    if (!this.data) return;
    const box = this.svg.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * W;
    const step = Math.round(((x - PAD.l) / (W - PAD.l - PAD.r)) * this.data.total);
    this.picked = Math.max(0, Math.min(this.data.done, step));
    this.paint();
  }

  key(event) {
    if (!this.data) return;
    const { done, total } = this.data;
    const at = this.picked ?? done;
    const big = Math.max(1, Math.round(total / 20));
    const to = { ArrowLeft: at - 1, ArrowDown: at - 1, ArrowRight: at + 1, ArrowUp: at + 1, PageDown: at - big, PageUp: at + big, Home: 0, End: done }[event.key];
    if (to == null) return;
    event.preventDefault();
    this.picked = Math.max(0, Math.min(done, to));
    this.paint();
  }

  paint() {
    const d = this.data;
    if (!d) return;
    const { losses, heldOutLosses, done, total } = d;
    const log = this.log.checked;
    const values = [];
    for (let i = 0; i <= done; i += 1) {
      if (losses[i] > 0 && Number.isFinite(losses[i])) values.push(losses[i]);
      if (heldOutLosses[i] > 0 && Number.isFinite(heldOutLosses[i])) values.push(heldOutLosses[i]);
    }
    let hi = values.length ? Math.max(...values) : 1;
    let lo = log ? (values.length ? Math.min(...values) : 0.1) : 0;
    if (!(hi > lo)) { hi = lo + 1; }
    const f = (v) => (log ? Math.log10(v) : v);
    const x = (i) => PAD.l + (i / Math.max(total, 1)) * (W - PAD.l - PAD.r);
    const y = (v) => PAD.t + (1 - (f(v) - f(lo)) / (f(hi) - f(lo))) * (H - PAD.t - PAD.b);
    const stride = Math.max(1, Math.ceil((done + 1) / MAX_POINTS));
    const at = [];
    for (let i = 0; i <= done; i += stride) at.push(i);
    if (at[at.length - 1] !== done) at.push(done);
    const line = (series) => at
      .filter((i) => Number.isFinite(series[i]) && series[i] > 0)
      .map((i) => `${x(i).toFixed(1)},${y(series[i]).toFixed(1)}`).join(' ');
    this.train.setAttribute('points', line(losses));
    this.held.setAttribute('points', line(heldOutLosses));
    setText(this.yTop, fmt(hi, 3));
    setText(this.yBottom, fmt(lo, log ? 4 : 0));
    setText(this.xEnd, String(total));
    const step = this.picked ?? done;
    const cx = x(step).toFixed(1);
    this.cursor.setAttribute('x1', cx);
    this.cursor.setAttribute('x2', cx);
    const text = describe(step, losses[step], heldOutLosses[step]);
    setText(this.readout, text);
    this.readout.dataset.step = String(step);
    this.readout.dataset.loss = full(losses[step]);
    this.readout.dataset.heldOut = Number.isFinite(heldOutLosses[step]) ? full(heldOutLosses[step]) : '';
    this.frame.setAttribute('aria-valuemax', String(done));
    this.frame.setAttribute('aria-valuenow', String(step));
    this.frame.setAttribute('aria-valuetext', text);
  }
}

function describe(step, loss, held) {
  const h = Number.isFinite(held) ? `, held-out loss ${fmt(held, 4)}` : '';
  return `Step ${step}: training loss ${fmt(loss, 4)}${h}`;
}
