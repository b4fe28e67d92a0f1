// Proves that the settings in wasm-pack.toml take effect (wasm-pack itself never reads that file;
// .ci/config.mjs and .ci/build.mjs do), and that the optimised package npm run build wrote loads
// and answers. Run by npm test after the build stage: node --test tests/build_config.test.mjs

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { buildCommands, loadConfig, parseToml, relaxedBuild, ROOT, testCommand } from "../.ci/config.mjs";

const BUILD = join(ROOT, ".ci", "build.mjs");

function tempConfig(text) {
  const dir = mkdtempSync(join(tmpdir(), "wasm-pack-toml-"));
  const file = join(dir, "wasm-pack.toml");
  writeFileSync(file, text);
  return { dir, file };
}

test("wasm-pack.toml is read as TOML: sections, comments, arrays over several lines; errors give the line", () => {
  const parsed = parseToml(`
    # a comment
    [build]
    target = "web"   # trailing comment
    out-name = "a#b"
    typescript = false
    level = 3
    [wasm-opt]
    flags = [
      "-O3",  # comment inside
      "--enable-bulk-memory",
    ]
    empty = []
  `);
  // smol-toml returns objects without a prototype; compare their contents.
  assert.deepEqual(JSON.parse(JSON.stringify(parsed)), {
    build: { target: "web", "out-name": "a#b", typescript: false, level: 3 },
    "wasm-opt": { flags: ["-O3", "--enable-bulk-memory"], empty: [] },
  });
  assert.throws(() => parseToml("[build]\ntarget web"), /^Error: line 2, column \d+:/);
  assert.throws(() => loadConfig(tempConfig("[build]\ntarget = \"web\"\ntarget = \"web\"").file), /wasm-pack\.toml: line 3/);
});

test("the repository's wasm-pack.toml gives the build and test commands", () => {
  const config = loadConfig();
  const [wasmPack, wasmOpt] = buildCommands(config);
  assert.deepEqual(wasmPack.slice(0, 2), ["wasm-pack", "build"]);
  const after = (flag) => wasmPack[wasmPack.indexOf(flag) + 1];
  assert.equal(after("--target"), "web");
  assert.equal(after("--out-dir"), join(ROOT, "www", "pkg"));
  assert.equal(after("--out-name"), "how_llms_learn");
  assert.equal(after("--mode"), "no-install");
  assert.ok(wasmPack.includes("--release"));
  assert.ok(wasmPack.includes("--no-opt"), "wasm-pack's own wasm-opt (which downloads) stays off");
  assert.equal(wasmOpt[0], join(ROOT, "node_modules", ".bin", "wasm-opt"));
  assert.ok(wasmOpt.includes("-O3"));
  // [lean]: the same build again without the `extras` feature, the module the page starts with.
  const [, , leanPack, leanOpt] = buildCommands(config);
  assert.equal(leanPack[leanPack.indexOf("--out-name") + 1], "how_llms_learn_lean");
  assert.deepEqual(leanPack.slice(leanPack.indexOf("--")), ["--", "--no-default-features"]);
  assert.equal(leanOpt.at(-1), join(ROOT, "www", "pkg", "how_llms_learn_lean_bg.wasm"));
  const { args, env } = testCommand(config);
  assert.deepEqual(args, ["wasm-pack", "test", "--headless", "--chrome", "--mode", "no-install"]);
  assert.equal(env.WASM_BINDGEN_TEST_WEBDRIVER_JSON, join(ROOT, ".ci", "webdriver.json"));
});

