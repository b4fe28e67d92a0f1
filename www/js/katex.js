// @ts-check
// KaTeX, vendored from npm into www/vendor/katex by the build (no CDN).
// Formulas never contain user text: token names stay outside LaTeX.
import { h, keyboardScrollable, setText, whenIdle } from './dom.js';
import { TEX_SLOTS } from './format.js';
import { fontFaces } from './fontfaces.js';
import { warmAgain } from './warm.js';

const BASE = new URL('../vendor/katex/', import.meta.url);
const KATEX_CSS = new URL('katex.min.css', BASE).href;

let katex = null;
let katexPromise = null;
let katexFailed = false;

// KaTeX (75 KB gzipped, more than the rest of the page's code) is fetched only when the first
// formula comes near the viewport (or a widget asks for it), not at start: the page's first
// screen has no formula, and the live numbers must not wait for it. Until then a formula is an
// empty box of about its height (see waitForKatex).
const roots = new Set(); // shadow roots that show formulas: they get KaTeX's stylesheet with it

function addStylesheet(root) {
  const link = h('link', { rel: 'stylesheet', href: KATEX_CSS });
  const loaded = new Promise((resolve) => {
    link.addEventListener('load', resolve, { once: true });
    link.addEventListener('error', resolve, { once: true });
  });
  root.prepend(link);
  return loaded;
}

/**
 * A widget's shadow root that will show formulas: it gets KaTeX's stylesheet once KaTeX loads.
 * Resolves once the root has the stylesheet when KaTeX is already loading or loaded (a widget
 * mounts after that, so its formulas never show unstyled), at once otherwise.
 */
export function katexRoot(root) {
  if (roots.has(root)) return Promise.resolve();
  roots.add(root);
  return katexPromise ? addStylesheet(root) : Promise.resolve();
}

/** Fetch KaTeX (once), and its stylesheet into every known root; resolves to katex or null. */
export function loadKatex() {
  if (!katexPromise) {
    const sheets = [...roots].map(addStylesheet);
    katexPromise = import(new URL('katex.mjs', BASE).href)
      .then(async (mod) => {
        await Promise.all(sheets);
        katex = mod.default || mod;
        return katex;
      })
      .catch(() => { katexFailed = true; return null; }) // formulas then show their LaTeX source as text
      .then((k) => { typesetAllWaiting(); return k; });
    ensureDocumentFonts();
  }
  return katexPromise;
}

// @font-face rules are ignored inside shadow roots, so KaTeX's font faces are registered with
// the document through the FontFace API. No stylesheet is added to the host page: its own
// elements are never styled by us. Pages that link KaTeX's stylesheet themselves already have
// the faces. A face added to the document makes the browser lay out every text on the page again
// (any of their font lists might name it): 40-60 ms of layout when KaTeX arrived during the first
// scroll. So the bundle registers them when this module starts, before the widgets have content;
// a face's file is fetched only when a formula first uses it, and a font that arrives then
// relays out only the text that uses it. Unbundled, the list is read from the stylesheet when
// KaTeX loads, as before.
/* global BUNDLED_KATEX_FACES */
let fontsRegistered = false;
const katexLinked = () => [...document.querySelectorAll('link[rel~="stylesheet"]')]
  .some((l) => /** @type {HTMLLinkElement} */ (l).href === KATEX_CSS);

/** Adds KaTeX's faces ([family, style, weight, display, file]) to the document, once. */
function addFaces(faces) {
  if (fontsRegistered || typeof FontFace !== 'function' || !document.fonts || katexLinked()) return;
  fontsRegistered = true;
  for (const [family, style, weight, display, file] of faces) {
    const url = new URL('fonts/' + file, BASE).href;
    document.fonts.add(new FontFace(family, 'url(' + JSON.stringify(url) + ') format("woff2")', { style, weight, display }));
  }
}

if (typeof BUNDLED_KATEX_FACES !== 'undefined') addFaces(BUNDLED_KATEX_FACES);

async function ensureDocumentFonts() {
  if (fontsRegistered || katexLinked() || typeof FontFace !== 'function' || !document.fonts) return;
  try {
    const { faces } = fontFaces(await (await fetch(KATEX_CSS)).text());
    addFaces(faces);
  } catch { /* formulas then use fallback fonts */ }
}

