// @ts-check
// KaTeX's @font-face rules read from its stylesheet, in one place for the two readers: the build
// (.ci/katex.mjs, which puts the list into the bundle) and katex.js when it runs unbundled.

/**
 * The faces of `css` whose source is a woff2 file under fonts/, as [family, style, weight,
 * display, file name], and the bodies of the rules that could not be read so.
 * @param {string} css
 * @returns {{ faces: string[][], unread: string[] }}
 */
export function fontFaces(css) {
  const faces = [];
  const unread = [];
  for (const [, body] of css.matchAll(/@font-face\s*\{([^}]*)\}/g)) {
    /** @type {Record<string, string>} */
    const decl = {};
    for (const [, name, value] of body.matchAll(/([a-z-]+)\s*:\s*([^;]+)/g)) decl[name] = value.trim();
    const file = /url\((['"]?)fonts\/([^'")]+\.woff2)\1\)/.exec(decl.src || '')?.[2];
    if (!decl['font-family'] || !file) { unread.push(body); continue; }
    faces.push([decl['font-family'].replace(/['"]/g, ''), decl['font-style'] || 'normal', decl['font-weight'] || 'normal', decl['font-display'] || 'block', file]);
  }
  return { faces, unread };
}
