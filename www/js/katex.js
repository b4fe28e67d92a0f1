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

/** A new element holding a formula. */
export function texBlock(latex, { display = true, className = 'formula' } = {}) {
  const el = h(display ? 'div' : 'span', { class: className });
  if (latex) renderTex(el, latex, display);
  return el;
}
