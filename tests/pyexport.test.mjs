// The exported Python files, run under the real framework: the article example and 22 random
// states covering every switch (heads 1/2/4, layer norm, feed-forward on/off, ReLU/GELU, EOS,
// SGD and Adam with memory from earlier steps), 6 training batches (with held-out sets and seeded
// mini-batches) and the preset corpus must agree with the core on every number, and a
// file with one wrong expected number must fail, naming that matrix.
//
// JAX by default (npm test; .ci/setup.sh installs it into .venv). PYEXPORT_FRAMEWORK=pytorch runs
// the PyTorch files instead (npm run test:pytorch installs PyTorch first).
// Run after the build: node --test tests/pyexport.test.mjs

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PYTHON = join(ROOT, ".venv", "bin", "python");
const FRAMEWORK = process.env.PYEXPORT_FRAMEWORK === "pytorch" ? "pytorch" : "jax";

const core = await import(join(ROOT, "www", "pkg", "how_llms_learn.js"));
core.initSync({ module: readFileSync(join(ROOT, "www", "pkg", "how_llms_learn_bg.wasm")) });
const exportFile = FRAMEWORK === "pytorch" ? core.exportPytorch : core.exportJax;

// PYEXPORT_KEEP=1 keeps the files (their folder is printed) to run or read one by hand.
const DIR = mkdtempSync(join(tmpdir(), "pyexport-"));
after(() => (process.env.PYEXPORT_KEEP ? console.log(`files kept in ${DIR}`) : rmSync(DIR, { recursive: true, force: true })));

