// npm run dist: the embeddable widget as one folder, dist/, for article pages we do not control.
//
//   dist/backprop-widget.js      the one script an author adds (an ES module; defines the element)
//   dist/js/widget.js            the widget: www/js/widget.js and what it imports, bundled and
//                                minified (.ci/bundle.mjs), like the page's www/bundle/main.js
//   dist/js/worker.js            the worker for large models (a second bundle)
//   dist/js/share.js             the share-link format alone (for tools that read or make links)
//   dist/js/widget.css           styles inside the widget's shadow root (www/css/widget.css, minified)
//   dist/pkg/                    the WebAssembly core and its wrapper: the lean module the widget
//                                starts with and the full one it fetches on first use (extras.js)
//   dist/vendor/katex/           KaTeX as an ES module, its stylesheet and woff2 fonts, licence
//
// Every URL inside is relative and resolved from import.meta.url, so the folder works under any
// path prefix, from another origin when served with CORS, and offline (nothing is fetched from
// anywhere else). Like .ci/build.mjs it builds the wasm package first when it is missing or
// older than the Rust sources, and copies KaTeX from node_modules.
//
//   node .ci/dist.mjs                   write dist/
//   node .ci/dist.mjs --out DIR         write DIR instead
//   node .ci/dist.mjs --example DIR     also write the example article (www/embed-example.*) to DIR
//                                       with DIR/how-llms-learn/ (a copy of the folder) next to it
//   node .ci/dist.mjs --no-build        never run the wasm build: use www/pkg as it is (the e2e
//                                       tests do this; npm test has just built it)

import {
  copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from "node:fs";
import { join, relative, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { loadConfig, ROOT } from "./config.mjs";
import { run } from "./exec.mjs";
import { writeKatex } from "./katex.mjs";
import { bundleJs, DIST_ENTRIES } from "./bundle.mjs";

const args = process.argv.slice(2);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : null;
};
const OUT = resolve(value("--out") ?? join(ROOT, "dist"));
const EXAMPLE = value("--example") ? resolve(value("--example")) : null;
const WWW = join(ROOT, "www");
/** The folder name the example page expects next to it. */
const EXAMPLE_FOLDER = "how-llms-learn";

function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))));
}

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (
    d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));
}

function ensureWasm(config) {
  // The lean module is built last: when it is there and new, so is the full one.
  const wasm = join(config.outDir, `${config.lean?.outName ?? config.outName}_bg.wasm`);
  const sources = Math.max(newest(join(ROOT, "crate")), newest(join(ROOT, "Cargo.toml")),
    newest(join(ROOT, "Cargo.lock")), newest(config.file));
  if (existsSync(wasm) && statSync(wasm).mtimeMs >= sources) return;
  if (args.includes("--no-build")) {
    if (!existsSync(wasm)) throw new Error(`${relative(ROOT, wasm)} is missing: run npm run build`);
    console.log(`note: ${relative(ROOT, wasm)} is older than the Rust sources; using it as it is (--no-build)`);
    return;
  }
  console.log("the wasm package is missing or older than the Rust sources: building it");
  run([process.execPath, join(ROOT, ".ci", "build.mjs"), "--no-vendor"], { cwd: ROOT });
}

async function writeDist(out, config) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  await bundleJs(join(out, "js"), DIST_ENTRIES);

  mkdirSync(join(out, "pkg"));
  const names = [config.outName, ...(config.lean ? [config.lean.outName] : [])];
  for (const name of names.flatMap((n) => [`${n}.js`, `${n}_bg.wasm`])) {
    copyFileSync(join(config.outDir, name), join(out, "pkg", name));
  }
  // The relaxed-SIMD build (wasm-pack.toml [relaxed]), which browsers that have it load instead.
  const relaxed = `${(config.lean ?? config).outName}${config.relaxed.suffix}_bg.wasm`;
  if (config.relaxed.enabled) copyFileSync(join(config.outDir, relaxed), join(out, "pkg", relaxed));

  writeKatex(join(out, "vendor", "katex"));

  writeFileSync(join(out, "backprop-widget.js"), [
    "// <backprop-widget>: one training step of a tiny transformer, computed live by WebAssembly.",
    "// Add <script type=\"module\" src=\".../backprop-widget.js\"></script> and the element;",
    "// see README.txt next to this file.",
    "export { BackpropWidget, BpValue } from './js/widget.js';",
    "",
  ].join("\n"));
  writeFileSync(join(out, "README.txt"), [
    "How LLMs learn: the embeddable <backprop-widget>",
    "",
    "Copy this whole folder to your site (any path), then in any page:",
    "",
    '  <script type="module" src="how-llms-learn/backprop-widget.js"></script>',
    '  <backprop-widget stage="forward" group="article"></backprop-widget>',
    "",
    "stage: model, forward, target, loss, backward, update, toolbar, share or all (several with",
    "spaces); group: widgets with the same group share one state; readonly: no editing;",
    "src=\"state.json\" or a <script type=\"application/json\"> child: the initial state.",
    "Serving it from another origin needs CORS (Access-Control-Allow-Origin) on this folder,",
    "and .wasm files must be served as application/wasm.",
    "",
  ].join("\n"));
}

function sizes(dir) {
  let raw = 0;
  let gz = 0;
  for (const file of files(dir)) {
    const bytes = readFileSync(file);
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gz };
}

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;

try {
  const config = loadConfig();
  ensureWasm(config);
  await writeDist(OUT, config);
  const { raw, gz } = sizes(OUT);
  console.log(`wrote ${relative(process.cwd(), OUT) || "."}/: ${files(OUT).length} files, ${kib(raw)} raw, ${kib(gz)} gzipped (each file gzip -9)`);
  if (EXAMPLE) {
    mkdirSync(EXAMPLE, { recursive: true });
    rmSync(join(EXAMPLE, EXAMPLE_FOLDER), { recursive: true, force: true });
    cpSync(OUT, join(EXAMPLE, EXAMPLE_FOLDER), { recursive: true });
    for (const file of ["embed-example.html", "embed-example.css", "embed-example-state.json"]) {
      copyFileSync(join(WWW, file), join(EXAMPLE, file));
    }
    console.log(`wrote ${join(EXAMPLE, "embed-example.html")} with ${EXAMPLE_FOLDER}/ next to it`);
  }
} catch (error) {
  console.error(`dist: ${error.message}`);
  process.exit(1);
}
