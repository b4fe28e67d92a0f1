// @ts-check
// Module worker that keeps a large model off the main thread: one Engine (engine.js, the core's
// in-place Model) answering the compute client's requests (client.js, over compute.js). Every
// number it sends back was computed by the core; states and matrices travel as transferred
// Float64Arrays. It also unpacks share links (share.js's decodeState): a link may unpack to tens
// of megabytes, and inflating and parsing them here keeps the page responsive whatever it holds.
import init, * as core from '../pkg/how_llms_learn_lean.js';
import { packState, unpackState } from './compute.js';
import { Engine, isBatchState } from './engine.js';
import { CorpusEngine } from './corpus/engine.js';
import { errorMessage } from './dom.js';
import { decodeState, encodeState, parseStateText } from './share.js';
import { ExtrasError, instantiateFull } from './extras.js';
import { initCore } from './wasm-url.js';

// The lean module, in its relaxed-SIMD build where the browser has it (wasm-url.js).
const ready = initCore(init);
/** The requests only the full module answers: it is fetched for the first of them. */
const EXTRA_OPS = new Set(['derivation', 'forwardExplanation', 'finiteDifference']);
let full = null;
/** The full module, fetched on its first use (a retry after a failed fetch fetches again). */
const fullModule = () => {
  full ??= instantiateFull().catch((err) => { full = null; throw new ExtrasError(err); });
  return full;
};
const engine = new Engine(core);
// The article's last section trains its own model here, apart from the walkthrough's, with the
// full module (fetched on its first request).
const corpus = new CorpusEngine(null);
/** postMessage with transferred buffers (a worker's, which lib.dom types as a window's). */
const post = (message, transfer) => /** @type {any} */ (self).postMessage(message, transfer);
// compute.js waits for this before it trusts the worker (a worker that never says so is stalled).
ready.then(() => self.postMessage({ started: true }), (err) => self.postMessage({ started: false, error: errorMessage(err) }));

/**
 * A link's fragment value (or a file's text) → { state (packed), training }. The core's `validate` runs here too,
 * so whatever the link unpacks to, only a state within the core's limits travels to the page
 * (an invalid one, however big, comes back as one message).
 */
async function unpack({ value, text, what }, transfer) {
  // A link's fragment value, or a file's text (named `what` in messages).
  const { training, ...state } = text != null ? parseStateText(text, what) : await decodeState(value);
  await ready;
  // Only the full module reads a state with a training batch (the lean one refuses it).
  const validator = isBatchState(state) ? await fullModule() : core;
  try {
    validator.validate(state);
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) throw err;
    // A stack overflow while reading it: arrays inside arrays far deeper than any state has.
    const message = err instanceof RangeError ? 'it is nested far deeper than a model state can be' : errorMessage(err);
    throw Object.assign(new Error(message), { name: 'InvalidState' });
  }
  return { state: packState(state, transfer), training: training ?? null };
}

self.addEventListener('message', async (event) => {
  const { id, op, args = {}, view = true, withState = false } = event.data;
  try {
    const transfer = [];
    if (op === 'unpack') {
      const result = await unpack(args, transfer);
      post({ id, ok: true, result }, transfer);
      return;
    }
    if (op === 'encode') {
      // A large model's share link: its JSON alone is tens of megabytes of text to write.
      await ready;
      const state = args.state ? unpackState(args.state) : engine.currentState();
      self.postMessage({ id, ok: true, result: { value: await encodeState(state, args.training) } });
      return;
    }
    await ready;
    if (op.startsWith('corpus:')) {
      // The corpus exports (tokenize, corpusState, generation) are in the full module only.
      corpus.core = await fullModule();
      const result = corpus.handle(op, args);
      if (result.state) result.state = packState(result.state, transfer);
      for (const x of Object.values(result)) if (x instanceof Float64Array) transfer.push(x.buffer);
      post({ id, ok: true, result }, transfer);
      return;
    }
    if (EXTRA_OPS.has(op)) engine.extras = await fullModule();
    if (args.state) args.state = unpackState(args.state);
    if (isBatchState(args.state)) engine.full = await fullModule();
    const result = engine.handle(op, args, { view, withState, transfer });
    if (result.state) result.state = packState(result.state, transfer);
    if (result.update) result.update = packState({ weights: result.update }, transfer).weights;
    post({ id, ok: true, result }, transfer);
  } catch (err) {
    const kind = err instanceof WebAssembly.RuntimeError ? 'RuntimeError' : err?.name;
    self.postMessage({ id, ok: false, error: errorMessage(err), kind });
  }
});
