// The browser stage of npm test: runs the tests in tests/ that use run_in_browser
// (tests/web.rs) with wasm-pack test, in the browser that wasm-pack.toml's [test] names.

import { loadConfig, ROOT, testCommand } from "./config.mjs";
import { run } from "./exec.mjs";

try {
  const { args, env } = testCommand(loadConfig());
  run(args, { cwd: ROOT, env });
} catch (error) {
  console.error(`browser tests: ${error.message}`);
  process.exit(1);
}
