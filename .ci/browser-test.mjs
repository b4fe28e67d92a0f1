// The browser stage of npm test: runs the tests in tests/ that use run_in_browser
// (tests/web.rs) and the unit tests of the core (crate/) and the kernels (crate/kernels/) with
// wasm-pack test, in the browser that wasm-pack.toml's [test] names: once for the simd128 build
// and once for the relaxed-SIMD one.

import { loadConfig, relaxedEnv, ROOT, testCommand } from "./config.mjs";
import { run } from "./exec.mjs";
import { join } from "node:path";

try {
  const config = loadConfig();
  const { args, env } = testCommand(config);
  for (const dir of [ROOT, join(ROOT, "crate"), join(ROOT, "crate", "kernels")]) {
    run(args, { cwd: dir, env });
    // Again as the relaxed-SIMD build the page loads where the browser has it (wasm-pack.toml).
    if (config.relaxed.enabled) run(args, { cwd: dir, env: { ...env, ...relaxedEnv(config) } });
  }
} catch (error) {
  console.error(`browser tests: ${error.message}`);
  process.exit(1);
}
