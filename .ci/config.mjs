// Reads wasm-pack.toml and turns its settings into the commands that build and test the
// WebAssembly package. wasm-pack does not read that file itself, so this module is where its
// settings take effect. Used by build.mjs, browser-test.mjs and tests/build_config.test.mjs.

import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_CONFIG = join(ROOT, "wasm-pack.toml");

// TOML through smol-toml (a maintained, dependency-free parser of the whole TOML 1.0 standard).
// An error names the line and column.
export function parseToml(text) {
  try {
    return parse(text);
  } catch (err) {
    if (err.line == null) throw err;
    throw new Error(`line ${err.line}, column ${err.column}: ${err.message.split("\n")[0]}`, { cause: err });
  }
}

const TARGETS = ["web", "bundler", "nodejs", "no-modules", "deno"];
const PROFILES = ["release", "dev", "profiling"];
const BROWSERS = ["chrome", "firefox"];

// Reads and checks the file; relative paths in it are taken from the repository root.
export function loadConfig(file = DEFAULT_CONFIG) {
  let raw;
  try {
    raw = parseToml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: ${err.message}`, { cause: err });
  }
  const build = raw.build ?? {};
  const opt = raw["wasm-opt"] ?? {};
  const test = raw.test ?? {};
  const relaxed = raw.relaxed ?? {};
  const config = {
    file,
    target: build.target ?? "web",
    outDir: fromRoot(build["out-dir"] ?? "www/pkg"),
    outName: build["out-name"] ?? "how_llms_learn",
    profile: build.profile ?? "release",
    typescript: build.typescript ?? true,
    wasmOpt: {
      enabled: opt.enabled ?? false,
      program: opt.program ? program(opt.program) : "wasm-opt",
      flags: opt.flags ?? ["-O"],
    },
    // The lean module (the page's first screen): the same crate built with `cargo-args` (the
    // exports behind the `extras` feature left out), written next to the full one.
    lean: raw.lean ? {
      outName: raw.lean["out-name"] ?? `${build["out-name"] ?? "how_llms_learn"}_lean`,
      cargoArgs: raw.lean["cargo-args"] ?? ["--no-default-features"],
    } : null,
    relaxed: {
      enabled: relaxed.enabled ?? false,
      targetFeatures: relaxed["target-features"] ?? "+simd128,+relaxed-simd",
      targetDir: fromRoot(relaxed["target-dir"] ?? "target/relaxed"),
      suffix: relaxed["out-suffix"] ?? "_relaxed",
    },
    test: {
      browser: test.browser ?? "chrome",
      headless: test.headless ?? true,
      webdriverJson: test["webdriver-json"] ? fromRoot(test["webdriver-json"]) : null,
    },
  };
  const fail = (msg) => {
    throw new Error(`${file}: ${msg}`);
  };
  if (!TARGETS.includes(config.target)) fail(`build.target must be one of ${TARGETS.join(", ")}`);
  if (!PROFILES.includes(config.profile)) fail(`build.profile must be one of ${PROFILES.join(", ")}`);
  if (!/^[A-Za-z0-9_-]+$/.test(config.outName)) fail("build.out-name must be a plain file name");
  if (typeof config.typescript !== "boolean") fail("build.typescript must be true or false");
  if (typeof config.wasmOpt.enabled !== "boolean") fail("wasm-opt.enabled must be true or false");
  if (typeof config.wasmOpt.program !== "string") fail("wasm-opt.program must be a string");
  if (!Array.isArray(config.wasmOpt.flags) || !config.wasmOpt.flags.every((f) => typeof f === "string"))
    fail("wasm-opt.flags must be an array of strings");
  if (typeof config.relaxed.enabled !== "boolean") fail("relaxed.enabled must be true or false");
  if (!/^[A-Za-z0-9_-]+$/.test(config.relaxed.suffix)) fail("relaxed.out-suffix must be a plain file name part");
  if (!/^(\+[a-z0-9-]+,?)+$/.test(config.relaxed.targetFeatures)) fail("relaxed.target-features must look like +simd128,+relaxed-simd");
  if (!BROWSERS.includes(config.test.browser)) fail(`test.browser must be one of ${BROWSERS.join(", ")}`);
  if (config.lean) {
    if (!/^[A-Za-z0-9_-]+$/.test(config.lean.outName) || config.lean.outName === config.outName)
      fail("lean.out-name must be a plain file name other than build.out-name");
    if (!Array.isArray(config.lean.cargoArgs) || !config.lean.cargoArgs.every((a) => typeof a === "string"))
      fail("lean.cargo-args must be an array of strings");
  }
  if (typeof config.test.headless !== "boolean") fail("test.headless must be true or false");
  return config;
}

// A program given with a folder is taken from the repository root; a bare name is looked up on PATH.
function program(path) {
  return path.includes("/") ? fromRoot(path) : path;
}

function fromRoot(path) {
  return isAbsolute(path) ? path : join(ROOT, path);
}

// The commands `npm run build` runs, in order, as [program, ...arguments]: the full module,
// then (with a [lean] section) the lean one, each followed by wasm-opt.
export function buildCommands(config) {
  const modules = [{ outName: config.outName, cargoArgs: [] }];
  if (config.lean) modules.push(config.lean);
  return modules.flatMap(({ outName, cargoArgs }) => {
    const wasmPack = [
      "wasm-pack",
      "build",
      ROOT,
      "--mode",
      "no-install",
      "--target",
      config.target,
      `--${config.profile}`,
      "--out-dir",
      config.outDir,
      "--out-name",
      outName,
      "--no-opt",
    ];
    if (!config.typescript) wasmPack.push("--no-typescript");
    if (cargoArgs.length) wasmPack.push("--", ...cargoArgs);
    const wasm = join(config.outDir, `${outName}_bg.wasm`);
    const commands = [wasmPack];
    if (config.wasmOpt.enabled) commands.push([config.wasmOpt.program, ...config.wasmOpt.flags, wasm, "-o", wasm]);
    return commands;
  });
}

// The environment that turns a wasm build into the relaxed-SIMD one: its target features for
// wasm32 only (not for build scripts), and its own cargo folder.
export function relaxedEnv(config) {
  return {
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS: `-C target-feature=${config.relaxed.targetFeatures}`,
    CARGO_TARGET_DIR: config.relaxed.targetDir,
  };
}

// The relaxed-SIMD variant's build: of the module the page starts with (the lean one when there
// is a [lean] section, else the main one), which does the walkthrough's computing: wasm-pack into
// a folder of its own, then wasm-opt into www/pkg next to it. { commands, env, dir (its wasm-pack
// output), name (the module's out-name, whose wrapper it shares), wasm (the module the page
// loads) }, or null when wasm-pack.toml switches it off.
export function relaxedBuild(config) {
  if (!config.relaxed.enabled) return null;
  const dir = join(config.relaxed.targetDir, "pkg");
  const base = config.lean ?? { outName: config.outName, cargoArgs: [] };
  const [wasmPack] = buildCommands({ ...config, outDir: dir, outName: base.outName, lean: null });
  if (base.cargoArgs.length) wasmPack.push("--", ...base.cargoArgs);
  const built = join(dir, `${base.outName}_bg.wasm`);
  const wasm = join(config.outDir, `${base.outName}${config.relaxed.suffix}_bg.wasm`);
  const commands = [wasmPack];
  if (config.wasmOpt.enabled) commands.push([config.wasmOpt.program, ...config.wasmOpt.flags, "--enable-relaxed-simd", built, "-o", wasm]);
  else commands.push(["cp", built, wasm]);
  return { commands, env: relaxedEnv(config), dir, name: base.outName, wasm };
}

// The command and extra environment of the browser-test stage of `npm test`.
export function testCommand(config) {
  const args = ["wasm-pack", "test"];
  if (config.test.headless) args.push("--headless");
  args.push(`--${config.test.browser}`, "--mode", "no-install");
  const env = {};
  if (config.test.webdriverJson) env.WASM_BINDGEN_TEST_WEBDRIVER_JSON = config.test.webdriverJson;
  return { args, env };
}
