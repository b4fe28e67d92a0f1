// @ts-check
// The core's in-place `Model` handle plus the requests the page makes of it: load a state, edit
// one weight, take a step (or preview one), train, resize, explain one gradient entry. client.js
// runs one Engine on the main thread for small states and the worker (worker.js) runs another
// for large ones, behind the same requests, so an edit costs one setWeight + snapshot() instead
// of re-sending and re-parsing the whole state. Results are flat Float64Arrays with their shapes
// (view.js turns them into rows); every number in them was computed by the core.

/**
 * Whether `state` has a training batch (`sequences` or `heldOut`): only the full module computes
 * those (the lean one refuses them, docs/API.md), so such a state goes to the full module's
 * functions and Model.
 */
export const isBatchState = (state) => state != null && typeof state === 'object'
  && (state.sequences != null || state.heldOut != null);

/** A schema entry's shape as the flat arrays carry it: a vector has one dimension. */
const shapeOf = (e) => (e.vector ? [e.shape[1]] : e.shape);

export class Engine {
  /** `core`: the wasm package's module (its `Model` class and contract functions). */
  constructor(core) {
    this.core = core;
    // The full module's exports (extras.js), set by the worker before a derivation, a forward
    // explanation or a finite difference: the lean `core` has none of them.
    this.extras = null;
    // The full module's raw exports, which batch states need (isBatchState): set by the worker
    // or the store before they hand the engine one.
    this.full = null;
    this.modelCore = core; // the module `model` belongs to
    this.model = null;
    this.schema = null; // the core's schema of the state in `model`
    this.stateCache = null; // the state as a plain object, or null when the model moved on
  }

  /** After the model took `state`: its schema (the core's registry: names, shapes, presence). */
  remember(state) {
    this.schema = this.model.schema();
    this.stateCache = state;
  }

  /**
   * The caller's copy of the state the model holds (client.js keeps track of which state that
   * is), so a step need not read the whole state back out of the core.
   */
  know(state) {
    this.stateCache = state;
  }

  currentState() {
    if (!this.stateCache) this.stateCache = this.model.getState();
    return this.stateCache;
  }

  /**
   * Forward, loss and backward of the model's state, as flat arrays plus shapes: one call of the
   * core's `Model.snapshot()`, whose one buffer holds every matrix in the schema's order (every
   * activation, then ∂L/∂ every weight, then ∂L/∂ every activation); the parts here are views
   * into it. `transfer` (optional) collects the buffer for postMessage.
   */
  snapshot(transfer = null) {
    const snap = this.model.snapshot();
    if (transfer) transfer.push(snap.data.buffer);
    const out = {
      schema: this.schema, targets: snap.targets,
      forward: null, forwardError: snap.forwardError, loss: snap.loss, lossError: snap.lossError,
      backward: null, backwardError: snap.backwardError,
    };
    let at = 0;
    const take = (e) => {
      const shape = shapeOf(e);
      const n = e.shape.reduce((a, b) => a * b, 1);
      if (at + n > snap.data.length) throw new Error(`the core's snapshot ends before ${e.name}`);
      const part = { data: snap.data.subarray(at, at + n), shape };
      at += n;
      return part;
    };
    const parts = (entries) => Object.fromEntries(entries.map((e) => [e.name, take(e)]));
    if (out.forwardError) return out;
    out.forward = parts(this.schema.activations);
    if (!out.loss || out.backwardError) return out;
    const weights = parts(this.schema.weights);
    const activations = parts(this.schema.activations);
    if (at !== snap.data.length) throw new Error(`the core's snapshot holds ${snap.data.length - at} numbers more than its schema`);
    out.backward = { loss: out.loss.value, weights, activations };
    return out;
  }

  /**
   * Let go of the model without touching the core: after a trap its memory cannot be trusted,
   * and the wrapper's finalizer would otherwise free the handle in it later (and trap again).
   */
  abandon() {
    try { this.model?.__destroy_into_raw?.(); } catch { /* nothing more to let go of */ }
    this.model = null;
    this.stateCache = null;
  }

  /** The module that computes `state`: the full one for a training batch. */
  coreFor(state) {
    if (!isBatchState(state)) return this.core;
    if (!this.full) throw new Error('the part of the model core that trains on a batch of sentences is not loaded');
    return this.full;
  }

  /** Adopt a whole state (validated by the core). */
  load({ state }) {
    const core = this.coreFor(state);
    const next = new core.Model(state);
    this.model?.free();
    this.model = next;
    this.modelCore = core;
    this.remember(state);
  }

  /**
   * One weight entry, changed in place. Whether the result can be adopted (a finite forward
   * pass; a loss and gradients when a position has a target) is for the caller to judge from
   * the snapshot's errors: a state without a target is still a state the reader may edit.
   */
  edit({ name, row, col, value }) {
    this.model.setWeight(name, row, col, value);
    this.stateCache = null;
  }

  /**
   * One step through the contract's step(), so the update shown is the core's own. `state`:
   * the state to step from, when the model holds another one (it is loaded first).
   */
  step({ options, state }) {
    if (state) this.load({ state });
    const result = this.modelCore.step(this.currentState(), options);
    this.model.setState(result.state);
    this.stateCache = result.state; // a step changes numbers, never names or shapes: same schema
    return { lossBefore: result.lossBefore, lossAfter: result.lossAfter, update: result.update || {}, state: result.state };
  }

  /** The step `step` would take, computed and left unadopted: the model keeps its state. */
  preview({ options, state }) {
    if (state) this.load({ state });
    const result = this.modelCore.step(this.currentState(), options);
    return { lossBefore: result.lossBefore, lossAfter: result.lossAfter, update: result.update || {} };
  }

  /** Up to `steps` steps in place; stops at the first non-finite step (state = last good one). */
  train({ options, steps, state }) {
    if (state) this.load({ state });
    const run = this.model.train(options, steps);
    this.stateCache = null;
    return { losses: Array.from(run.losses), stopped: run.stopped };
  }

  /** The core's resize (vocabulary or sizes) of `state`, or of the model's own state. */
  resize({ change, state }) {
    const base = state || this.currentState();
    const next = this.coreFor(base).resize(base, change);
    if (this.model && this.coreFor(next) === this.modelCore) {
      this.model.setState(next);
      this.remember(next);
    } else {
      this.load({ state: next });
    }
    return { state: next };
  }

  state() {
    return { state: this.currentState() };
  }

  derivation({ cell }) {
    return { result: this.extras.derivation(this.currentState(), cell) };
  }

  forwardExplanation({ cell }) {
    return { result: this.extras.forwardExplanation(this.currentState(), cell) };
  }

  finiteDifference({ cell }) {
    return { result: this.extras.finiteDifference(this.currentState(), cell) };
  }

  /**
   * Run request `op`; returns its result, with `view` (a snapshot) unless `view` is false and
   * `state` when asked for. Throws the core's error; the model is then as before the request
   * (edits are put back, steps and loads leave it unchanged).
   */
  handle(op, args = {}, { view = true, withState = false, transfer = null } = {}) {
    if (!OPS.has(op)) throw new Error(`unknown request ${op}`);
    if (op !== 'load' && !this.model && !args.state) throw new Error('no model loaded');
    const result = this[op](args) || {};
    if (withState && !result.state) result.state = this.currentState();
    if (view) result.view = this.snapshot(transfer);
    return result;
  }
}

const OPS = new Set(['load', 'edit', 'step', 'preview', 'train', 'resize', 'state', 'derivation', 'forwardExplanation', 'finiteDifference']);
