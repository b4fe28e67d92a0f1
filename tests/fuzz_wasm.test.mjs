// Fuzzes the WebAssembly API the way the world can call it: every export and every Model method
// gets random and adversarial JS values (deep, wide, shared, cyclic, typed arrays, odd prototypes,
// Proxies and getters that throw or call back, huge numbers, NaN, -0, lone surrogates, symbols,
// BigInts), most of them planted at a random place inside a valid state. After every call the
// module must still answer a known question correctly, and whatever was thrown must be an Error
// with a message: a trap (RuntimeError: unreachable, memory access out of bounds) leaves the module
// unusable until the page is reloaded, which is exactly what must never happen.
//
//   node --test tests/fuzz_wasm.test.mjs            (needs www/pkg: node .ci/build.mjs)
//   FUZZ_SEED=123 FUZZ_CALLS=100000 node --test tests/fuzz_wasm.test.mjs
//   FUZZ_MODULE=lean node --test tests/fuzz_wasm.test.mjs   the lean module the page starts with
//                                                   (wasm-pack.toml [lean]; npm test runs both)

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../.ci/config.mjs";

const PKG = join(ROOT, "www", "pkg");
const LEAN = process.env.FUZZ_MODULE === "lean";
const NAME = LEAN ? "how_llms_learn_lean" : "how_llms_learn";
const core = await import(join(PKG, `${NAME}.js`));
core.initSync({ module: readFileSync(join(PKG, `${NAME}_bg.wasm`)) });
/** The exports only the full module has (the `extras` feature, crate/src/wasm/extras.rs). */
const EXTRAS = ["derivation", "forwardExplanation", "finiteDifference", "exportJax", "exportPytorch",
  "presetCorpus", "tokenize", "corpusState", "generate"];
/** Model methods only the full module has (training on a corpus, generation). */
const EXTRA_METHODS = ["heldOutLoss", "generate"];

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CALLS = Number(process.env.FUZZ_CALLS ?? 50000);

