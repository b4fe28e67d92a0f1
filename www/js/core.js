// @ts-check
// Loads the Rust/WebAssembly core and wraps its exports. Every number the page
// shows comes from these functions; JavaScript never redoes the maths.
import { errorMessage } from './dom.js';

const WASM = new URL('../pkg/how_llms_learn_bg.wasm', import.meta.url);

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

function wrap(fn, name) {
  if (typeof fn !== 'function') {
    return () => { throw new CoreError(`The model core has no function “${name}”.`); };
  }
  return (...args) => {
    try {
      return plain(fn(...args));
    } catch (err) {
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

/** Resolve to { articleExample, forward, loss, backward, step, derivation, finiteDifference, resize, validate, module }. */
export function loadCore() {
  if (!corePromise) {
    corePromise = (async () => {
      if (!hasWasmSimd()) throw new UnsupportedBrowser();
      // A literal specifier, so that the build's bundler (.ci/bundle.mjs) takes the wasm-bindgen
      // wrapper into the page's bundle; unbundled, it is fetched from www/pkg like the wasm.
      const mod = await import('../pkg/how_llms_learn.js');
      await mod.default({ module_or_path: WASM });
      const names = ['articleExample', 'forward', 'loss', 'backward', 'step', 'derivation',
        'finiteDifference', 'resize', 'validate', 'exportJax', 'exportPytorch'];
      const core = {};
      for (const name of names) core[name] = wrap(mod[name], name);
      // The module itself, unwrapped, for the in-place Model handle (engine.js).
      core.module = mod;
      return Object.freeze(core);
    })();
  }
  return corePromise;
}
