// @ts-check
// The worker transport: large states are computed off the main thread by www/js/worker.js (a
// module worker holding the core's Model). This module decides what counts as large and carries
// requests and replies (states as transferred Float64Arrays). client.js is its walkthrough
// caller; the corpus section (corpus/lab.js), the share links (share.js) and the derivation
// dialog send their own requests over the same worker.
import { CoreError } from './core.js';

/** Rough count of the numbers a forward + backward pass produces and the state holds. */
export function workSize(state) {
  const c = state?.config || {};
  const T = state?.tokens?.length || 0;
  const V = state?.vocab?.length || 0;
  const C = c.dModel || 0;
  const F = c.dFf || 0;
  const H = c.nHeads || 1;
  const weights = V * C * 2 + (c.context || 0) * C + 4 * C * C + 2 * C * F;
  const acts = T * (12 * C + 2 * F + 2 * V) + 2 * H * T * T;
  return weights + 2 * acts;
}

/** Above this the page computes in the worker and never parses the state on the main thread. */
export const LARGE_WORK = 40000;
export const isLarge = (state) => workSize(state) > LARGE_WORK;

let worker = null;
let nextId = 1;
const pending = new Map();
const resetListeners = new Set();

/** The worker starts (fetches its script, instantiates the core) within this, or counts as stalled. */
export const WORKER_START_MS = 8000;
/** A request the worker does not answer within this counts as stalled (the worker is restarted). */
export const WORKER_REPLY_MS = 90000;

/**
 * The background worker failed, did not start or did not answer: not a fault of the reader's
 * state, so callers say so (and offer a retry) instead of calling the state invalid.
 */
export class WorkerError extends Error {
  /** `trap`: the core stopped on an internal error; `timedOut`: this request's wait ran out. */
  constructor(message, { trap = false, timedOut = false } = {}) {
    super(message);
    this.name = 'WorkerError';
    this.trap = trap;
    this.timedOut = timedOut;
  }
}

/** `fn()` runs whenever the worker is replaced: the new one holds no model. */
export function onWorkerReset(fn) {
  resetListeners.add(fn);
  return () => resetListeners.delete(fn);
}

