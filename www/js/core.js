// @ts-check
// Loads the Rust/WebAssembly core and wraps its exports. Every number the page
// shows comes from these functions; JavaScript never redoes the maths.
import { errorMessage } from './dom.js';
import { ExtrasError, instantiateFull } from './extras.js';
import { isBatchState } from './engine.js';
// The lean module (what the first screen needs; the rest comes with the full one, loadExtras), in
// its relaxed-SIMD build where the browser has relaxed SIMD.
import { initCore } from './wasm-url.js';

let corePromise = null;

/** Error raised by the core; the message names the field and what was expected. */
export class CoreError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CoreError';
  }
}

// serde-wasm-bindgen may hand back Maps for JSON objects: turn them into plain objects.
function plain(value) {
  if (value instanceof Map) {
    const out = {};
    for (const [k, v] of value) out[k] = plain(v);
    return out;
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object' && !(ArrayBuffer.isView(value))) {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  if (ArrayBuffer.isView(value)) return Array.from(/** @type {Float64Array} */ (value));
  return value;
}

// The module in use. A trap (WebAssembly.RuntimeError: a stack overflow, an out-of-bounds
// access) may leave the instance's memory in any state, so after one the core is loaded afresh
// (a new copy of the wasm-bindgen wrapper around the already compiled module) and every call
// waits for it; the reader's state lives in JavaScript and is not lost.
let current = null;
let restarting = null; // a promise while the core is being loaded afresh
let generation = 0;
const restartListeners = new Set();

/** Whether an error is a WebAssembly trap rather than the core's own message. */
export const isTrap = (err) => err instanceof WebAssembly.RuntimeError;

/** After a trap: load the core afresh (once, however many calls trapped). Resolves when done. */
export function restartCore() {
  if (!restarting) {
    restarting = (async () => {
      generation += 1;
      // A URL the bundler leaves alone: a second copy of the wrapper, with its own instance
      // (the browser has the .wasm in its cache).
      const url = new URL(`../pkg/how_llms_learn_lean.js?instance=${generation}`, import.meta.url).href;
      const mod = await import(url);
      await initCore(mod.default);
      current = mod;
      restarting = null;
      for (const fn of restartListeners) fn();
    })();
    restarting.catch(() => { restarting = null; });
  }
  return restarting;
}

/** `fn()` after the core was loaded afresh (the module's Model handles from before are gone). */
export function onCoreRestart(fn) {
  restartListeners.add(fn);
  return () => restartListeners.delete(fn);
}

/** Resolves when the core can be called (at once, unless it is being loaded afresh). */
export const coreReady = () => restarting || Promise.resolve();

function wrap(name, module = () => current, onTrap = restartCore) {
  return (...args) => {
    if (restarting && onTrap === restartCore) throw new CoreError('The model core is restarting after an internal error; try again in a moment.');
    const fn = module()[name];
    if (typeof fn !== 'function') throw new CoreError(`The model core has no function “${name}”.`);
    try {
      return plain(fn(...args));
    } catch (err) {
      if (isTrap(err)) {
        onTrap();
        throw new CoreError(`The model core stopped on an internal error (${errorMessage(err)}) and is being restarted`);
      }
      throw new CoreError(errorMessage(err));
    }
  };
}

// The core is compiled with WebAssembly SIMD (simd128, see .cargo/config.toml). A browser
// without it cannot compile the module at all; this smallest module using a SIMD instruction
// tells beforehand, so the reader gets a sentence instead of a compile error.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** Whether this browser runs WebAssembly SIMD. */
function hasWasmSimd() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** The core cannot run in this browser (not a fault of the page or of the reader's input). */
export class UnsupportedBrowser extends Error {
  constructor() {
    super('This browser cannot run the model: it lacks WebAssembly SIMD, which Chrome and Edge 91, '
      + 'Firefox 89, Safari 16.4 and every later version have. Please open the page in a current browser.');
    this.name = 'UnsupportedBrowser';
  }
}

/** Resolve to { articleExample, forward, loss, backward, step, schema, resize, validate, module }. */
export function loadCore() {
  if (!corePromise) {
    corePromise = (async () => {
      if (!hasWasmSimd()) throw new UnsupportedBrowser();
      // A literal specifier, so that the build's bundler (.ci/bundle.mjs) takes the wasm-bindgen
      // wrapper into the page's bundle; unbundled, it is fetched from www/pkg like the wasm.
      const mod = await import('../pkg/how_llms_learn_lean.js');
      await initCore(mod.default);
      current = mod;
      const names = ['articleExample', 'forward', 'loss', 'backward', 'step', 'resize', 'validate', 'schema'];
      const core = {};
      // A state with a training batch is computed by the full module (the lean one refuses it):
      // the compute client (client.js) loads that first (loadFull) before it hands one over.
      for (const name of names) {
        const lean = wrap(name);
        const full = wrap(name, () => extras?.mod, () => extras?.drop());
        core[name] = (...args) => {
          if (!isBatchState(args[0])) return lean(...args);
          if (!extras?.mod) throw new CoreError('The part of the model core that trains on a batch of sentences is not loaded yet; try again in a moment.');
          return full(...args);
        };
      }
      // The module itself, unwrapped, for the in-place Model handle (engine.js): the current
      // one, which changes after a restart.
      Object.defineProperty(core, 'module', { get: () => current, enumerable: true });
      return Object.freeze(core);
    })();
  }
  return corePromise;
}

/** What only the full module has; loadExtras wraps these. */
export const EXTRAS = ['derivation', 'forwardExplanation', 'finiteDifference', 'exportJax', 'exportPytorch'];

let extras = null; // { promise, core, mod, drop } of the full module, once asked for
let extrasGeneration = 0;

/**
 * Resolve to the full module's { derivation, forwardExplanation, finiteDifference, exportJax,
 * exportPytorch }, wrapped like loadCore's (the core's messages as CoreError). Fetched on the
 * first call; a failed fetch rejects with ExtrasError and the next call tries again, and a trap
 * drops the instance so that the next call starts a fresh one.
 */
export function loadExtras() {
  if (!extras) {
    const entry = { promise: null, core: null, mod: null, drop: null };
    let mod = null;
    const drop = () => { if (extras === entry) extras = null; };
    entry.drop = drop;
    entry.promise = (async () => {
      extrasGeneration += 1;
      try {
        mod = await instantiateFull(extrasGeneration);
      } catch (err) {
        drop();
        throw new ExtrasError(err);
      }
      const core = {};
      for (const name of EXTRAS) core[name] = wrap(name, () => mod, drop);
      entry.core = Object.freeze(core);
      entry.mod = mod;
      return entry.core;
    })();
    extras = entry;
  }
  return extras.promise;
}

/** The full module's wrapped exports when already loaded (loadExtras resolved), else null. */
export const loadedExtras = () => extras?.core ?? null;

/** Resolve to the full module itself (raw exports, for its Model), loading it like loadExtras. */
export async function loadFull() {
  await loadExtras();
  return /** @type {any} */ (extras?.mod);
}

/** The full module itself when already loaded, else null. */
export const loadedFull = () => extras?.mod ?? null;
