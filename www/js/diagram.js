// @ts-check
// <bp-diagram mode="forward|backward">: the model as an SVG drawn from the group's current
// configuration (heads, layer norm, feed-forward), one block per step of the forward pass. A block
// is a link: hovering or focusing it outlines its matrices in the widgets (class bp-highlight on
// their figures), activating it scrolls to the first of them. In backward mode the arrows point
// back up, from the loss towards the input, and the blocks lead to the gradient matrices.
import { svg, setText } from './dom.js';
import { symText } from './notation.js';
import { getStore } from './store.js';

const ROW = 38; // height of a block: its name above its formula
const GAP = 12; // space for an arrow between blocks
const COL_W = 190;
const PAD = 20; // left margin: the residual stubs come in from there

const S = (key) => `@${key}`;
// Each block: what it is called, its formula (with @key symbols), the matrices it shows (figure
// data-name suffixes of weights "w:" and activations "a:"), and when it is there at all.
const BLOCKS = [
  { id: 'tokens', grad: '', title: 'input tokens', formula: '', figures: [], section: 'model' },
  { id: 'embed', grad: `∂${S('loss')}/∂${S('x')}`, title: 'embeddings', formula: `${S('x')} = ${S('embedding')}[ids] + ${S('position')}`, figures: ['w:embedding', 'w:position', 'a:x'] },
  { id: 'ln1', grad: `∂${S('loss')}/∂${S('attnIn')}`, title: 'layer norm 1', formula: S('attnIn'), figures: ['w:ln1Gain', 'w:ln1Bias', 'a:attnIn'], when: (c) => c.layerNorm },
  { id: 'qkv', grad: `∂${S('loss')}/∂${S('q')}, ${S('k')}, ${S('v')}`, title: 'queries, keys, values', formula: `${S('q')}  ${S('k')}  ${S('v')}`, figures: ['w:wq', 'w:wk', 'w:wv', 'a:q', 'a:k', 'a:v'] },
  { id: 'scores', grad: `∂${S('loss')}/∂${S('scores')}`, title: 'scores, masked', formula: S('scores'), figures: ['h:scores'], perHead: true },
  { id: 'attention', grad: `∂${S('loss')}/∂${S('attention')}`, title: 'softmax', formula: S('attention'), figures: ['h:attention'], perHead: true },
  { id: 'z', grad: `∂${S('loss')}/∂${S('z')}`, title: 'mix the values', formula: S('z'), figures: ['a:z'], perHead: true },
  { id: 'wo', grad: `∂${S('loss')}/∂${S('attnOut')}`, title: 'combine the heads', formula: `${S('attnOut')} = ${S('z')} ${S('wo')}`, figures: ['w:wo', 'a:attnOut'] },
  { id: 'res1', grad: `∂${S('loss')}/∂${S('x1')}`, title: 'residual', formula: `${S('x1')} = ${S('x')} + ${S('attnOut')}`, figures: ['a:x1'], residual: 'x' },
  { id: 'ln2', grad: `∂${S('loss')}/∂${S('mlpIn')}`, title: 'layer norm 2', formula: S('mlpIn'), figures: ['w:ln2Gain', 'w:ln2Bias', 'a:mlpIn'], when: (c) => c.layerNorm && c.dFf > 0 },
  { id: 'ff', grad: `∂${S('loss')}/∂${S('u')}, ${S('hidden')}, ${S('mlpOut')}`, title: 'feed-forward', formula: `${S('u')}  ${S('hidden')}  ${S('mlpOut')}`, figures: ['w:w1', 'w:b1', 'a:u', 'a:hidden', 'w:w2', 'w:b2', 'a:mlpOut'], when: (c) => c.dFf > 0 },
  { id: 'res2', grad: `∂${S('loss')}/∂${S('x2')}`, title: 'residual', formula: `${S('x2')} = ${S('x1')} + ${S('mlpOut')}`, figures: ['a:x2'], residual: 'x1', when: (c) => c.dFf > 0 },
  { id: 'lnf', grad: `∂${S('loss')}/∂${S('xf')}`, title: 'final layer norm', formula: S('xf'), figures: ['w:lnfGain', 'w:lnfBias', 'a:xf'], when: (c) => c.layerNorm },
  { id: 'logits', grad: `∂${S('loss')}/∂${S('logits')}`, title: 'unembedding', formula: `${S('logits')} = ${S('xf')} ${S('unembedding')}`, figures: ['w:unembedding', 'a:logits'] },
  { id: 'probs', grad: `(${S('probs')} − ${S('target')}) / ${S('count')}`, title: 'softmax', formula: S('probs'), figures: ['a:probs'] },
  { id: 'loss', grad: S('loss'), title: 'loss', formula: S('loss'), figures: [], section: 'loss' },
];

