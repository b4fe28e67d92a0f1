// The corpus section's worker side (www/js/corpus/engine.js, snapshots.js) against the real
// core in Node: the snapshots keep to their budget however long a run, stay evenly spread and
// keep step 0 and the last step; a snapshot put back into a state gives exactly the weights the
// model had at that step; training in chunks gives exactly the losses of one uninterrupted run.
//
//   node --test tests/corpus_engine.test.mjs     (needs www/pkg: npm run build)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Snapshots, SNAPSHOT_BUDGET_BYTES, MAX_SNAPSHOTS } from '../www/js/corpus/snapshots.js';
import { CorpusEngine } from '../www/js/corpus/engine.js';

const core = await import('../www/pkg/how_llms_learn.js');
await core.default({ module_or_path: readFileSync(new URL('../www/pkg/how_llms_learn_bg.wasm', import.meta.url)) });

test('snapshots keep to the budget, evenly spread, with step 0 and the last', () => {
  for (const size of [100, 3000, 400000]) {
    const s = new Snapshots(size);
    for (let step = 0; step <= 50000; step += 1) if (s.due(step)) s.record(step, new Float64Array(size));
    s.record(50003, new Float64Array(size)); // a run's last step, off the grid
    const steps = s.steps();
    assert.ok(s.bytes <= Math.max(SNAPSHOT_BUDGET_BYTES, 2 * size * 8), `${size}: ${s.bytes} bytes`);
    assert.ok(steps.length <= MAX_SNAPSHOTS, `${size}: ${steps.length} snapshots`);
    assert.equal(steps[0], 0);
    assert.equal(steps[steps.length - 1], 50003);
    const grid = steps.slice(0, -1);
    for (let i = 1; i < grid.length; i += 1) assert.equal(grid[i] - grid[i - 1], s.interval, `${size}: evenly spread`);
    assert.ok(grid.length >= Math.min(MAX_SNAPSHOTS, s.capacity) / 2 - 1, `${size}: thinning keeps at least half: ${grid.length}`);
  }
});

test('a snapshot gives back exactly the weights of its step; chunks train as one run', () => {
  const { text, heldOut } = core.presetCorpus();
  const options = { optimizer: 'adam', learningRate: 0.001, batch: { size: 4, seed: 7 } };
  const engine = new CorpusEngine(core);
  const built = engine.build({ text, heldOut, seed: 1 });
  assert.equal(built.sequences.length, 12);
  const losses = [];
  for (const n of [1, 9, 37, 153, 300]) losses.push(...engine.train({ options, steps: n, final: n === 300 }).losses);
  assert.equal(engine.step, 500);
  // One uninterrupted run of the core from the same state draws the same mini-batches.
  const whole = new core.Model(core.corpusState(text, { heldOut, seed: 1 }));
  const run = whole.train({ ...options, batch: { ...options.batch, step: 0 } }, 500);
  assert.deepEqual(losses, Array.from(run.losses));
  assert.deepEqual(engine.stateAt(null).weights, whole.getState().weights);
  assert.deepEqual(engine.stateAt(500).weights, whole.getState().weights, 'the last step’s snapshot');
  assert.deepEqual(engine.stateAt(0).weights, core.corpusState(text, { heldOut, seed: 1 }).weights, 'step 0’s snapshot');
  const { steps } = engine.recorded();
  assert.deepEqual(steps.slice(0, 3), [0, 10, 20]);
  // A recorded step's losses are the core's loss of that snapshot's state.
  const at = engine.inspect({ step: 250, tokens: built.sequences[1] });
  const direct = core.loss(engine.stateAt(250));
  assert.equal(at.loss, direct.value);
  assert.equal(at.heldOutLoss, direct.heldOut.value);
  assert.equal(at.attention.length, 2);
  // The walkthrough's state is that sentence alone, valid for the core.
  const { state } = engine.snapshotState({ step: 250, tokens: built.sequences[1] });
  assert.equal(state.sequences, undefined);
  assert.deepEqual(core.validate(state).tokens, built.sequences[1]);
});
