// KaTeX for the page (www/vendor/katex, by build.mjs) and for the widget folder (dist/, by
// dist.mjs): one way to vendor it, so both ship the same files.
//
// KaTeX ships katex.mjs unminified (600 kB); its minified UMD build (270 kB) becomes an ES module
// by giving it a CommonJS `module` to fill in. Only woff2 fonts are shipped (every browser with ES
// modules and shadow DOM reads woff2).

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./config.mjs";
import { fontFaces } from "../www/js/fontfaces.js";

const KATEX = join(ROOT, "node_modules", "katex");

function katexModule() {
  const umd = readFileSync(join(KATEX, "dist", "katex.min.js"), "utf8");
  return [
    "// KaTeX (MIT licence, see LICENSE), the minified UMD build wrapped as an ES module.",
    "const module = { exports: {} };",
    "const exports = module.exports;",
    umd,
    "export default module.exports;",
    "",
  ].join("\n");
}

function katexCss() {
  const css = readFileSync(join(KATEX, "dist", "katex.min.css"), "utf8");
  return css.replace(/src:\s*(url\([^)]*\.woff2\)\s*format\("woff2"\))(,\s*url\([^)]*\)\s*format\("[a-z]+"\))*/g, "src:$1");
}

/**
 * KaTeX's @font-face rules as [family, style, weight, display, woff2 file under fonts/]: the
 * bundle carries them (.ci/bundle.mjs BUNDLED_KATEX_FACES) so katex.js can register the faces
 * with the document at start, before there is much to lay out again (see katex.js).
 */
export function katexFaces() {
  const { faces, unread } = fontFaces(katexCss());
  if (unread.length) throw new Error(`katex.min.css: a @font-face this build cannot read: ${unread[0]}`);
  return faces;
}

/** Writes katex.mjs, katex.min.css, fonts/*.woff2 and LICENSE into `to` (replacing it). */
export function writeKatex(to) {
  if (!existsSync(join(KATEX, "dist"))) throw new Error("node_modules/katex is missing: run npm run setup");
  rmSync(to, { recursive: true, force: true });
  mkdirSync(join(to, "fonts"), { recursive: true });
  writeFileSync(join(to, "katex.mjs"), katexModule());
  writeFileSync(join(to, "katex.min.css"), katexCss());
  for (const font of readdirSync(join(KATEX, "dist", "fonts")).filter((f) => f.endsWith(".woff2"))) {
    copyFileSync(join(KATEX, "dist", "fonts", font), join(to, "fonts", font));
  }
  copyFileSync(join(KATEX, "LICENSE"), join(to, "LICENSE"));
}
