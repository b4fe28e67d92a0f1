// The compute client's in-thread backend (www/js/client.js) against the real core in Node: its
// replies are settled when the call returns (a small state's edit is adopted in the same task),
// their numbers are the contract's own (`backward`, `step` of the same state, computed
// independently of the Model handle), an edit is made in place only when the Model holds the
// current state, a preview adopts nothing, and a refused state leaves nothing held.
// (The worker backend needs a browser: the e2e suites' large states go through it.)
//
//   node --test tests/client.test.mjs     (needs www/pkg: npm run build)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ComputeClient, settledNow } from '../www/js/client.js';

const mod = await import('../www/pkg/how_llms_learn_lean.js');
await mod.default({ module_or_path: readFileSync(new URL('../www/pkg/how_llms_learn_lean_bg.wasm', import.meta.url)) });
// What the client takes from core.js's loadCore.
const core = { module: mod, validate: mod.validate, resize: mod.resize, articleExample: mod.articleExample };

/** max|a-b| <= 1e-9 max|b| + 1e-14 over two (nested) arrays of numbers. */
function near(a, b, what) {
  const fa = [a].flat(Infinity).map(Number);
  const fb = [b].flat(Infinity).map(Number);
  assert.equal(fa.length, fb.length, `${what}: sizes`);
  const scale = Math.max(...fb.map(Math.abs));
  const err = Math.max(...fa.map((x, i) => Math.abs(x - fb[i])));
  assert.ok(err <= 1e-9 * scale + 1e-14, `${what}: max error ${err} (scale ${scale})`);
}
const rowsOf = (m) => (ArrayBuffer.isView(m) ? Array.from(m) : m.map((r) => (ArrayBuffer.isView(r) ? Array.from(r) : r)));

/** A client over a one-view "store" that adopts every reply, and the engine requests it made. */
function setup() {
  const store = { view: null };
  const client = new ComputeClient({ current: () => store.view });
  client.start(core);
  const ops = [];
  const handle = client.engine.handle.bind(client.engine);
  // `op+state`: a request about the current state that carried it (the Model held another one).
  client.engine.handle = (op, args, ...rest) => {
    ops.push(op !== 'load' && args?.state ? `${op}+state` : op);
    return handle(op, args, ...rest);
  };
  const adopt = { then: (_, view) => { store.view = view; } };
  return { store, client, ops, adopt };
}

/** The view's gradients against the contract's backward() of the same state. */
function sameAsContract(view, what) {
  const b = mod.backward(view.state);
  near(view.loss.value, b.loss, `${what}: loss`);
  for (const name of Object.keys(b.weights)) near(rowsOf(view.backward.weights[name]), b.weights[name], `${what}: ∂L/∂${name}`);
}

test('a small state is computed in the call: settled when it returns, the numbers the contract gives', () => {
  const { store, client, adopt } = setup();
  const p = client.load(mod.articleExample(), { validate: true, ...adopt });
  const now = settledNow(p);
  assert.ok(now && now.ok, 'settled at once');
  assert.equal(store.view, now.value.view, '`then` ran before the call returned');
  assert.equal(store.view.large, undefined);
  sameAsContract(store.view, 'article example');
});

test('an edit is made in place when the Model holds the current state, else the edited state is loaded', () => {
  const { store, client, ops, adopt } = setup();
  client.load(mod.articleExample(), adopt);
  const edit = (value) => (current) => {
    const state = structuredClone(current);
    state.weights.wk[0][0] = value;
    return { state, edit: { name: 'wk', row: 0, col: 0, value } };
  };
  client.edit(edit(0.35), adopt);
  assert.deepEqual(ops, ['load', 'edit']);
  assert.equal(store.view.state.weights.wk[0][0], 0.35);
  sameAsContract(store.view, 'after an edit in place');
  // A view the client did not make (an undo restores an older state object): loaded again.
  store.view = { ...store.view, state: structuredClone(store.view.state) };
  client.edit(edit(-0.5), adopt);
  assert.deepEqual(ops, ['load', 'edit', 'load']);
  sameAsContract(store.view, 'after an edit by loading');
});

test('a preview adopts nothing; a step is the contract step() of the current state', async () => {
  const { store, client, ops, adopt } = setup();
  client.load(mod.articleExample(), adopt);
  const before = store.view;
  const options = { optimizer: 'adam', learningRate: 0.1 };
  const expected = mod.step(before.state, options);
  const preview = await client.preview(options);
  assert.equal(store.view, before, 'the view stays');
  near(preview.lossAfter, expected.lossAfter, 'preview: loss after');
  for (const name of Object.keys(expected.update)) near(rowsOf(preview.update[name]), expected.update[name], `preview: update of ${name}`);
  const p = client.step(options, adopt);
  assert.ok(settledNow(p)?.ok, 'settled at once');
  const { result, view } = await p;
  assert.deepEqual(ops, ['load', 'preview', 'step'], 'neither the preview nor the step reloaded the state');
  assert.equal(store.view, view);
  near(result.lossBefore, expected.lossBefore, 'step: loss before');
  for (const name of Object.keys(expected.state.weights)) near(view.state.weights[name], expected.state.weights[name], `step: ${name}`);
  near(view.loss.value, expected.lossAfter, 'the view after the step has its loss after');
  sameAsContract(view, 'after a step');
});

test('a refused state rejects, is not adopted, and the next request loads the current state again', async () => {
  const { store, client, ops, adopt } = setup();
  client.load(mod.articleExample(), adopt);
  const before = store.view;
  const overflow = (current) => {
    const state = structuredClone(current);
    state.weights.embedding[0][0] = 1e300;
    return { state, edit: { name: 'embedding', row: 0, col: 0, value: 1e300 } };
  };
  const p = client.edit(overflow, adopt);
  const now = settledNow(p);
  assert.ok(now && !now.ok, 'refused at once');
  assert.match(now.error.message, /overflowed/);
  await assert.rejects(p, /overflowed/);
  assert.equal(store.view, before, 'not adopted');
  client.step({ optimizer: 'sgd', learningRate: 0.1 }, adopt);
  assert.deepEqual(ops, ['load', 'edit', 'step+state'], 'the Model held the refused state: the step is sent the current one');
  sameAsContract(store.view, 'the step after a refusal');
});

test('a soft load of a state the core cannot take gives a view of its error', () => {
  const { store, client, adopt } = setup();
  const bad = { ...mod.articleExample(), tokens: ['no such token'] };
  const p = client.load(bad, { soft: true, ...adopt });
  assert.ok(settledNow(p)?.ok);
  assert.equal(store.view.forward, null);
  assert.match(store.view.forwardError, /no such token/);
});
