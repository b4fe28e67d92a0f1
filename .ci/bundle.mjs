// The front-end's JavaScript as shipped: www/js/ (readable ES modules, the source) bundled and
// minified by esbuild. Used by build.mjs (www/bundle/, what index.html loads) and dist.mjs
// (dist/js/, what backprop-widget.js loads).
//
// Every module resolves the files it needs at run time from import.meta.url ('../css/',
// '../pkg/', '../vendor/katex/', './worker.js'), so the bundle is written to a folder that is a
// sibling of css/, pkg/ and vendor/, like js/ itself, and the worker is a second entry point with
// the name compute.js asks for. The page's entries are split (esbuild `splitting`): what the
// first screen does not show (the derivation dialog, the share dialog and panel) is a chunk
// fetched on first use, and what entries share is a chunk of its own. The worker (only started
// for large models) is built alone, one self-contained file. KaTeX stays a
// separate file that katex.js loads on demand. The widget's stylesheet (www/css/widget.css) is
// minified next to the bundle, which loads it from there (see BUNDLED_WIDGET_CSS).

import { build, context, transform } from "esbuild";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "./config.mjs";
import { katexFaces } from "./katex.mjs";

export const JS_SOURCE = join(ROOT, "www", "js");

// BP_NO_MINIFY=1 keeps the names, for a readable CPU profile of the page (never shipped so).
function options(outDir, entries, { sourcemap = false, minify = !process.env.BP_NO_MINIFY, splitting = true } = {}) {
  return {
    absWorkingDir: ROOT,
    entryPoints: Object.entries(entries).map(([out, path]) => ({ out, in: join(JS_SOURCE, path) })),
    outdir: outDir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    splitting,
    // Next to the entries, not in a folder: chunks resolve '../pkg/' and the rest from their
    // own import.meta.url too.
    chunkNames: "[name]-[hash]",
    minify,
    sourcemap: sourcemap ? "linked" : false,
    legalComments: "eof",
    charset: "utf8",
    logLevel: "warning",
    metafile: true,
    // widget.js loads its stylesheet from here: the minified copy this module writes next to
    // the bundle (unbundled, it reads ../css/widget.css itself).
    // katex.js registers KaTeX's font faces from this list at start (unbundled, it reads them
    // from the stylesheet when KaTeX loads).
    define: { BUNDLED_WIDGET_CSS: JSON.stringify("./widget.css"), BUNDLED_KATEX_FACES: JSON.stringify(katexFaces()) },
  };
}

/** www/css/widget.css, minified, into outDir (next to the bundle that loads it). */
async function writeWidgetCss(outDir) {
  const css = readFileSync(join(ROOT, "www", "css", "widget.css"), "utf8");
  const { code } = await transform(css, { loader: "css", minify: true, charset: "utf8" });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "widget.css"), code);
}

function needPkg() {
  const pkg = join(ROOT, "www", "pkg", "how_llms_learn_lean.js");
  if (!existsSync(pkg)) throw new Error(`${relative(ROOT, pkg)} is missing: the wasm package must be built first`);
}

/**
 * Bundles `entries` ({ outName: path under www/js }) into `outDir` (emptied first); resolves to
 * { outputFile: bytes }. `sourcemap`: also write .map files (they are not shipped by default).
 */
export async function bundleJs(outDir, entries, opts = {}) {
  needPkg();
  rmSync(outDir, { recursive: true, force: true });
  const { worker, ...page } = entries;
  const results = await Promise.all([
    build(options(outDir, page, opts)),
    worker ? build(options(outDir, { worker }, { ...opts, splitting: false })) : null,
  ]);
  await writeWidgetCss(outDir);
  const outputs = Object.assign({}, ...results.map((r) => r?.metafile.outputs ?? {}));
  return Object.fromEntries(Object.entries(outputs)
    .filter(([file]) => file.endsWith(".js"))
    .map(([file, info]) => [file, info.bytes]));
}

/** Like bundleJs, then bundles again whenever a source changes (npm run serve). */
export async function watchJs(outDir, entries, opts = {}) {
  needPkg();
  const css = {
    name: "widget-css",
    setup(b) { b.onEnd(() => writeWidgetCss(outDir)); },
  };
  const ctx = await context({ ...options(outDir, entries, { ...opts, splitting: false }), logLevel: "info", plugins: [css] });
  await ctx.watch();
  return ctx;
}

/** The page's bundle: www/bundle/main.js (index.html) and www/bundle/worker.js. */
export const PAGE_ENTRIES = { main: "main.js", worker: "worker.js" };
/** The widget folder's: dist/js/widget.js (backprop-widget.js re-exports it), worker.js, and
 * share.js (the link format, for tools and tests that read or write share links). */
export const DIST_ENTRIES = { widget: "widget.js", worker: "worker.js", share: "share.js" };
