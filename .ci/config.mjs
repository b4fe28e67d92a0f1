// Reads wasm-pack.toml and turns its settings into the commands that build and test the
// WebAssembly package. wasm-pack does not read that file itself, so this module is where its
// settings take effect. Used by build.mjs, browser-test.mjs and tests/build_config.test.mjs.

import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_CONFIG = join(ROOT, "wasm-pack.toml");

// A parser for the small part of TOML that wasm-pack.toml uses: [sections], and keys whose values
// are strings, booleans, numbers or arrays of those (arrays may span lines). Comments with #.
export function parseToml(text) {
  const result = {};
  let table = result;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = stripComment(lines[i]).trim();
    if (line === "") continue;
    const section = line.match(/^\[([A-Za-z0-9_.-]+)\]$/);
    if (section) {
      table = result;
      for (const part of section[1].split(".")) {
        table[part] ??= {};
        table = table[part];
      }
      continue;
    }
    const pair = line.match(/^([A-Za-z0-9_-]+)\s*=\s*(.*)$/);
    if (!pair) throw new Error(`line ${i + 1}: expected "key = value" or "[section]", got: ${line}`);
    let value = pair[2];
    // An array continues until its brackets balance.
    while (value.startsWith("[") && !arrayClosed(value)) {
      i++;
      if (i >= lines.length) throw new Error(`line ${i}: array for "${pair[1]}" is not closed`);
      value += " " + stripComment(lines[i]).trim();
    }
    table[pair[1]] = parseValue(value.trim(), i + 1);
  }
  return result;
}

function stripComment(line) {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"' && line[i - 1] !== "\\") inString = !inString;
    else if (c === "#" && !inString) return line.slice(0, i);
  }
  return line;
}

function arrayClosed(value) {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== "\\") inString = !inString;
    else if (!inString && c === "[") depth++;
    else if (!inString && c === "]") depth--;
  }
  return depth === 0;
}

function parseValue(text, lineNo) {
  if (text === "true") return true;
  if (text === "false") return false;
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) throw new Error(`line ${lineNo}: unclosed string`);
    return JSON.parse(text);
  }
  if (text.startsWith("[")) {
    const inner = text.slice(1, -1).trim();
    if (inner === "") return [];
    const items = [];
    let current = "";
    let inString = false;
    for (let i = 0; i < inner.length; i++) {
      const c = inner[i];
      if (c === '"' && inner[i - 1] !== "\\") inString = !inString;
      if (c === "," && !inString) {
        items.push(current.trim());
        current = "";
      } else {
        current += c;
      }
    }
    if (current.trim() !== "") items.push(current.trim());
    return items.map((item) => parseValue(item, lineNo));
  }
  throw new Error(`line ${lineNo}: cannot read value ${text}`);
}

const TARGETS = ["web", "bundler", "nodejs", "no-modules", "deno"];
const PROFILES = ["release", "dev", "profiling"];
const BROWSERS = ["chrome", "firefox"];

// Reads and checks the file; relative paths in it are taken from the repository root.
export function loadConfig(file = DEFAULT_CONFIG) {
  const raw = parseToml(readFileSync(file, "utf8"));
  const build = raw.build ?? {};
  const opt = raw["wasm-opt"] ?? {};
  const test = raw.test ?? {};
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
  if (!BROWSERS.includes(config.test.browser)) fail(`test.browser must be one of ${BROWSERS.join(", ")}`);
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

// The commands `npm run build` runs, in order, as [program, ...arguments].
export function buildCommands(config) {
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
    config.outName,
    "--no-opt",
  ];
  if (!config.typescript) wasmPack.push("--no-typescript");
  const wasm = join(config.outDir, `${config.outName}_bg.wasm`);
  const commands = [wasmPack];
  if (config.wasmOpt.enabled) commands.push([config.wasmOpt.program, ...config.wasmOpt.flags, wasm, "-o", wasm]);
  return commands;
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