/** A block's figure names in one mode: forward shows weights and activations, backward their gradients. */
function figureNames(block, mode, H) {
  return block.figures.flatMap((f) => {
    const [kind, name] = f.split(':');
    if (kind === 'h') return Array.from({ length: H }, (_, h) => `${mode === 'forward' ? 'act' : 'grad'}-${name}-h${h}`);
    if (mode === 'forward') return [`${kind === 'w' ? 'weight' : 'act'}-${name}`];
    return [`grad-${name}`];
  });
}

/** Text with @key symbols as SVG tspans: "W_Q" becomes W with a lowered, smaller Q. */
function symbolSpans(text) {
  const out = [];
  for (const part of text.split(/(@[A-Za-z][A-Za-z0-9]*)/).filter(Boolean)) {
    if (!part.startsWith('@')) { out.push(svg('tspan', { text: part })); continue; }
    const key = part.slice(1);
    const plain = symText(key);
    const m = /^(.+?)_(.+)$/.exec(plain);
    if (!m) { out.push(svg('tspan', { class: 'dg-sym', text: plain })); continue; }
    out.push(svg('tspan', { class: 'dg-sym', text: m[1] }),
      svg('tspan', { class: 'dg-sub', dy: '3', text: m[2] }),
      svg('tspan', { dy: '-3', text: '\u200a' }));
  }
  return out;
}

/** Where a block's matrices are: the first widget of the group showing the mode's stage. */
function widgetsFor(group, stage) {
  return [...document.querySelectorAll('backprop-widget')].filter((w) => (w.getAttribute('group') || 'default') === group
    && (/** @type {any} */ (w).stages || []).includes(stage) && w.shadowRoot);
}

export class BpDiagram extends HTMLElement {
  connectedCallback() {
    if (this.svgEl) { this.connect(getStore(this.group)); return; }
    this.mode = this.getAttribute('mode') === 'backward' ? 'backward' : 'forward';
    this.group = this.getAttribute('group') || 'default';
    this.stage = this.mode === 'forward' ? 'forward' : 'backward';
    this.svgEl = svg('svg', { class: `diagram diagram-${this.mode}`, role: 'group' });
    this.titleEl = svg('title');
    this.svgEl.append(this.titleEl);
    this.append(this.svgEl);
    this.key = '';
    const store = getStore(this.group);
    // Blocks whose matrices are on screen are marked (dg-inview): where the reader is in the model.
    this.visible = new Set();
    this.viewObserver = new IntersectionObserver((entries) => {
      for (const e of entries) if (e.isIntersecting) this.visible.add(e.target); else this.visible.delete(e.target);
      this.markInView();
    });
    this.connect(store);
  }

  /** Follows the store while connected (again after a move in the document). */
  connect(store) {
    store.ready.then(() => {
      if (!this.isConnected || this.unsubscribe) return;
      this.width = this.clientWidth;
      this.render(store.view);
      // The widgets mount after the store is ready, one task each: their figures are looked for
      // as each arrives, and after a change of shape (coalesced: one search for several).
      this.findFigures = () => {
        if (this.figuresQueued) return;
        this.figuresQueued = true;
        setTimeout(() => { this.figuresQueued = false; this.watchFigures(); }, 0);
      };
      // Panels replace their figures only when the model's shape changes, so an edit of a
      // number neither redraws the diagram nor looks for figures again.
      const shapeOf = (v) => JSON.stringify([v.state.config, v.state.vocab.length, v.state.tokens.length]);
      this.shape = shapeOf(store.view);
      this.unsubscribe = store.subscribe((v) => {
        this.render(v);
        const shape = shapeOf(v);
        if (shape !== this.shape) { this.shape = shape; this.findFigures(); }
      });
      document.addEventListener('bp-mounted', this.findFigures);
      this.findFigures();
      // The width comes from the observer (after layout), never read during a repaint, where
      // it would force a layout in the middle of the edit's frame.
      this.resizeObserver = new ResizeObserver((entries) => {
        this.width = entries[entries.length - 1].contentRect.width;
        this.render(store.view);
      });
      this.resizeObserver.observe(this);
    }, () => {});
  }