/** mulberry32: small, seeded, good enough to pick cases. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const int = (n) => Math.floor(random() * n);
const pick = (xs) => xs[int(xs.length)];
const chance = (p) => random() < p;

const EXAMPLE = core.articleExample();
const EXPECTED_LOSS = core.loss(EXAMPLE).value;
const WEIGHTS = Object.keys(EXAMPLE.weights).concat(["ln1Gain", "lnfBias", "ln2Gain", "nope"]);
const ACTIVATIONS = Object.keys(core.forward(EXAMPLE)).concat(["scores", "attention", "nope"]);
const clone = () => structuredClone(EXAMPLE);
// A training-batch state (sequences, heldOut, eos) from the preset corpus: made by the full
// module. The lean one refuses it (docs/API.md), and must do so without harm however it comes.
const full = LEAN ? await import(join(PKG, "how_llms_learn.js")) : core;
if (LEAN) full.initSync({ module: readFileSync(join(PKG, "how_llms_learn_bg.wasm")) });
const PRESET = full.presetCorpus();
const CORPUS = full.corpusState(PRESET.text, { heldOut: PRESET.heldOut });
const cloneCorpus = () => structuredClone(CORPUS);

// Expensive values, built once and reused.
const HUGE_ROWS = Array.from({ length: 1e6 }, () => [0, 0]);
const HUGE_ROW = new Array(1e7).fill(0);
const MANY_KEYS = Object.fromEntries(Array.from({ length: 1e5 }, (_, i) => [`k${i}`, i]));
const SHARED_ROW = new Array(1024).fill(0.5);
const SHARED_MATRIX = new Array(1024).fill(SHARED_ROW);

function deep(n, object) {
  let v = 0;
  for (let i = 0; i < n; i += 1) v = object ? { a: v } : [v];
  return v;
}
function shared(n) {
  let v = [1];
  for (let i = 0; i < n; i += 1) v = [v, v];
  return v;
}
function cycle() {
  const a = [1];
  a.push(a);
  const o = { a: 1 };
  o.self = o;
  return pick([a, o, [[a]], { weights: o }]);
}
const thrower = () => {
  throw new Error("boom from a getter");
};
function proxy() {
  const traps = pick([
    { get: thrower },
    { ownKeys: thrower },
    { has: thrower },
    { getOwnPropertyDescriptor: thrower },
    { get: (t, k) => (k === "length" ? pick([1e9, -1, NaN, 2 ** 32, "3", undefined]) : deep(50, false)) },
    { get: () => { throw pick([1, "text", null, Symbol("s"), { message: 5 }]); } },
  ]);
  const target = pick([[], [1, 2], {}, clone(), clone().weights]);
  if (chance(0.2)) {
    const { proxy: p, revoke } = Proxy.revocable(target, {});
    revoke();
    return p;
  }
  return new Proxy(target, traps);
}
function getter(valueOf) {
  const o = {};
  Object.defineProperty(o, pick(["vocab", "weights", "learningRate", "wq", "0", "index", "config"]), {
    enumerable: true,
    get: valueOf,
  });
  return o;
}
const STRINGS = [
  "", "AI", "rocks", "relu", "gelu", "adam", "sgd", "weights", "activations", "wq", "x", "probs",
  "\uD800", "a\uDC00b", "\uD83D", "\uDE00\uD83D", "x".repeat(65), "x".repeat(5000), "\u200B",
  "\u202EAI", "e\u0301", "👩‍💻", "\u3164", "\u2800", " ", "⟨eos⟩", "__proto__", "constructor",
];
const NUMBERS = [
  0, -0, 1, -1, 2, 0.5, 0.1, NaN, Infinity, -Infinity, 1e308, -1e308, 5e-324, 2 ** 31, 2 ** 32,
  2 ** 53 + 2, -(2 ** 31), 1e12, 2e7, 1e-9, 4, 256, 257, 1024,
];

/** Any JS value, weighted towards the strange. */
function value(level = 0) {
  const r = int(level > 2 ? 4 : 26);
  switch (r) {
    case 0: return pick(NUMBERS);
    case 1: return pick(STRINGS);
    case 2: return pick([null, undefined, true, false]);
    case 3: return random() * 200 - 100;
    case 4: return pick([Symbol("s"), 2n, 2n ** 70n, -1n, () => 1, class {}]);
    case 5: return deep(pick([5, 6, 10, 100, 10000]), chance(0.5));
    case 6: return shared(pick([3, 8, 23, 40]));
    case 7: return cycle();
    case 8: return proxy();
    case 9: return getter(chance(0.5) ? thrower : () => deep(10000, false));
    case 10: return pick([new Float64Array(3), new Uint8Array(2), new ArrayBuffer(8), new DataView(new ArrayBuffer(4))]);
    case 11: return pick([Object.create(null), new Date(0), new Map([["a", 1]]), new Set([1]), new String("AI"), new Number(2), /re/, new Error("e")]);
    case 12: return pick([HUGE_ROWS, HUGE_ROW, MANY_KEYS, new Array(5), new Array(2 ** 20)]);
    case 13: return Array.from({ length: int(5) }, () => value(level + 1));
    case 14: return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(STRINGS), value(level + 1)]));
    case 15: return Object.assign(Object.create(Array.prototype), { length: 2, 0: 1, 1: 2 });
    case 16: return Object.freeze([[1, 0], [0, 1]]);
    case 17: return [[pick(NUMBERS), pick(NUMBERS)], [pick(NUMBERS), pick(NUMBERS)]];
    case 18: return Array.from({ length: int(3) }, () => pick(STRINGS));
    case 19: return SHARED_MATRIX;
    case 20: return clone().weights.wq;
    case 21: return Object.assign(Object.create({ inherited: 1 }), { own: 2 });
    case 22: return new Proxy([1, 2], {});
    case 23: return [pick(NUMBERS)];
    case 24: return { valueOf: () => 2, toString: () => "AI" };
    default: return pick([[], {}, [[]], [{}], { a: [] }]);
  }
}

/** A valid state with one random place replaced (or removed, or a key added). */
function mutatedState() {
  const state = chance(0.25) ? cloneCorpus() : clone();
  if (chance(0.08)) return value();
  if (chance(0.05)) return state;
  const steps = 1 + int(4);
  let parent = state;
  for (let i = 0; i < steps; i += 1) {
    const keys = Object.keys(parent);
    if (keys.length === 0) break;
    const key = pick(keys);
    const child = parent[key];
    if (i === steps - 1 || child === null || typeof child !== "object") {
      const roll = random();
      if (roll < 0.1) delete parent[key];
      else if (roll < 0.2) parent[pick(STRINGS)] = value();
      else parent[key] = value();
      return state;
    }
    parent = child;
  }
  parent[pick(STRINGS)] = value();
  return state;
}