function python(args) {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: run bash .ci/setup.sh`);
  return spawnSync(PYTHON, args, { encoding: "utf8", maxBuffer: 64 << 20 });
}

// A small seeded generator (mulberry32), so a failure can be replayed.
function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  return { next, normal, int, pick: (xs) => xs[int(0, xs.length - 1)] };
}

/** State i of the random set: its switches cycle so that every combination shows up. */
function randomCase(i) {
  const r = random(1000 + i);
  const nHeads = [1, 2, 4][i % 3];
  const config = {
    dModel: nHeads * r.int(1, 3),
    nHeads,
    dFf: Math.floor(i / 2) % 2 ? r.int(1, 6) : 0,
    layerNorm: i % 2 === 0,
    activation: Math.floor(i / 4) % 2 ? "gelu" : "relu",
    context: r.int(2, 6),
  };
  // Not 1 wide with layer norm: a 1-wide row normalises to 0 whatever it holds, so every gradient
  // through it is rounding noise times 1/√ε (the core's exact 0 against a framework's 1e-14).
  if (config.layerNorm && config.dModel === 1) config.dModel = 2;
  const vocab = ["AI", "rocks", ...Array.from({ length: r.int(0, 4) }, (_, j) => `t${j}`)];
  let state = core.resize(core.articleExample(), { vocab, config });
  for (const [name, w] of Object.entries(state.weights)) {
    const gain = name.endsWith("Gain");
    const draw = () => (gain ? 1 : 0) + (gain ? 0.3 : 0.6) * r.normal();
    state.weights[name] = Array.isArray(w[0]) ? w.map((row) => row.map(draw)) : w.map(draw);
  }
  const withEos = Math.floor(i / 8) % 2 === 1 || i % 5 === 0;
  const length = r.int(withEos ? 1 : 2, config.context);
  state.tokens = Array.from({ length }, () => r.pick(vocab));
  state.eos = withEos ? r.pick(vocab) : null;
  const adam = i % 3 !== 1;
  const options = adam
    ? { optimizer: "adam", learningRate: r.pick([0.001, 0.01, 0.05]), beta1: r.pick([0.9, 0.8]), beta2: r.pick([0.999, 0.99]), epsilon: r.pick([1e-8, 1e-6]) }
    : { optimizer: "sgd", learningRate: r.pick([0.01, 0.1, 0.5]) };
  // Earlier Adam steps leave non-zero memory (an SGD export keeps it in the state, unused).
  const earlier = i % 4;
  for (let k = 0; k < earlier; k++) state = core.step(state, { ...options, optimizer: "adam" }).state;
  const name = `case${String(i).padStart(2, "0")}-h${nHeads}-ln${+config.layerNorm}-ff${config.dFf}-${config.activation}`
    + `-eos${+withEos}-${options.optimizer}-mem${earlier}`;
  return { name, state, options };
}

const ARTICLE = { name: "article", state: core.articleExample(), options: { optimizer: "sgd", learningRate: 0.1 } };
/** A training-batch case from random state i: 2 to 4 sequences of random lengths (the shown one
 * in the batch, or not), a held-out set, and on odd cases a seeded mini-batch of 2. */
function batchCase(i) {
  const { name, state, options } = randomCase(i);
  const r = random(5000 + i);
  const seq = (min) => Array.from({ length: r.int(min, state.config.context) }, () => r.pick(state.vocab));
  const min = state.eos === null ? 2 : 1;
  state.sequences = Array.from({ length: r.int(2, 4) }, () => seq(min));
  if (i % 3 === 0) state.sequences[1] = [...state.tokens];
  state.heldOut = i % 2 ? [seq(min)] : [];
  const step = i % 2 ? { ...options, batch: { size: 2, seed: i, step: 3 * i } } : options;
  return { name: `batch-${name}`, state, options: step };
}

const PRESET = core.presetCorpus();
const CASES = [
  ...Array.from({ length: Number(process.env.PYEXPORT_CASES || 22) }, (_, i) => randomCase(i)),
  ...Array.from({ length: Number(process.env.PYEXPORT_BATCH_CASES || 6) }, (_, i) => batchCase(i)),
  {
    name: "preset-corpus-minibatch",
    state: core.corpusState(PRESET.text, { heldOut: PRESET.heldOut }),
    options: { optimizer: "adam", learningRate: 0.01, batch: { size: 4, seed: 1, step: 7 } },
  },
];

// Imports each file (none runs on import) and calls its main(): one interpreter for all of them,
// since starting Python and importing the framework take most of a single run's time.
const BATCH = `
import contextlib, importlib.util, io, json, sys, traceback
results = []
for path in sys.argv[1:]:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            spec = importlib.util.spec_from_file_location("exported", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            code = module.main(module.run, "(batch)")
    except Exception:
        code, out = 2, io.StringIO(out.getvalue() + traceback.format_exc())
    results.append({"path": path, "code": code, "output": out.getvalue()})
print(json.dumps(results))
`;

test("the random states cover every switch", () => {
  assert.ok(CASES.some(({ options }) => options.batch), "a mini-batch step");
  assert.ok(CASES.some(({ state }) => state.heldOut?.length), "a held-out set");
  const seen = new Set(CASES.map(({ state, options }) => [
    `h${state.config.nHeads}`, `ln${state.config.layerNorm}`, `ff${state.config.dFf > 0}`, state.config.activation,
    `eos${state.eos !== null}`, options.optimizer, `memory${Boolean(state.optimizer)}`,
  ]).flat());
  for (const s of ["h1", "h2", "h4", "lntrue", "lnfalse", "fftrue", "fffalse", "relu", "gelu", "eostrue", "eosfalse", "sgd", "adam", "memorytrue", "memoryfalse"]) {
    assert.ok(seen.has(s), `no random state has ${s}`);
  }
  assert.ok(CASES.some(({ state, options }) => options.optimizer === "adam" && state.optimizer), "Adam with memory");
});

test(`the ${FRAMEWORK} file of the article example runs on its own and every number agrees`, () => {
  const file = join(DIR, `article-${FRAMEWORK}.py`);
  writeFileSync(file, exportFile(ARTICLE.state, ARTICLE.options));
  const run = python([file]);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /All \d+ matrices agree\.\n$/);
  assert.doesNotMatch(run.stdout, /MISMATCH/);
});

test(`the ${FRAMEWORK} files of ${CASES.length} random states agree with the core on every number`, () => {
  const files = CASES.map(({ name, state, options }) => {
    const file = join(DIR, `${name}.py`);
    writeFileSync(file, exportFile(state, options));
    return file;
  });
  const batch = join(DIR, "batch.py");
  writeFileSync(batch, BATCH);
  const run = python([batch, ...files]);
  assert.equal(run.status, 0, run.stderr);
  const results = JSON.parse(run.stdout.trim().split("\n").pop());
  assert.equal(results.length, CASES.length);
  const failed = results.filter((r) => r.code !== 0);
  assert.deepEqual(failed.map((r) => r.path), [], failed.map((r) => `${r.path}\n${r.output}`).join("\n"));
  for (const r of results) assert.match(r.output, /All \d+ matrices agree\./);
});

test("a file with one wrong expected number exits non-zero and names exactly that matrix", () => {
  const text = exportFile(ARTICLE.state, ARTICLE.options);
  // (Not a weight gradient: the file's step starts from the page's gradient, so one wrong
  // gradient would also move the weights after the step.)
  const entry = /(EXPECTED\["activation gradient", "q"\] = \[\n {4}\[)([^,\]]+)/;
  assert.match(text, entry);
  const file = join(DIR, `wrong-${FRAMEWORK}.py`);
  writeFileSync(file, text.replace(entry, (_, head, x) => `${head}${Number(x) + 1e-3}`));
  const run = python([file]);
  assert.equal(run.status, 1, run.stdout + run.stderr);
  const bad = run.stdout.split("\n").filter((l) => l.includes("MISMATCH"));
  assert.equal(bad.length, 1, run.stdout);
  assert.match(bad[0], /∂L\/∂Q +activation gradient q +max\|a − b\| = 1\.0e-03 > /);
  assert.match(run.stdout, /1 of \d+ matrices disagree: activation gradient q\n$/);
});

test("a state or step the core refuses gives a plain error, not a file", () => {
  const noTarget = { ...core.articleExample(), tokens: ["AI"] };
  assert.throws(() => exportFile(noTarget, { learningRate: 0.1 }), /no position has a target/);
  assert.throws(() => exportFile(core.articleExample(), { learningRate: -1 }), /learningRate is -1/);
  assert.throws(() => exportFile(core.articleExample(), {}), /learningRate is missing/);
  const bad = core.articleExample();
  bad.weights.wq[1] = [1, 2, 3];
  assert.throws(() => exportFile(bad, { learningRate: 0.1 }), /weights\.wq row 1 has 3 numbers, expected 2/);
  const big = core.resize(core.articleExample(), { config: { dModel: 256, nHeads: 4, dFf: 1024, layerNorm: true, activation: "gelu", context: 256 } });
  assert.throws(() => exportFile(big, { learningRate: 0.1 }), /would hold \d+ numbers, more than the 1000000 .*export a smaller model/);
});