// A page may load the widget from another origin (dist/ served with CORS), but a worker script
// must have the page's origin: then a same-origin blob module starts it by importing ours.
function workerUrl() {
  const url = new URL('./worker.js', import.meta.url);
  if (url.origin === location.origin) return url;
  return URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};\n`], { type: 'text/javascript' }));
}

/**
 * Stop the worker and fail every open request with `message` (`timedOut`: request `id` is the
 * one that took too long); the next request starts a new one.
 */
function dropWorker(message, timedOut = null) {
  const w = worker;
  if (!w) return;
  worker = null;
  clearTimeout(w.startTimer);
  try { w.terminate(); } catch { /* already gone */ }
  for (const [id, p] of pending) {
    clearTimeout(p.timer);
    p.reject(new WorkerError(message, { timedOut: id === timedOut }));
  }
  pending.clear();
  for (const fn of resetListeners) fn();
}

function getWorker() {
  if (worker) return worker;
  const w = new Worker(workerUrl(), { type: 'module', name: 'how-llms-learn' });
  worker = w;
  // A worker whose script never arrives, or whose core never starts, would leave every
  // request (and the page's "Loading…") waiting for ever.
  const startTimer = setTimeout(() => {
    if (worker === w) dropWorker(`The page’s background worker did not start within ${WORKER_START_MS / 1000} seconds.`);
  }, WORKER_START_MS);
  w.addEventListener('message', (event) => {
    if (worker !== w) return;
    const { id, ok, result, error, kind, started } = event.data;
    if (started != null) {
      clearTimeout(startTimer);
      if (!started) dropWorker(`The page’s background worker could not start the model core (${error}).`);
      return;
    }
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    clearTimeout(p.timer);
    if (ok) { p.resolve(result); return; }
    // A trap (WebAssembly.RuntimeError) may leave the core's memory in any state: start afresh.
    if (kind === 'RuntimeError') {
      p.reject(new WorkerError(`The model core stopped on an internal error (${error}) and was restarted.`, { trap: true }));
      dropWorker('The model core was restarted after an internal error.');
      return;
    }
    p.reject(Object.assign(new CoreError(error), { kind }));
  });
  w.addEventListener('error', (event) => {
    if (worker === w) dropWorker(`The page’s background worker failed (${event.message || 'its script could not be loaded'}).`);
  });
  return w;
}

// States cross to the worker with every weight as one transferred Float64Array: structured
// cloning a million numbers in nested arrays would hold the main thread for 100 ms or more.
// Anything that is not a rectangular array of finite-or-not numbers travels as it is, so the
// core still sees (and names) whatever is wrong with it.
function packMatrix(m, transfer) {
  if (!Array.isArray(m) || !m.length) return m;
  if (m.every((x) => typeof x === 'number')) {
    const data = Float64Array.from(m);
    transfer.push(data.buffer);
    return { packed: true, data, shape: [m.length] };
  }
  const C = Array.isArray(m[0]) ? m[0].length : -1;
  if (C < 1 || !m.every((row) => Array.isArray(row) && row.length === C && row.every((x) => typeof x === 'number'))) return m;
  const data = new Float64Array(m.length * C);
  for (let r = 0; r < m.length; r += 1) data.set(m[r], r * C);
  transfer.push(data.buffer);
  return { packed: true, data, shape: [m.length, C] };
}

function packWeights(w, transfer) {
  if (!w || typeof w !== 'object' || Array.isArray(w)) return w;
  const out = {};
  for (const [k, m] of Object.entries(w)) out[k] = packMatrix(m, transfer);
  return out;
}

export function packState(state, transfer) {
  if (!state || typeof state !== 'object') return state;
  const out = { ...state, weights: packWeights(state.weights, transfer) };
  if (state.optimizer && typeof state.optimizer === 'object') {
    out.optimizer = { ...state.optimizer, m: packWeights(state.optimizer.m, transfer), v: packWeights(state.optimizer.v, transfer) };
  }
  return out;
}

/** Inverse of packState: nested plain arrays again (`asViews`: rows as Float64Array views). */
export function unpackState(state, asViews = false) {
  const un = (m) => {
    if (!m || !m.packed) return m;
    if (m.shape.length === 1) return asViews ? m.data : Array.from(m.data);
    const [R, C] = m.shape;
    const out = new Array(R);
    for (let r = 0; r < R; r += 1) {
      const row = m.data.subarray(r * C, (r + 1) * C);
      out[r] = asViews ? row : Array.from(row);
    }
    return out;
  };
  const weights = (w) => {
    if (!w || typeof w !== 'object' || Array.isArray(w)) return w;
    const out = {};
    for (const [k, m] of Object.entries(w)) out[k] = un(m);
    return out;
  };
  if (!state || typeof state !== 'object') return state;
  const out = { ...state, weights: weights(state.weights) };
  if (state.optimizer && typeof state.optimizer === 'object') {
    out.optimizer = { ...state.optimizer, m: weights(state.optimizer.m), v: weights(state.optimizer.v) };
  }
  return out;
}

/**
 * Send one request; resolves with the worker's result, rejects with a CoreError (the core's or
 * the link's message, its `kind` the error's name) or a WorkerError (no answer within
 * `timeout` ms, or the worker failed: it is then restarted).
 */
export function request(op, args = {}, { view = true, withState = false, timeout = WORKER_REPLY_MS } = {}) {
  const id = nextId;
  nextId += 1;
  const transfer = [];
  const sent = args.state ? { ...args, state: packState(args.state, transfer) } : args;
  return new Promise((resolve, reject) => {
    const w = getWorker();
    const timer = setTimeout(() => {
      if (pending.has(id)) dropWorker(`The page’s background worker did not answer within ${Math.round(timeout / 1000)} seconds.`, id);
    }, timeout);
    pending.set(id, { resolve, reject, timer });
    w.postMessage({ id, op, args: sent, view, withState }, transfer);
  }).then((result) => {
    if (result.state) result.state = unpackState(result.state);
    if (result.update) result.update = unpackState({ weights: result.update }, true).weights;
    return result;
  });
}
