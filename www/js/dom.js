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

/** Replace all children of el (strings become text nodes). */
/** Set textContent only when it changed (cheap repaint, keeps selection stable). */
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
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
// becomes a focusable, labelled region so keyboard users can scroll it too.
const observed = new WeakSet();
let overflowObserver = null;
function syncScrollable(el) {
  const overflow = el.scrollWidth > el.clientWidth + 1;
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
// Checks are batched until after the next frame has been drawn (layout is clean then, so
// reading scrollWidth costs nothing), and only boxes in view are measured: measuring one inside
// an off-screen step would force the layout the browser skips there (content-visibility).
// Boxes out of view are measured when they scroll into view.
const toSync = new Set();
const inView = new WeakSet();
const stale = new WeakSet();
let syncTimer = 0;
let viewObserver = null;
function flushSync() {
  syncTimer = 0;
  const els = [...toSync];
  toSync.clear();
  for (const el of els) {
    if (!el.isConnected) continue;
    if (inView.has(el)) { stale.delete(el); syncScrollable(el); } else { stale.add(el); staleList.add(el); }
  }
  if (staleList.size) idleSoon();
}
// Boxes out of view still get their check when the page is idle, a few at a time.
const staleList = new Set();
let idleQueued = false;
function idleSoon() {
  if (idleQueued) return;
  idleQueued = true;
  whenIdle((deadline) => {
    idleQueued = false;
    for (const el of staleList) {
      if (deadline.timeRemaining() < 4) break;
      staleList.delete(el);
      if (!el.isConnected || !stale.has(el)) continue;
      stale.delete(el);
      syncScrollable(el);
    }
    if (staleList.size) idleSoon();
  });
}
function syncSoon(el) {
  toSync.add(el);
  if (syncTimer) return;
  syncTimer = 1;
  requestAnimationFrame(() => { syncTimer = setTimeout(flushSync, 0); });
}
function watchView(el) {
  viewObserver ??= new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (e.isIntersecting) {
        inView.add(e.target);
        if (stale.has(e.target)) { stale.delete(e.target); syncScrollable(e.target); }
      } else inView.delete(e.target);
    }
  });
  viewObserver.observe(el);
}
export function keyboardScrollable(el, label) {
  if (label) el.dataset.scrollLabel = label;
  if (!observed.has(el)) {
    observed.add(el);
    overflowObserver ??= new ResizeObserver((entries) => entries.forEach((e) => syncScrollable(e.target)));
    overflowObserver.observe(el);
    watchView(el);
  }
  syncSoon(el);
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
