// npm run build: builds the WebAssembly package with the settings in wasm-pack.toml, then copies
// the page's vendored libraries (KaTeX) from node_modules into www/vendor/.
//
//   node .ci/build.mjs                      build with wasm-pack.toml
//   node .ci/build.mjs --config FILE        build with another settings file
//   node .ci/build.mjs --dry-run            print the commands, run nothing
//   node .ci/build.mjs --no-vendor          skip copying www/vendor/

import { cpSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildCommands, DEFAULT_CONFIG, loadConfig, ROOT } from "./config.mjs";
import { run } from "./exec.mjs";

const args = process.argv.slice(2);
const option = (name) => args.includes(name);
const configIndex = args.indexOf("--config");
const configFile = configIndex >= 0 ? args[configIndex + 1] : DEFAULT_CONFIG;

// Files of the KaTeX package the page uses; copied to www/vendor/katex/.
const KATEX_FILES = ["katex.min.js", "katex.mjs", "katex.min.css", "fonts"];

function copyVendor() {
  const from = join(ROOT, "node_modules", "katex", "dist");
  if (!existsSync(from)) throw new Error("node_modules/katex is missing: run npm run setup");
  const to = join(ROOT, "www", "vendor", "katex");
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const file of KATEX_FILES) cpSync(join(from, file), join(to, file), { recursive: true });
  console.log(`copied KaTeX (${KATEX_FILES.join(", ")}) to www/vendor/katex/`);
}

try {
  const config = loadConfig(configFile);
  const commands = buildCommands(config);
  if (option("--dry-run")) {
    for (const command of commands) console.log(command.join(" "));
    process.exit(0);
  }
  console.log(`building the wasm package with the settings in ${config.file}`);
  for (const command of commands) run(command, { cwd: ROOT });
  const wasm = join(config.outDir, `${config.outName}_bg.wasm`);
  console.log(`wrote ${wasm} (${(statSync(wasm).size / 1024).toFixed(0)} KiB)`);
  if (!option("--no-vendor")) copyVendor();
} catch (error) {
  console.error(`build: ${error.message}`);
  process.exit(1);
}