function options() {
  if (chance(0.15)) return value();
  const o = {};
  if (chance(0.7)) o.optimizer = chance(0.8) ? pick(["sgd", "adam"]) : value();
  if (chance(0.9)) o.learningRate = chance(0.7) ? pick([0.1, 0.01, 1, 1e308, -1, 0]) : value();
  for (const k of ["beta1", "beta2", "epsilon"]) if (chance(0.2)) o[k] = chance(0.5) ? pick(NUMBERS) : value();
  if (chance(0.2)) {
    o.batch = chance(0.2) ? value() : {};
    for (const k of ["size", "seed", "step"]) if (chance(0.8) && typeof o.batch === "object" && o.batch) o.batch[k] = chance(0.8) ? int(6) : pick(NUMBERS.concat([value()]));
  }
  return o;
}

/** A corpus text: the preset, a line of it changed, or anything. */
function text() {
  const r = int(6);
  if (r === 0) return value();
  if (r === 1) return pick(STRINGS);
  if (r === 2) return pick(["x ".repeat(17), "a".repeat(5000), "word ".repeat(2000), "\n\n", "ai rocks\u200b .", Array.from({ length: 70 }, (_, i) => `w${i}`).join(" ")]);
  const lines = PRESET.text.split("\n");
  lines[int(lines.length)] = pick(STRINGS);
  return lines.join("\n");
}

function corpusOptions() {
  if (chance(0.3)) return chance(0.5) ? undefined : value();
  const o = {};
  if (chance(0.6)) o.heldOut = chance(0.6) ? PRESET.heldOut : text();
  if (chance(0.5)) o.seed = chance(0.7) ? int(10) : pick(NUMBERS.concat([value()]));
  return o;
}

function generateOptions() {
  if (chance(0.2)) return chance(0.5) ? undefined : value();
  const o = {};
  if (chance(0.6)) o.maxTokens = chance(0.7) ? int(70) : pick(NUMBERS.concat([value()]));
  if (chance(0.6)) o.temperature = chance(0.7) ? random() * 2 : pick(NUMBERS.concat([value()]));
  if (chance(0.5)) o.seed = chance(0.7) ? int(10) : pick(NUMBERS.concat([value()]));
  return o;
}

function prompt() {
  if (chance(0.3)) return value();
  return Array.from({ length: 1 + int(chance(0.9) ? 3 : 300) }, () => (chance(0.8) ? pick(CORPUS.vocab.concat(EXAMPLE.vocab)) : pick(STRINGS)));
}

function cell() {
  if (chance(0.15)) return value();
  const weight = chance(0.5);
  const o = {
    group: chance(0.9) ? (weight ? "weights" : "activations") : value(),
    name: chance(0.85) ? pick(weight ? WEIGHTS : ACTIVATIONS) : value(),
    index: chance(0.8) ? Array.from({ length: 1 + int(3) }, () => (chance(0.8) ? int(3) : pick(NUMBERS))) : value(),
  };
  if (chance(0.1)) delete o[pick(["group", "name", "index"])];
  return o;
}

function change() {
  if (chance(0.15)) return value();
  const o = {};
  if (chance(0.5)) o.vocab = chance(0.7) ? ["AI", "rocks", ...Array.from({ length: int(3) }, () => pick(STRINGS))] : value();
  if (chance(0.6)) {
    o.config = { ...EXAMPLE.config };
    const key = pick(Object.keys(o.config));
    o.config[key] = chance(0.5) ? pick(NUMBERS) : value();
  }
  return o;
}

const anyArg = () => pick([value, mutatedState, options, cell, change])();
const stateArg = () => (chance(0.85) ? mutatedState() : value());
// The lean module refuses a batch state (checked below): its models are single-sentence ones.
const models = [new core.Model(EXAMPLE), LEAN ? new core.Model(EXAMPLE) : new core.Model(CORPUS)];
const sentinel = new core.Model(EXAMPLE);
const model = () => pick(models);

