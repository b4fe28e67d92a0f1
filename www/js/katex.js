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

// @font-face rules are ignored inside shadow roots, so KaTeX's stylesheet is also
// linked once in the document (it only styles .katex elements).
function ensureDocumentFonts() {
  if (document.querySelector('link[data-bp-katex]')) return;
  const link = h('link', { rel: 'stylesheet', href: KATEX_CSS, 'data-bp-katex': '' });
  document.head.append(link);
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

/** A new element holding a formula. */
export function texBlock(latex, { display = true, className = 'formula' } = {}) {
  const el = h(display ? 'div' : 'span', { class: className });
  if (latex) renderTex(el, latex, display);
  return el;
}
