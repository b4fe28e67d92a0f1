// Module worker that keeps a large model off the main thread: one Engine (engine.js, the core's
// in-place Model) answering requests from compute.js. Every number it sends back was computed by
// the core; states and matrices travel as transferred Float64Arrays.
import init, * as core from '../pkg/how_llms_learn.js';
import { packState, unpackState } from './compute.js';
import { Engine } from './engine.js';
import { errorMessage } from './dom.js';

const ready = init({ module_or_path: new URL('../pkg/how_llms_learn_bg.wasm', import.meta.url) });
const engine = new Engine(core);

self.addEventListener('message', async (event) => {
  const { id, op, args = {}, view = true, withState = false } = event.data;
  try {
    await ready;
    if (args.state) args.state = unpackState(args.state);
    const transfer = [];
    const result = engine.handle(op, args, { view, withState, transfer });
    if (result.state) result.state = packState(result.state, transfer);
    if (result.update) result.update = packState({ weights: result.update }, transfer).weights;
    self.postMessage({ id, ok: true, result }, transfer);
  } catch (err) {
    self.postMessage({ id, ok: false, error: errorMessage(err) });
  }
});