/** A getter that calls back into a model while the core reads its argument. */
function reentrant() {
  const m = model();
  const o = { learningRate: 0.1 };
  Object.defineProperty(o, "optimizer", {
    enumerable: true,
    get() {
      try {
        pick([
          () => m.lossValue(),
          () => m.setState(EXAMPLE),
          () => m.train({ learningRate: 0.1 }, 2),
          () => m.getState(),
          // Freed while its own method runs: wasm-bindgen keeps it alive until that call returns.
          () => { m.freedInside = true; m.free(); },
        ])();
      } catch (e) {
        if (!(e instanceof Error)) throw new Error(`reentrant call threw a non-Error: ${String(e)}`, { cause: e });
      }
      return "sgd";
    },
  });
  return o;
}

const EXPORTS = {
  // The start function (it installs the panic hook) may be called again from outside.
  start: () => core.start(...(chance(0.5) ? [anyArg()] : [])),
  articleExample: () => core.articleExample(...(chance(0.5) ? [anyArg()] : [])),
  schema: () => core.schema(stateArg()),
  forward: () => core.forward(stateArg()),
  loss: () => core.loss(stateArg()),
  backward: () => core.backward(stateArg()),
  step: () => core.step(stateArg(), chance(0.8) ? options() : value()),
  derivation: () => core.derivation(chance(0.7) ? clone() : stateArg(), cell()),
  forwardExplanation: () => core.forwardExplanation(chance(0.7) ? clone() : stateArg(), cell()),
  finiteDifference: () => core.finiteDifference(chance(0.7) ? clone() : stateArg(), cell(), ...(chance(0.5) ? [chance(0.5) ? pick(NUMBERS) : value()] : [])),
  resize: () => core.resize(chance(0.7) ? clone() : stateArg(), change()),
  exportJax: () => core.exportJax(chance(0.5) ? clone() : stateArg(), options()),
  exportPytorch: () => core.exportPytorch(chance(0.5) ? clone() : stateArg(), options()),
  validate: () => core.validate(stateArg()),
  presetCorpus: () => core.presetCorpus(...(chance(0.5) ? [anyArg()] : [])),
  tokenize: () => core.tokenize(text(), corpusOptions()),
  corpusState: () => core.corpusState(text(), corpusOptions()),
  generate: () => core.generate(chance(0.5) ? cloneCorpus() : stateArg(), prompt(), generateOptions()),
  Model: () => {
    const m = new core.Model(chance(0.3) ? pick([clone, cloneCorpus])() : stateArg());
    if (models.length < 6) models.push(m);
    else if (chance(0.5)) models.splice(1 + int(models.length - 1), 1, m)[0].free();
    else m.free();
  },
};
if (LEAN) for (const name of EXTRAS) delete EXPORTS[name];
const METHODS = {
  setState: () => model().setState(chance(0.3) ? clone() : stateArg()),
  getState: () => model().getState(...(chance(0.2) ? [anyArg()] : [])),
  setWeight: () => model().setWeight(
    chance(0.8) ? pick(WEIGHTS) : value(),
    chance(0.8) ? int(3) : pick(NUMBERS.concat([value()])),
    chance(0.8) ? int(5) : pick(NUMBERS.concat([value()])),
    chance(0.7) ? random() * 2 - 1 : pick(NUMBERS.concat([value()])),
  ),
  schema: () => model().schema(...(chance(0.2) ? [anyArg()] : [])),
  forward: () => model().forward(),
  loss: () => model().loss(),
  backward: () => model().backward(),
  snapshot: () => model().snapshot(...(chance(0.2) ? [anyArg()] : [])),
  run: () => model().run(),
  lossValue: () => model().lossValue(),
  step: () => model().step(chance(0.1) ? reentrant() : options()),
  train: () => model().train(chance(0.1) ? reentrant() : options(), chance(0.7) ? int(4) : pick(NUMBERS.concat([value()]))),
  weight: () => model().weight(chance(0.8) ? pick(WEIGHTS) : value()),
  weightGradient: () => model().weightGradient(chance(0.8) ? pick(WEIGHTS) : value()),
  activation: () => model().activation(chance(0.8) ? pick(ACTIVATIONS) : value()),
  activationGradient: () => model().activationGradient(chance(0.8) ? pick(ACTIVATIONS) : value()),
  heldOutLoss: () => model().heldOutLoss(...(chance(0.2) ? [anyArg()] : [])),
  generate: () => model().generate(prompt(), generateOptions()),
  free: () => {
    // A freed model must answer later calls with an Error, not break the module.
    const m = new core.Model(EXAMPLE);
    m.free();
    pick([() => m.lossValue(), () => m.setState(EXAMPLE), () => m.free(), () => m.weight("wq")])();
  },
};
if (LEAN) for (const name of EXTRA_METHODS) delete METHODS[name];

