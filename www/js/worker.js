// Module worker that keeps a large model off the main thread. It holds one wasm `Model`
// (the core's in-place handle) and answers requests from compute.js: load a state, edit one
// weight, take a step, train for a few steps, explain one gradient entry. Every number it
// sends back was computed by the core; matrices travel as transferred Float64Arrays.
import init, * as core from '../pkg/how_llms_learn.js';
import { packState, unpackState } from './compute.js';

const ready = init({ module_or_path: new URL('../pkg/how_llms_learn_bg.wasm', import.meta.url) });

let model = null;
let config = null; // config, T and V of the state in `model`
let stateCache = null; // the state as a plain object, or null when the model moved on

const FORWARD = ['x', 'attnIn', 'q', 'k', 'v', 'scores', 'attention', 'z', 'attnOut', 'x1',
  'mlpIn', 'u', 'hidden', 'mlpOut', 'x2', 'xf', 'logits', 'probs'];
const WEIGHTS = ['embedding', 'position', 'wq', 'wk', 'wv', 'wo', 'w1', 'b1', 'w2', 'b2',
  'ln1Gain', 'ln1Bias', 'ln2Gain', 'ln2Bias', 'lnfGain', 'lnfBias', 'unembedding'];
const VECTORS = new Set(['b1', 'b2', 'ln1Gain', 'ln1Bias', 'ln2Gain', 'ln2Bias', 'lnfGain', 'lnfBias']);

const message = (err) => (err && typeof err.message === 'string' ? err.message : String(err));

function remember(state) {
  config = { ...state.config, T: state.tokens.length, V: state.vocab.length };
  stateCache = state;
}

function currentState() {
  if (!stateCache) stateCache = model.getState();
  return stateCache;
}

function activationShape(name) {
  const { T, V, dModel: C, nHeads: H, dFf: F } = config;
  if (name === 'scores' || name === 'attention') return [H, T, T];
  if (name === 'u' || name === 'hidden') return [T, F];
  if (name === 'logits' || name === 'probs') return [T, V];
  return [T, C];
}

function weightShape(name) {
  const { V, dModel: C, dFf: F, context } = config;
  switch (name) {
    case 'embedding': return [V, C];
    case 'position': return [context, C];
    case 'w1': return [C, F];
    case 'w2': return [F, C];
    case 'b1': return [F];
    case 'unembedding': return [C, V];
    default: return VECTORS.has(name) ? [C] : [C, C];
  }
}

function present(name) {
  const ff = config.dFf > 0;
  const ln = Boolean(config.layerNorm);
  if (['mlpIn', 'u', 'hidden', 'mlpOut', 'w1', 'b1', 'w2', 'b2'].includes(name)) return ff;
  if (name.startsWith('ln1') || name.startsWith('lnf')) return ln;
  if (name.startsWith('ln2')) return ln && ff;
  return true;
}

/** Forward, loss and backward of the model's state, as flat arrays plus shapes. */
function snapshot(transfer) {
  const out = { forward: null, forwardError: null, loss: null, lossError: null, backward: null, backwardError: null };
  const pack = (data, shape) => { transfer.push(data.buffer); return { data, shape }; };
  try {
    const forward = {};
    for (const name of FORWARD) if (present(name)) forward[name] = pack(model.activation(name), activationShape(name));
    out.forward = forward;
  } catch (err) { out.forwardError = message(err); }
  if (!out.forward) { out.lossError = out.forwardError; out.backwardError = out.forwardError; return out; }
  try { out.loss = model.loss(); } catch (err) { out.lossError = message(err); }
  if (!out.loss) { out.backwardError = out.lossError; return out; }
  try {
    const weights = {};
    const activations = {};
    for (const name of WEIGHTS) if (present(name)) weights[name] = pack(model.weightGradient(name), weightShape(name));
    for (const name of FORWARD) if (present(name)) activations[name] = pack(model.activationGradient(name), activationShape(name));
    out.backward = { loss: out.loss.value, weights, activations };
  } catch (err) { out.backwardError = message(err); }
  return out;
}

const ops = {
  /** Adopt a whole state (validated by the core). */
  load({ state }) {
    const next = new core.Model(state);
    model?.free();
    model = next;
    remember(state);
  },
  /** One weight entry; refused (and put back) when the result is not finite. */
  edit({ name, row, col, value, previous }) {
    model.setWeight(name, row, col, value);
    try {
      model.run(); // forward, loss and backward in place (no JSON built; snapshot() copies out)
    } catch (err) {
      model.setWeight(name, row, col, previous);
      throw err;
    }
    if (stateCache) stateCache = null;
  },
  /** One step through the contract's step(), so the update shown is the core's own. */
  step({ options }) {
    const result = core.step(currentState(), options);
    model.setState(result.state);
    remember(result.state);
    const update = {};
    for (const [name, m] of Object.entries(result.update || {})) update[name] = m;
    return { lossBefore: result.lossBefore, lossAfter: result.lossAfter, update, state: result.state };
  },
  /** Up to `steps` steps in place; stops at the first non-finite step (state = last good one). */
  train({ options, steps }) {
    const run = model.train(options, steps);
    stateCache = null;
    return { losses: Array.from(run.losses), stopped: run.stopped };
  },
  /** The core's resize (vocabulary or sizes) of `state`, or of the model's own state. */
  resize({ change, state }) {
    const next = core.resize(state || currentState(), change);
    model.setState(next);
    remember(next);
    return { state: next };
  },
  state() {
    return { state: currentState() };
  },
  derivation({ cell }) {
    return { result: core.derivation(currentState(), cell) };
  },
  finiteDifference({ cell }) {
    return { result: core.finiteDifference(currentState(), cell) };
  },
};

self.addEventListener('message', async (event) => {
  const { id, op, args = {}, view = true, withState = false } = event.data;
  try {
    await ready;
    if (!ops[op]) throw new Error(`unknown request ${op}`);
    if (op !== 'load' && !model) throw new Error('no model loaded');
    if (args.state) args.state = unpackState(args.state);
    const result = ops[op](args) || {};
    const transfer = [];
    if (withState && !result.state) result.state = currentState();
    if (result.state) result.state = packState(result.state, transfer);
    if (result.update) result.update = packState({ weights: result.update }, transfer).weights;
    if (view) result.view = snapshot(transfer);
    self.postMessage({ id, ok: true, result }, transfer);
  } catch (err) {
    self.postMessage({ id, ok: false, error: message(err) });
  }
});
