// npm run build: builds the WebAssembly package with the settings in wasm-pack.toml, bundles and
// minifies the page's JavaScript (www/js/ -> www/bundle/, which index.html loads; .ci/bundle.mjs),
// then copies the page's vendored libraries (KaTeX) from node_modules into www/vendor/.
//
//   node .ci/build.mjs                      build with wasm-pack.toml
//   node .ci/build.mjs --config FILE        build with another settings file
//   node .ci/build.mjs --dry-run            print the commands, run nothing
//   node .ci/build.mjs --no-vendor          skip copying www/vendor/
//   node .ci/build.mjs --js-only            only bundle www/js/ again (after editing it; needs www/pkg)
//   node .ci/build.mjs --sourcemap          also write source maps next to the bundle

import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildCommands, DEFAULT_CONFIG, loadConfig, relaxedBuild, ROOT } from "./config.mjs";
import { run } from "./exec.mjs";
import { writeKatex } from "./katex.mjs";
import { bundleJs, PAGE_ENTRIES } from "./bundle.mjs";

const args = process.argv.slice(2);
const option = (name) => args.includes(name);
const configIndex = args.indexOf("--config");
const configFile = configIndex >= 0 ? args[configIndex + 1] : DEFAULT_CONFIG;

// The lean module's messages write numbers with float_text (crate/src/num.rs): one `{}` of an f64
// in a message brings core::fmt's float code (Grisu and Dragon, about 10 KiB of the page's gzip
// download) back into it. The wasm-pack output, before wasm-opt, still names its functions.
function floatFormattingIn(wasmBytes) {
  return /<f64 as core(\[[0-9a-f]+\])?::fmt::(Display|Debug)>::fmt/.test(wasmBytes.toString("latin1"));
}

function copyVendor() {
  writeKatex(join(ROOT, "www", "vendor", "katex"));
  console.log("wrote KaTeX (minified ES module, stylesheet, woff2 fonts) to www/vendor/katex/");
}

async function bundlePage() {
  const outputs = await bundleJs(join(ROOT, "www", "bundle"), PAGE_ENTRIES, { sourcemap: option("--sourcemap") });
  const list = Object.entries(outputs).map(([file, bytes]) => `${file.split("/").pop()} ${(bytes / 1024).toFixed(0)} KiB`);
  console.log(`wrote www/bundle/ (esbuild, ${process.env.BP_NO_MINIFY ? "not minified: BP_NO_MINIFY" : "minified"}): ${list.join(", ")}`);
}

try {
  if (option("--js-only")) {
    await bundlePage();
    process.exit(0);
  }
  const config = loadConfig(configFile);
  const commands = buildCommands(config);
  const relaxed = relaxedBuild(config);
  if (option("--dry-run")) {
    for (const command of commands) console.log(command.join(" "));
    const env = relaxed ? Object.entries(relaxed.env).map(([k, v]) => `${k}="${v}" `).join("") : "";
    for (const command of relaxed?.commands ?? []) console.log(env + command.join(" "));
    process.exit(0);
  }
  console.log(`building the wasm package with the settings in ${config.file}`);
  for (const command of commands) run(command, { cwd: ROOT });
  for (const name of [config.outName, ...(config.lean ? [config.lean.outName] : [])]) {
    const wasm = join(config.outDir, `${name}_bg.wasm`);
    console.log(`wrote ${wasm} (${(statSync(wasm).size / 1024).toFixed(0)} KiB)`);
  }
  if (relaxed) {
    for (const command of relaxed.commands) run(command, { cwd: ROOT, env: relaxed.env });
    // The page loads either module through the same wrapper: they must need the same one.
    const wrapper = (dir) => readFileSync(join(dir, `${relaxed.name}.js`), "utf8");
    if (wrapper(relaxed.dir) !== wrapper(config.outDir)) {
      throw new Error("the relaxed-SIMD build's wasm-bindgen wrapper differs from the main build's");
    }
    console.log(`wrote ${relaxed.wasm} (${(statSync(relaxed.wasm).size / 1024).toFixed(0)} KiB)`);
    const named = join(relaxed.dir, `${relaxed.name}_bg.wasm`);
    if (config.lean && floatFormattingIn(readFileSync(named))) {
      throw new Error(`${named} formats an f64 with core::fmt ({} or {:?} of a float in a message?): write it with float_text (crate/src/num.rs)`);
    }
  }
  await bundlePage();
  if (!option("--no-vendor")) copyVendor();
} catch (error) {
  console.error(`build: ${error.message}`);
  process.exit(1);
}
