// www/js/history.js: undo/redo over states, with coalescing of quick repeated edits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { History } from '../www/js/history.js';

test('undo and redo walk back and forth through recorded states', () => {
  const h = new History();
  h.record('a', null, false, 0); // a → b
  h.record('b', null, false, 10); // b → c
  assert.equal(h.undo('c'), 'b');
  assert.equal(h.undo('b'), 'a');
  assert.equal(h.undo('a'), null);
  assert.equal(h.redo('a'), 'b');
  assert.equal(h.redo('b'), 'c');
  assert.equal(h.redo('c'), null);
  assert.deepEqual(h.states(), ['a', 'b']);
});

test('a new edit after Undo forgets what could be redone', () => {
  const h = new History();
  h.record('a', null, false, 0);
  assert.equal(h.undo('b'), 'a');
  assert.ok(h.canRedo);
  h.record('a', null, false, 5);
  assert.ok(!h.canRedo);
});

test('edits with one key within the window share an entry; a pause or another key starts one', () => {
  const h = new History({ coalesceMs: 100 });
  h.record('s0', 'drag', false, 0);
  h.record('s1', 'drag', false, 50); // merged: Undo goes back to s0
  h.record('s2', 'drag', false, 140); // 90 ms after the last: still merged (the window slides)
  h.record('s3', 'drag', false, 300); // a pause: a new entry
  h.record('s4', 'type', false, 310); // another key: a new entry
  assert.deepEqual(h.states(), ['s0', 's3', 's4']);
  h.record('s5', 'type', true, 10_000); // sticky: a gesture still going on merges after any pause
  assert.deepEqual(h.states(), ['s0', 's3', 's4']);
  h.record('s6', null, false, 10_001); // no key: never merged
  h.record('s7', null, false, 10_002);
  assert.deepEqual(h.states(), ['s0', 's3', 's4', 's6', 's7']);
});

test('the oldest states are dropped beyond the limit; restore keeps the newest', () => {
  const h = new History({ limit: 3 });
  for (let i = 0; i < 5; i += 1) h.record(i, null, false, i);
  assert.deepEqual(h.states(), [2, 3, 4]);
  h.restore(['p', 'q', 'r', 's']);
  assert.deepEqual(h.states(), ['q', 'r', 's']);
  assert.ok(!h.canRedo);
});