test("another settings file changes the command build.mjs runs", () => {
  const { dir, file } = tempConfig(`
    [build]
    target = "nodejs"
    out-dir = "elsewhere/pkg"
    out-name = "other_name"
    profile = "dev"
    typescript = false
    [wasm-opt]
    enabled = false
    [test]
    browser = "firefox"
    headless = false
  `);
  try {
    const printed = execFileSync(process.execPath, [BUILD, "--config", file, "--dry-run"], { encoding: "utf8" });
    const lines = printed.trim().split("\n");
    assert.equal(lines.length, 1, "wasm-opt disabled: only the wasm-pack command");
    assert.match(lines[0], /--target nodejs /);
    assert.match(lines[0], / --dev /);
    assert.ok(lines[0].includes(`--out-dir ${join(ROOT, "elsewhere", "pkg")} `));
    assert.match(lines[0], /--out-name other_name /);
    assert.match(lines[0], /--no-typescript/);
    assert.deepEqual(testCommand(loadConfig(file)).args, ["wasm-pack", "test", "--firefox", "--mode", "no-install"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the relaxed-SIMD variant of the lean module: its own cargo folder and target features, the lean cargo arguments, wasm-opt told of relaxed SIMD, next to the lean module", () => {
  const config = loadConfig();
  const relaxed = relaxedBuild(config);
  assert.ok(relaxed, "wasm-pack.toml [relaxed] is enabled");
  assert.equal(relaxed.env.CARGO_TARGET_DIR, join(ROOT, "target", "relaxed"));
  assert.equal(relaxed.env.CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS, "-C target-feature=+simd128,+relaxed-simd");
  const [wasmPack, wasmOpt] = relaxed.commands;
  assert.equal(wasmPack[wasmPack.indexOf("--out-dir") + 1], join(ROOT, "target", "relaxed", "pkg"));
  assert.ok(wasmOpt.includes("--enable-relaxed-simd"));
  assert.equal(wasmOpt.at(-1), join(ROOT, "www", "pkg", "how_llms_learn_lean_relaxed_bg.wasm"));
  assert.deepEqual(wasmPack.slice(wasmPack.indexOf("--") + 1), config.lean.cargoArgs, "built without the extras, as the lean module");
  assert.equal(relaxed.name, config.lean.outName);
  for (const command of buildCommands(config)) assert.ok(!command.includes("--enable-relaxed-simd"), "the other builds stay simd128 only");
  assert.equal(relaxedBuild({ ...config, relaxed: { ...config.relaxed, enabled: false } }), null);
});

test("the built modules: the relaxed one multiplies and adds with f64x2.relaxed_madd, the main one never", () => {
  const config = loadConfig();
  const count = (file) => {
    assert.ok(existsSync(file), `${file} is missing: run npm run build first`);
    const text = execFileSync(join(ROOT, "node_modules", ".bin", "wasm-dis"), [file], { encoding: "utf8", maxBuffer: 256 << 20 });
    return text.split("f64x2.relaxed_madd").length - 1;
  };
  assert.equal(count(join(config.outDir, `${config.outName}_bg.wasm`)), 0);
  assert.equal(count(join(config.outDir, `${config.lean.outName}_bg.wasm`)), 0);
  assert.ok(count(relaxedBuild(config).wasm) > 0);
});

test("bad settings are refused with the key's name", () => {
  const { dir, file } = tempConfig('[build]\ntarget = "browser"\n');
  try {
    assert.throws(() => loadConfig(file), /build\.target must be one of/);
    writeFileSync(file, '[build]\nprofile = "fast"\n');
    assert.throws(() => loadConfig(file), /build\.profile/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a real build follows out-dir, out-name, typescript and wasm-opt from the settings file", () => {
  const main = loadConfig();
  const built = join(main.outDir, `${main.outName}_bg.wasm`);
  assert.ok(existsSync(built), `${built} is missing: run npm run build first`);
  const { dir, file } = tempConfig(`
    [build]
    target = "web"
    out-dir = "${join(tmpdir(), "unused")}"
    out-name = "settings_probe"
    profile = "${main.profile}"
    typescript = false
    [wasm-opt]
    enabled = false
  `);
  const outDir = join(dir, "out");
  writeFileSync(file, readFileSync(file, "utf8").replace(join(tmpdir(), "unused"), outDir));
  try {
    // Same cargo profile as the main build, so cargo has nothing to compile: only wasm-bindgen runs.
    execFileSync(process.execPath, [BUILD, "--config", file, "--no-vendor"], { stdio: "pipe" });
    assert.ok(existsSync(join(outDir, "settings_probe.js")));
    assert.ok(existsSync(join(outDir, "settings_probe_bg.wasm")));
    assert.ok(!existsSync(join(outDir, "settings_probe.d.ts")), "typescript = false writes no .d.ts");
    assert.ok(!existsSync(join(outDir, `${main.outName}.js`)));
    if (main.wasmOpt.enabled) {
      const plain = statSync(join(outDir, "settings_probe_bg.wasm")).size;
      const optimised = statSync(built).size;
      assert.ok(optimised < plain, `wasm-opt ran on the main build: ${optimised} < ${plain} bytes`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the built package loads and answers, and bad input throws an Error naming the field", async () => {
  const { outDir, outName } = loadConfig();
  const module = await import(pathToFileURL(join(outDir, `${outName}.js`)).href);
  module.initSync({ module: readFileSync(join(outDir, `${outName}_bg.wasm`)) });
  const state = module.articleExample();
  assert.deepEqual(state.tokens, ["AI", "rocks"]);
  const loss = module.loss(state);
  assert.equal(loss.count, 1);
  assert.deepEqual(loss.targets, [1, null]);
  assert.ok(Number.isFinite(loss.value) && loss.value > 0);
  const forward = module.forward(state);
  assert.equal(forward.scores[0][0][1], null);
  const stepped = module.step(state, { optimizer: "sgd", learningRate: 0.1 });
  assert.ok(stepped.lossAfter < stepped.lossBefore);
  for (const name of ["articleExample", "forward", "loss", "backward", "step", "derivation", "finiteDifference", "resize", "validate"]) {
    assert.equal(typeof module[name], "function", `export ${name}`);
  }

  state.weights.wq[1] = [0.1, 0.4, 0.9];
  assert.throws(
    () => module.forward(state),
    (error) => error instanceof Error && /weights\.wq row 1 has 3 numbers, expected 2/.test(error.message),
  );
});

test("docs/API.md's complete example is the article's default state, with its loss", async () => {
  const doc = readFileSync(join(ROOT, "docs", "API.md"), "utf8");
  const block = doc.match(/<!-- example-state[^>]*-->\s*```json\n([\s\S]*?)```/);
  assert.ok(block, "docs/API.md has an example-state JSON block");
  const documented = JSON.parse(block[1]);
  const { outDir, outName } = loadConfig();
  const module = await import(pathToFileURL(join(outDir, `${outName}.js`)).href);
  module.initSync({ module: readFileSync(join(outDir, `${outName}_bg.wasm`)) });
  assert.deepEqual(module.validate(documented), module.articleExample(), "update docs/API.md's example");
  const value = module.loss(documented).value;
  assert.ok(doc.includes(String(value)), `docs/API.md quotes the example's loss ${value}`);
  const after = module.step(documented, { optimizer: "sgd", learningRate: 0.1 }).lossAfter.toFixed(3);
  assert.ok(doc.includes(`about ${after}`), `docs/API.md quotes the loss after one SGD step, ${after}`);
});
