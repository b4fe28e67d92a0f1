// KaTeX, vendored from npm into www/vendor/katex by the build (no CDN).
// Formulas never contain user text: token names stay outside LaTeX.
import { h, keyboardScrollable } from './dom.js';

const BASE = new URL('../vendor/katex/', import.meta.url);
export const KATEX_CSS = new URL('katex.min.css', BASE).href;

let katex = null;
let katexPromise = null;

export function loadKatex() {
  if (!katexPromise) {
    katexPromise = import(new URL('katex.mjs', BASE).href)
      .then((mod) => { katex = mod.default || mod; return katex; })
      .catch(() => null); // formulas then fall back to their LaTeX source as text
    ensureDocumentFonts();
  }
  return katexPromise;
}

// @font-face rules are ignored inside shadow roots, so KaTeX's font faces are registered with
// the document through the FontFace API (read from the vendored stylesheet). No stylesheet is
// added to the host page: its own elements are never styled by us. Pages that link KaTeX's
// stylesheet themselves (the article) already have the faces.
async function ensureDocumentFonts() {
  const linked = [...document.querySelectorAll('link[rel~="stylesheet"]')].some((l) => l.href === KATEX_CSS);
  if (linked || typeof FontFace !== 'function' || !document.fonts) return;
  try {
    const css = await (await fetch(KATEX_CSS)).text();
    for (const [, body] of css.matchAll(/@font-face\s*\{([^}]*)\}/g)) {
      const decl = {};
      for (const [, name, value] of body.matchAll(/([a-z-]+)\s*:\s*([^;]+)/g)) decl[name] = value.trim();
      if (!decl['font-family'] || !decl.src) continue;
      const src = decl.src.replace(/url\((['"]?)([^'")]+)\1\)/g, (_, q, url) => `url("${new URL(url, KATEX_CSS).href}")`);
      document.fonts.add(new FontFace(decl['font-family'].replace(/['"]/g, ''), src, {
        style: decl['font-style'] || 'normal', weight: decl['font-weight'] || 'normal', display: decl['font-display'] || 'block',
      }));
    }
  } catch { /* formulas then use fallback fonts */ }
}

/** Render LaTeX into el (only when it changed). */
export function renderTex(el, latex, display = true) {
  if (el.dataset.tex === latex) return el;
  el.dataset.tex = latex;
  if (katex) {
    katex.render(latex, el, {
      displayMode: display, throwOnError: false, strict: 'ignore', output: 'htmlAndMathml', trust: false,
    });
  } else {
    el.textContent = latex;
  }
  if (display) keyboardScrollable(el, 'Formula (scrolls sideways)');
  return el;
}

// Live formulas (numbers substituted) change on every edit. One out of view is not typeset
// until it comes near the viewport or the page is idle: an edit only pays for what can be seen.
const pending = new Map(); // element -> [latex, display]
const near = new WeakSet();
let lazyObserver = null;
let idleQueued = false;
const idle = typeof requestIdleCallback === 'function'
  ? (fn) => requestIdleCallback(fn, { timeout: 1000 })
  : (fn) => setTimeout(() => fn({ timeRemaining: () => 8 }), 50);

function flushPending(el) {
  const job = pending.get(el);
  if (!job) return;
  pending.delete(el);
  if (el.isConnected) renderTex(el, job[0], job[1]);
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
  idle((deadline) => {
    idleQueued = false;
    for (const el of [...pending.keys()]) {
      if (deadline.timeRemaining() < 3) break;
      flushPending(el);
    }
    idleFlush();
  });
}

/**
 * Like renderTex, but a formula out of view is typeset later (when scrolled near, or when the
 * page is idle). The element's data-tex always names the formula it shows or will show.
 */
export function renderTexLazy(el, latex, display = true) {
  if (!lazyObserver) {
    lazyObserver = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (e.isIntersecting) { near.add(e.target); flushPending(e.target); } else near.delete(e.target);
      }
    }, { rootMargin: '300px 0px' });
  }
  if (!el.dataset.lazyTex) {
    el.dataset.lazyTex = '';
    lazyObserver.observe(el);
  }
  if (near.has(el) || !katex) {
    pending.delete(el);
    return renderTex(el, latex, display);
  }
  if (el.dataset.tex === latex) { pending.delete(el); return el; }
  pending.set(el, [latex, display]);
  idleSoon();
  return el;
}

/** A new element holding a formula. */
export function texBlock(latex, { display = true, className = 'formula' } = {}) {
  const el = h(display ? 'div' : 'span', { class: className });
  if (latex) renderTex(el, latex, display);
  return el;
}
