// Runs one command with inherited output, and fails the process with a clear line if it fails.
import { spawnSync } from "node:child_process";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

// Tools installed by `cargo install` live here; a fresh shell may not have it on PATH yet.
const cargoBin = join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "bin");
if (!(process.env.PATH ?? "").split(delimiter).includes(cargoBin)) {
  process.env.PATH = `${cargoBin}${delimiter}${process.env.PATH ?? ""}`;
}

export function run(argv, { cwd, env } = {}) {
  const extra = env && Object.keys(env).length ? Object.entries(env).map(([k, v]) => `${k}=${v} `).join("") : "";
  console.log(`$ ${extra}${argv.join(" ")}`);
  const result = spawnSync(argv[0], argv.slice(1), {
    cwd,
    env: { ...process.env, ...env },
    stdio: "inherit",
  });
  if (result.error) {
    const hint = result.error.code === "ENOENT" ? ` (not installed? run: npm run setup)` : "";
    throw new Error(`could not start ${argv[0]}: ${result.error.message}${hint}`);
  }
  if (result.status !== 0) {
    throw new Error(`${argv[0]} failed with exit code ${result.status ?? result.signal}`);
  }
}
