// npm run build: builds the WebAssembly package with the settings in wasm-pack.toml, then copies
// the page's vendored libraries (KaTeX) from node_modules into www/vendor/.
//
//   node .ci/build.mjs                      build with wasm-pack.toml
//   node .ci/build.mjs --config FILE        build with another settings file
//   node .ci/build.mjs --dry-run            print the commands, run nothing
//   node .ci/build.mjs --no-vendor          skip copying www/vendor/

import { statSync } from "node:fs";
import { join } from "node:path";
import { buildCommands, DEFAULT_CONFIG, loadConfig, ROOT } from "./config.mjs";
import { run } from "./exec.mjs";
import { writeKatex } from "./katex.mjs";

const args = process.argv.slice(2);
const option = (name) => args.includes(name);
const configIndex = args.indexOf("--config");
const configFile = configIndex >= 0 ? args[configIndex + 1] : DEFAULT_CONFIG;

function copyVendor() {
  writeKatex(join(ROOT, "www", "vendor", "katex"));
  console.log("wrote KaTeX (minified ES module, stylesheet, woff2 fonts) to www/vendor/katex/");
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
