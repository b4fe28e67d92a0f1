// @ts-check
// Tiny DOM helpers. User text only ever reaches the DOM through textContent /
// text nodes (Node.append with a string) or attribute values — never as markup.

/**
 * Create an element. props: class, text, dataset, on<event>, attributes.
 * Children may be nodes, strings (become text nodes), arrays, null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  appendAll(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, props);
  appendAll(el, children);
  return el;
}

function applyProps(el, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' || key === 'checked' || key === 'selected' || key === 'disabled') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

function appendAll(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Set el's text only when it changed (keeps selection stable). An element that holds one text
 * node keeps it and has its data changed: replacing the node (textContent) would make the
 * browser drop its layout object and build a new one, restyled and reshaped from scratch, for
 * every number of every edit.
 */
export function setText(el, text) {
  const s = String(text);
  const only = el.firstChild;
  if (s && only && only.nodeType === Node.TEXT_NODE && !only.nextSibling) {
    if (/** @type {Text} */ (only).data !== s) /** @type {Text} */ (only).data = s;
  } else if (el.textContent !== s) el.textContent = s;
}

let uid = 0;
/** A document-unique id with a readable prefix (ids live inside one shadow root). */
export function uniqueId(prefix = 'bp') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Message text of anything thrown (wasm may throw Error objects or strings). */
export function errorMessage(err) {
  if (err == null) return 'Unknown error';
  if (typeof err === 'string') return err;
  if (typeof err.message === 'string' && err.message) return err.message;
  try { return String(err); } catch { return 'Unknown error'; }
}

// A box that scrolls sideways only when its content is too wide: then (and only then) it
// becomes a focusable, labelled region so keyboard users can scroll it too. Boxes are checked
// in batches, every width read before any attribute is written: a write between two reads would
// make the second read lay the page out again (at load, hundreds of boxes: one layout each).
function syncScrollables(els) {
  const overflows = els.map((el) => el.scrollWidth > el.clientWidth + 1);
  els.forEach((el, i) => markScrollable(el, overflows[i]));
}
function markScrollable(el, overflow) {
  delete el.dataset.scrollUnchecked;
  if (overflow && !el.hasAttribute('tabindex')) {
    el.tabIndex = 0;
    el.setAttribute('role', 'region');
    if (!el.hasAttribute('aria-labelledby')) el.setAttribute('aria-label', el.dataset.scrollLabel || 'Scrollable content');
  } else if (!overflow && el.hasAttribute('tabindex')) {
    el.removeAttribute('tabindex');
    el.removeAttribute('role');
    el.removeAttribute('aria-label');
  }
}
// The check runs when the box is (re)drawn or it or what it holds changes size, in the browser's ResizeObserver
// step: after layout, so reading scrollWidth costs nothing, and never for a box inside an
// off-screen step, which the browser does not lay out (content-visibility) until it comes near.
// (Reading it right after a repaint instead would force a layout whenever anything changed in
// between, as typing the next number does.)
// A box the browser skips (off screen) is checked in idle time instead, a few at a time, once
// edits pause (each check forces the layout the browser skipped: not worth doing after every
// edit), so that keyboard users and assistive technology find it a region before they scroll to it.
let sizeObserver = null;
const boxOf = new WeakMap(); // an observed element → the box whose overflow it can change
const unchecked = new Set();
const QUIET_MS = 400;
let quietTimer = 0;
let idleQueued = false;
function checkWhenQuiet() {
  clearTimeout(quietTimer);
  quietTimer = setTimeout(checkWhenIdle, QUIET_MS);
}
function checkWhenIdle() {
  if (idleQueued || !unchecked.size) return;
  idleQueued = true;
  whenIdle((deadline) => {
    idleQueued = false;
    // One at a time: each read may lay out a step the browser skipped, of unknown cost.
    for (const el of unchecked) {
      if (deadline.timeRemaining() < 4) break;
      unchecked.delete(el);
      if (el.isConnected) syncScrollables([el]);
    }
    checkWhenIdle();
  });
}
// Text widens when a web font (KaTeX's) arrives, with no call here and often no box changing
// size: every box is checked again then.
const boxes = new Set();
let fontsWatched = false;
function recheckAll() {
  for (const el of boxes) {
    if (!el.isConnected) { boxes.delete(el); continue; }
    needsCheck(el);
  }
}
function needsCheck(el) {
  unchecked.add(el);
  el.dataset.scrollUnchecked = ''; // (tests wait for none to be left, as a reader's idle page does)
  checkWhenQuiet();
  // Observing the box afresh makes the observer report it once more after the next layout: the
  // check for content that changed without changing any observed size (a formula typeset again
  // inside a box of fixed width).
  sizeObserver.unobserve(el);
  sizeObserver.observe(el);
}
export function keyboardScrollable(el, label) {
  if (label) el.dataset.scrollLabel = label;
  if (!fontsWatched && document.fonts) {
    fontsWatched = true;
    document.fonts.addEventListener('loadingdone', recheckAll);
  }
  boxes.add(el);
  sizeObserver ??= new ResizeObserver((entries) => {
    const boxes = new Set(entries.map((e) => boxOf.get(e.target)));
    for (const box of boxes) unchecked.delete(box);
    syncScrollables([...boxes].filter((box) => box?.isConnected));
  });
  boxOf.set(el, el);
  needsCheck(el);
  for (const x of el.children) {
    if (boxOf.get(x) === el) continue;
    boxOf.set(x, el);
    sizeObserver.observe(x);
  }
}

/** The most one idle callback of ours may run: catch-up work must never become a long task. */
const IDLE_SLICE_MS = 10;

/**
 * Runs fn(deadline) when the page is idle (or after `timeout` ms at the latest). The deadline's
 * timeRemaining() never exceeds IDLE_SLICE_MS from the start (the browser may offer up to 50 ms),
 * and a callback that only runs because the timeout passed still gets its slice.
 */
export function whenIdle(fn, timeout = 1000) {
  const run = (deadline) => {
    const end = performance.now() + IDLE_SLICE_MS;
    fn({
      timeRemaining: () => Math.min(end - performance.now(), deadline.didTimeout ? Infinity : deadline.timeRemaining()),
    });
  };
  if (typeof requestIdleCallback === 'function') requestIdleCallback(run, { timeout });
  else setTimeout(() => run({ didTimeout: true, timeRemaining: () => 0 }), 50);
}

/**
 * Show a notice in `el`: the message as text and, with `action` ({ label, run }), a button
 * after it (a retry, an undo). Hidden when there is no message.
 */
export function renderNotice(el, message, action = null) {
  el.hidden = !message;
  if (!message) { el.replaceChildren(); return; }
  const parts = [String(message)];
  if (action) {
    const button = h('button', { type: 'button', class: 'btn notice-action', text: action.label });
    button.addEventListener('click', () => action.run());
    parts.push(' ', button);
  }
  el.replaceChildren(...parts);
}