const OPTIONS = {
  throwOnError: false, strict: 'ignore', output: 'htmlAndMathml',
  // Only the number slots of live formulas (format.js texSlot): data attributes, no links or styles.
  trust: (context) => context.command === '\\htmlData',
};

// A formula's numbers are slots (format.js texSlot). Two formulas that differ only in their
// digits typeset to the same boxes, so the newer one can be patched into the older one's DOM
// without typesetting again. The sign is part of the shape, not of the digits: a minus sign is
// an atom of its own, with its own height.
const unsigned = (digits) => digits.replace(/^-/, '');
const templateOf = (latex) => latex.replace(TEX_SLOTS, (_, d) => `\\htmlData{n=}{${d.startsWith('-') ? '-' : ''}#}`);
// Each slot is typeset with its index: KaTeX lays a fraction out denominator first and a
// superscript after its base, so the order of the slots in the DOM is not their order in LaTeX.
const numbered = (latex) => {
  let i = 0;
  return latex.replace(TEX_SLOTS, (_, d) => `\\htmlData{n=${i++}}{${d}}`);
};

/**
 * Render LaTeX into el (only when it changed). A formula that differs from the one el shows
 * only in its digits is patched in place: typesetting again would rebuild a few hundred
 * elements for every edit. Its MathML (what screen readers read) follows when the page is idle.
 */
export function renderTex(el, latex, display = true) {
  if (el.dataset.tex === latex) return el;
  const template = templateOf(latex);
  if (katex && el.texRuns && el.texTemplate === template) {
    const values = [...latex.matchAll(TEX_SLOTS)].map((m) => unsigned(m[1]));
    // KaTeX's digits all have one width: only a number with more or fewer characters can make
    // the formula wider (or narrower) than its box, and only then is that checked again (a check
    // of a box out of view costs a forced layout in idle time).
    let resized = false;
    el.texRuns.forEach((run, i) => {
      const old = run.textContent;
      if (old === values[i]) return;
      if (old.length !== values[i].length) resized = true;
      setText(run, values[i]);
    });
    el.dataset.tex = latex;
    queueMathml(el, display);
    if (display && resized) keyboardScrollable(el);
    return el;
  }
  el.dataset.tex = latex;
  el.texRuns = null;
  if (katex) {
    katex.render(numbered(latex), el, { ...OPTIONS, displayMode: display });
    cleanAnnotation(el, latex);
    el.texRuns = digitRuns(el, latex);
    el.texTemplate = template;
  } else if (!katexFailed) {
    waitForKatex(el, latex, display);
  } else {
    el.textContent = latex.replace(TEX_SLOTS, '$1');
  }
  if (display) keyboardScrollable(el, 'Formula (scrolls sideways)');
  return el;
}

/**
 * For slot i, the one text run of KaTeX's that holds its digits (inside the slot's span, beside
 * a minus sign and the spacing KaTeX puts after the slot's last atom, both kept as they are).
 * Null when a slot is not laid out that way: the formula is then typeset afresh on every change.
 */
function digitRuns(el, latex) {
  const values = [...latex.matchAll(TEX_SLOTS)].map((m) => unsigned(m[1]));
  const runs = new Array(values.length).fill(null);
  for (const slot of el.querySelectorAll('.katex-html [data-n]')) {
    const i = Number(slot.dataset.n);
    const found = [...slot.children].filter((c) => c.classList.contains('mord') && c.textContent === values[i]);
    if (found.length !== 1 || runs[i]) return null;
    runs[i] = found[0];
  }
  return runs.every(Boolean) ? runs : null;
}

// Patched formulas get their MathML (and its LaTeX annotation) typeset again once edits pause.
const mathmlQueue = new Map(); // element -> display
let mathmlTimer = 0;
function queueMathml(el, display) {
  mathmlQueue.set(el, display);
  clearTimeout(mathmlTimer);
  mathmlTimer = setTimeout(() => whenIdle(flushMathml), 300);
}

function flushMathml(deadline) {
  for (const [el, display] of mathmlQueue) {
    if (deadline.timeRemaining() < 2) { whenIdle(flushMathml); return; }
    mathmlQueue.delete(el);
    const target = el.isConnected && el.querySelector('.katex-mathml');
    if (!target) continue;
    const scratch = document.createElement('span');
    katex.render(el.dataset.tex, scratch, { ...OPTIONS, displayMode: display, output: 'mathml' });
    const math = scratch.querySelector('math');
    if (math) target.replaceChildren(math);
    cleanAnnotation(el, el.dataset.tex);
  }
}