const TRAP = /unreachable|memory access out of bounds|recursive use of an object|RuntimeError|call stack|capacity overflow|already borrowed/i;

function describe(e) {
  try {
    return `${e?.constructor?.name}: ${String(e?.message ?? e)}`;
  } catch {
    return "(an unprintable value)";
  }
}

/** What a call threw must be an ordinary Error with a message, and no sign of a trap. */
function checkThrown(e, what) {
  assert.ok(!(e instanceof WebAssembly.RuntimeError), `${what} trapped: ${describe(e)}`);
  assert.ok(e instanceof Error, `${what} threw a non-Error: ${describe(e)}`);
  assert.equal(typeof e.message, "string", `${what} threw an Error without a message`);
  assert.ok(e.message.length > 0, `${what} threw an Error with an empty message`);
  assert.ok(!TRAP.test(e.message), `${what} threw a trap's message: ${e.message}`);
}

/** The module (and a model that was never fuzzed) still answer correctly. */
function checkAlive(what) {
  let loss;
  let sentinelLoss;
  try {
    loss = core.loss(EXAMPLE).value;
    sentinelLoss = sentinel.lossValue();
  } catch (e) {
    assert.fail(`after ${what}, the module no longer answers: ${describe(e)}`);
  }
  assert.equal(loss, EXPECTED_LOSS, `after ${what}, loss(example) changed`);
  assert.equal(sentinelLoss, EXPECTED_LOSS, `after ${what}, an untouched Model's loss changed`);
}

test(`the ${NAME} module has exactly the exports it should`, () => {
  for (const name of EXTRAS) assert.equal(typeof core[name], LEAN ? "undefined" : "function", name);
  for (const name of EXTRA_METHODS) assert.equal(typeof core.Model.prototype[name], LEAN ? "undefined" : "function", `Model.${name}`);
  for (const name of Object.keys(EXPORTS)) assert.equal(typeof core[name], "function", name);
});

test(`the ${NAME} module ${LEAN ? "refuses" : "reads"} a training batch (sequences, heldOut, a step's batch)`, () => {
  const refusal = (field) => new RegExp(`^${field} is for training on a batch of sentences, which this module \\(how_llms_learn_lean\\) does not compute: use the full module, how_llms_learn$`);
  const single = { ...clone(), sequences: null, heldOut: null };
  const calls = {
    sequences: [() => new core.Model({ ...single, sequences: [EXAMPLE.tokens, EXAMPLE.tokens] }), () => core.loss({ ...single, sequences: [EXAMPLE.tokens] })],
    heldOut: [() => core.validate({ ...single, heldOut: [] }), () => core.step({ ...single, heldOut: [EXAMPLE.tokens] }, { learningRate: 0.1 })],
    batch: [() => core.step(EXAMPLE, { learningRate: 0.1, batch: { size: 1 } }), () => new core.Model(EXAMPLE).train({ learningRate: 0.1, batch: { size: 1 } }, 1)],
  };
  for (const [field, list] of Object.entries(calls)) {
    for (const call of list) {
      if (LEAN) assert.throws(call, { message: refusal(field) }, field);
      else call();
    }
  }
  // Null is absent, as everywhere in a state: the single sentence is read by both modules.
  assert.equal(core.loss(single).value, EXPECTED_LOSS);
  if (LEAN) assert.throws(() => new core.Model(CORPUS), { message: refusal("sequences") });
  else assert.equal(new core.Model(CORPUS).lossValue(), core.loss(CORPUS).value);
});