  disconnectedCallback() {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.findFigures) document.removeEventListener('bp-mounted', this.findFigures);
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
    this.viewObserver.disconnect();
    this.visible.clear();
    this.shape = null;
  }

  /** Redraws when what the diagram shows changed. */
  render(view) {
    const c = view.state.config;
    const columns = (this.width ?? 0) >= 2 * COL_W + 24 + PAD ? 2 : 1;
    const key = JSON.stringify([c.nHeads, c.layerNorm, c.dFf, c.activation, view.state.tokens, columns]);
    if (key === this.key) return;
    this.key = key;
    this.draw(view.state, columns);
  }

  draw(state, columns) {
    const c = state.config;
    const H = c.nHeads;
    const blocks = BLOCKS.filter((b) => !b.when || b.when(c));
    const backward = this.mode === 'backward';
    // Two columns split after the first residual (attention | feed-forward and output).
    const split = columns === 2 ? blocks.findIndex((b) => b.id === 'res1') + 1 : blocks.length;
    const rows = Math.max(split, blocks.length - split);
    const width = PAD + columns * COL_W + (columns - 1) * 24;
    const height = rows * (ROW + GAP) + 16;
    this.svgEl.setAttribute('viewBox', `0 0 ${width} ${height}`);
    // Drawn at its natural size (never blown up), narrower when the column is.
    this.svgEl.setAttribute('width', String(width));
    this.svgEl.setAttribute('height', String(height));
    this.svgEl.dataset.blocks = blocks.map((b) => b.id).join(' ');
    this.svgEl.dataset.heads = String(H);
    this.svgEl.dataset.columns = String(columns);
    setText(this.titleEl, backward
      ? 'The model read backwards: gradients flow from the loss to the embeddings.'
      : `The model: ${blocks.map((b) => b.title).join(', then ')}.`);
    this.svgEl.setAttribute('aria-label', this.titleEl.textContent);
    const defs = svg('defs', null, svg('marker', {
      id: `dg-arrow-${this.mode}`, viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse',
    }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'dg-arrowhead' })));
    const pos = blocks.map((b, i) => {
      const col = i < split ? 0 : 1;
      const row = i < split ? i : i - split;
      return { x: PAD + col * (COL_W + 24), y: 16 + row * (ROW + GAP), w: COL_W - 8 };
    });
    const arrows = svg('g', { class: 'dg-arrows' });
    const marker = `url(#dg-arrow-${this.mode})`;
    // Backwards, nothing flows into the token ids: the sweep ends at the embeddings.
    for (let i = backward ? 2 : 1; i < blocks.length; i += 1) {
      const a = pos[i - 1];
      const b = pos[i];
      const d = a.x === b.x
        ? `M${a.x + a.w / 2},${a.y + ROW} L${b.x + b.w / 2},${b.y}`
        : `M${a.x + a.w / 2},${a.y + ROW} L${a.x + a.w / 2},${a.y + ROW + GAP / 2} L${a.x + a.w + 12},${a.y + ROW + GAP / 2} L${a.x + a.w + 12},${b.y - GAP / 2} L${b.x + b.w / 2},${b.y - GAP / 2} L${b.x + b.w / 2},${b.y}`;
      arrows.append(svg('path', { d, class: 'dg-arrow', [backward ? 'marker-start' : 'marker-end']: marker }));
    }
    const group = svg('g', { class: 'dg-blocks' });
    blocks.forEach((b, i) => group.append(this.block(b, pos[i], state, H, backward, marker)));
    this.svgEl.replaceChildren(this.titleEl, defs, arrows, group);
  }

  block(b, p, state, H, backward, marker) {
    const names = figureNames(b, this.mode, H);
    const href = `#${b.section || this.stage}`;
    const label = `${b.title}${b.id === 'tokens' ? '' : `: ${plainFormula(backward ? b.grad : b.formula)}`}${names.length ? `. Show ${backward ? 'its gradients' : 'its matrices'}` : ''}`;
    const link = svg('a', { href, class: `dg-block dg-${b.id}`, 'aria-label': label, dataset: { block: b.id, figures: names.join(' ') } });
    link.append(svg('rect', { x: p.x, y: p.y, width: p.w, height: ROW, rx: 6, class: 'dg-box' }));
    link.append(svg('text', { x: p.x + 8, y: p.y + 13, class: 'dg-title', text: b.title }));
    let formula = backward ? b.grad : b.formula;
    if (b.id === 'tokens') formula = `“${state.tokens.join(' ')}”`.slice(0, 26);
    if (b.id === 'ff' && !backward) formula = `${state.config.activation === 'gelu' ? 'GELU' : 'ReLU'}  ${formula}`;
    const f = svg('text', { x: p.x + 8, y: p.y + ROW - 8, class: 'dg-formula' });
    f.append(...symbolSpans(formula));
    if (b.perHead && H > 1) f.append(svg('tspan', { class: 'dg-heads', text: ` ×${H} heads` }));
    link.append(f);
    if (b.perHead && H > 1) {
      // One card behind another per extra head (at most three drawn): the same step, per head.
      for (let h = Math.min(H, 4) - 1; h >= 1; h -= 1) {
        link.prepend(svg('rect', { x: p.x + 3 * h, y: p.y - 3 * h, width: p.w, height: ROW, rx: 6, class: 'dg-box dg-card' }));
      }
    }
    if (b.residual) {
      // The skip connection comes in from the left: the block's input is added back here.
      const y = p.y + ROW / 2;
      link.append(svg('path', { d: `M${p.x - 18},${y} L${p.x},${y}`, class: 'dg-arrow dg-skip', [backward ? 'marker-start' : 'marker-end']: marker }));
    }
    link.addEventListener('pointerenter', () => this.highlight(names, true));
    link.addEventListener('pointerleave', () => this.highlight(names, false));
    link.addEventListener('focus', () => this.highlight(names, true));
    link.addEventListener('blur', () => this.highlight(names, false));
    link.addEventListener('click', (e) => { if (this.jump(names)) e.preventDefault(); });
    return link;
  }

  /** Observe every figure a block stands for (figures come and go with the configuration). */
  watchFigures() {
    for (const link of this.svgEl.querySelectorAll('a.dg-block')) {
      for (const f of this.figures(link.dataset.figures.split(' ').filter(Boolean))) this.viewObserver.observe(f);
    }
    for (const f of [...this.visible]) if (!f.isConnected) this.visible.delete(f);
    this.markInView();
  }

  markInView() {
    for (const link of this.svgEl.querySelectorAll('a.dg-block')) {
      const names = new Set(link.dataset.figures.split(' '));
      const on = [...this.visible].some((f) => names.has(f.dataset.name) && !f.closest('[hidden]'));
      link.classList.toggle('dg-inview', on);
    }
    this.dataset.inview = [...this.svgEl.querySelectorAll('a.dg-inview')].map((a) => a.dataset.block).join(' ');
  }

  /** The figures of `names` in the widgets of this diagram's stage. */
  figures(names) {
    return widgetsFor(this.group, this.stage).flatMap((w) => names.map((n) => w.shadowRoot.querySelector(`figure[data-name="${n}"]`)))
      .filter((f) => f && !f.hidden && !f.closest('[hidden]'));
  }

  highlight(names, on) {
    for (const f of this.figures(names)) f.classList.toggle('bp-highlight', on);
    this.dataset.highlighted = on ? names.join(' ') : '';
  }

  jump(names) {
    const first = this.figures(names)[0];
    if (!first) return false;
    const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    first.scrollIntoView({ block: 'center', behavior: still ? 'auto' : 'smooth' });
    // Keyboard readers land on the matrix too: its first focusable cell, or the figure itself.
    const target = first.querySelector('[tabindex="0"]');
    if (target) target.focus({ preventScroll: true });
    this.highlight(names, true);
    this.dataset.jumped = names[0];
    return true;
  }
}

/** A formula with @key symbols as plain text, for a block's accessible name. */
function plainFormula(text) {
  return text.replace(/@([A-Za-z][A-Za-z0-9]*)/g, (_, k) => symText(k)).replace(/\s+/g, ' ').trim();
}

if (!customElements.get('bp-diagram')) customElements.define('bp-diagram', BpDiagram);