// The LaTeX source KaTeX keeps in the MathML (copy and paste) without the slot markers.
function cleanAnnotation(el, latex) {
  const note = el.querySelector('annotation');
  if (note) note.textContent = latex.replace(TEX_SLOTS, '$1');
}

// Live formulas (numbers substituted) change on every edit. One out of view is not typeset
// until it comes near the viewport or the page is idle: an edit only pays for what can be seen.
const pending = new Map(); // element -> [latex, display]
const near = new WeakSet();
let lazyObserver = null;
let idleQueued = false;

function flushPending(el) {
  const job = pending.get(el);
  if (!job) return;
  pending.delete(el);
  delete el.dataset.texPending;
  if (!el.isConnected) return;
  renderTex(el, job[0], job[1]);
  if (!near.has(el)) warmAgain(el);
}

// Formulas out of view catch up once edits pause (a burst of edits typesets each one once).
let quietTimer = 0;
function idleSoon() {
  clearTimeout(quietTimer);
  quietTimer = setTimeout(idleFlush, 300);
}

function idleFlush() {
  if (idleQueued || !pending.size) return;
  idleQueued = true;
  whenIdle((deadline) => {
    idleQueued = false;
    for (const el of [...pending.keys()]) {
      if (deadline.timeRemaining() < 3) break;
      flushPending(el);
    }
    idleFlush();
  });
}

function observeNear() {
  if (lazyObserver) return;
  lazyObserver = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) { near.delete(e.target); continue; }
      near.add(e.target);
      flushPending(e.target);
      if (katex && waiting.has(e.target)) typesetWaiting(e.target);
    }
  }, { rootMargin: '300px 0px' });
}

// Formulas rendered before KaTeX is there: el -> [latex, display]. The first of them to come
// within half a screen's height of the viewport fetches KaTeX; then those near the viewport are
// typeset at once and the others when they come near or the page is idle.
const waiting = new Map();
let katexTrigger = null;

function waitForKatex(el, latex, display) {
  if (!waiting.has(el)) {
    katexTrigger ??= new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadKatex();
    }, { rootMargin: '50% 0px' });
    katexTrigger.observe(el);
    observeNear();
    lazyObserver.observe(el);
  }
  waiting.set(el, [latex, display]);
  el.dataset.texWait = '';
  el.replaceChildren();
  // About the height KaTeX will give it, so that the page does not jump when it is typeset.
  el.style.minHeight = display ? '2.6em' : '';
}

function typesetWaiting(el) {
  const [latex, display] = waiting.get(el);
  waiting.delete(el);
  delete el.dataset.texWait;
  el.style.minHeight = '';
  katexTrigger?.unobserve(el);
  if (!('lazyTex' in el.dataset)) lazyObserver.unobserve(el);
  if (el.dataset.tex !== latex) return; // typeset since, with a newer formula
  delete el.dataset.tex;
  renderTex(el, latex, display);
  if (!near.has(el) && el.isConnected) warmAgain(el);
}

function typesetAllWaiting() {
  katexTrigger?.disconnect();
  katexTrigger = null;
  for (const el of [...waiting.keys()]) {
    if (!katex || near.has(el) || !el.isConnected) typesetWaiting(el);
  }
  const rest = (deadline) => {
    for (const el of [...waiting.keys()]) {
      if (deadline.timeRemaining() < 3) break;
      typesetWaiting(el);
    }
    if (waiting.size) whenIdle(rest);
  };
  if (waiting.size) whenIdle(rest);
}

/**
 * Like renderTex, but a formula out of view is typeset later (when scrolled near, or when the
 * page is idle). The element's data-tex always names the formula it shows or will show.
 */
export function renderTexLazy(el, latex, display = true) {
  observeNear();
  if (!el.dataset.lazyTex) {
    el.dataset.lazyTex = '';
    lazyObserver.observe(el);
  }
  if (near.has(el) || !katex) { // (without KaTeX yet, renderTex makes it wait for it)
    pending.delete(el);
    delete el.dataset.texPending;
    return renderTex(el, latex, display);
  }
  if (el.dataset.tex === latex) { pending.delete(el); delete el.dataset.texPending; return el; }
  pending.set(el, [latex, display]);
  el.dataset.texPending = ''; // (tests wait for it: the formula shown is not the current one yet)
  idleSoon();
  return el;
}