test(`every export and Model method survives ${CALLS} adversarial calls (seed ${SEED})`, () => {
  console.log(`fuzz_wasm: seed ${SEED} (replay with FUZZ_SEED=${SEED}), ${CALLS} calls`);
  const exported = Object.keys(core).filter((k) => typeof core[k] === "function" && !["default", "initSync"].includes(k));
  for (const name of exported) assert.ok(name in EXPORTS, `export ${name} is not fuzzed: add it to EXPORTS`);
  const proto = Object.getOwnPropertyNames(core.Model.prototype).filter((k) => k !== "constructor" && !k.startsWith("__"));
  for (const name of proto) assert.ok(name in METHODS, `Model.${name} is not fuzzed: add it to METHODS`);

  const calls = [...Object.entries(EXPORTS).map(([k, f]) => [k, f]), ...Object.entries(METHODS).map(([k, f]) => [`Model.${k}`, f])];
  const counts = Object.fromEntries(calls.map(([k]) => [k, 0]));
  let errors = 0;
  const time = {};
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i += 1) {
    const [name, call] = pick(calls);
    counts[name] += 1;
    const what = `call ${i} (${name}, seed ${SEED})`;
    const started = performance.now();
    try {
      call();
    } catch (e) {
      errors += 1;
      checkThrown(e, what);
    }
    checkAlive(what);
    for (let k = 0; k < models.length; k += 1) if (models[k].freedInside) models[k] = new core.Model(EXAMPLE);
    time[name] = (time[name] ?? 0) + performance.now() - started;
  }
  if (process.env.FUZZ_PROFILE) console.log(time);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`fuzz_wasm: ${CALLS} calls in ${seconds.toFixed(1)} s, ${errors} refused with an Error, the rest answered`);
  for (const [name, n] of Object.entries(counts)) assert.ok(n > 0, `${name} was never called`);
});

test("oversized and deep inputs are refused by name (the time of each refusal is printed, not asserted)", () => {
  const cases = [
    ["a million rows", (s) => { s.weights.position = HUGE_ROWS; }, /^weights\.position has 1000000 entries/],
    ["a row of 10^7 numbers", (s) => { s.weights.wq[0] = HUGE_ROW; }, /^weights\.wq\[0\] has 10000000 entries/],
    ["10,000 levels deep", (s) => { s.weights.wq = deep(10000, false); }, /^weights\.wq has 1 rows, expected 2/],
    ["a = [a, a], 23 levels", (s) => { s.weights.wq = shared(23); }, /^weights\.wq\[0\]\[0\] must be a number, found an array/],
    ["a cycle", (s) => { const a = [1, 2]; a[0] = a; s.weights.wq = [a, a]; }, /^weights\.wq\[0\]\[0\] must be a number, found an array/],
    ["a million vocabulary tokens", (s) => { s.vocab = new Array(1e6).fill("AI"); }, /^vocab has 1000000 tokens; it must have 1 to 512/],
    ["a token of 10^7 characters", (s) => { s.vocab[1] = "x".repeat(1e7); }, /^vocab\[1\] has 10000000 characters; a token may have at most 64/],
    ["a lone surrogate", (s) => { s.vocab[1] = "ro\uD800cks"; }, /^vocab\[1\] has a broken character at position 2 \(U\+D800/],
  ];
  for (const [what, edit, message] of cases) {
    const state = clone();
    edit(state);
    const t0 = performance.now();
    assert.throws(() => core.validate(state), (e) => e instanceof Error && message.test(e.message), what);
    console.log(`refused ${what} in ${(performance.now() - t0).toFixed(1)} ms`);
    checkAlive(what);
  }
  // Two different lone surrogates must not both become U+FFFD and so count as one name.
  const two = clone();
  two.vocab = ["\uD800", "\uD801"];
  assert.throws(() => core.validate(two), /vocab\[0\] has a broken character/);
});

test("step counts are checked, and a Model stays usable after a refused one", () => {
  const m = new core.Model(EXAMPLE);
  for (const steps of [-1, 2 ** 31, 1e12, 2e7, 0.5, NaN, Infinity, "3", null, 2n]) {
    assert.throws(() => m.train({ learningRate: 0.1 }, steps), (e) => e instanceof Error && /^steps /.test(e.message), String(steps));
    assert.equal(m.lossValue(), EXPECTED_LOSS);
  }
  assert.equal(m.train({ learningRate: 0.1 }, 0).losses.length, 0);
  assert.equal(m.train({ learningRate: 0.1 }, 3).losses.length, 3);
  m.free();
});
