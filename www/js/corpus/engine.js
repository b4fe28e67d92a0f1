// @ts-check
// The corpus model of the article's last section, kept in the worker (worker.js routes every
// request whose name starts with "corpus:" here): the core's Model trained in chunks, the
// snapshots the timeline shows, and what the page asks of a recorded step (its attention, its
// next-token probabilities, its losses, text it generates). Every number it returns was
// computed by the core; this module only copies weights in and out of snapshots.
import { Snapshots } from './snapshots.js';

/** A schema entry's number of values. */
const countOf = (e) => (e.vector ? e.shape[1] : e.shape[0] * e.shape[1]);

export class CorpusEngine {
  constructor(core) {
    this.core = core;
    this.model = null;
    this.base = null; // the built state (initial weights), the frame every snapshot is put back into
    this.weightsSchema = null; // [{ name, shape, vector }] of the model's weights, in snapshot order
    this.snapshots = null;
    this.step = 0;
  }

  /** Tokenize `text`, build a model sized to fit, record step 0. Throws the core's refusal. */
  build({ text, heldOut, seed }) {
    const core = this.core;
    const tokens = core.tokenize(text, { heldOut });
    const state = core.corpusState(text, { heldOut, seed });
    const model = new core.Model(state);
    this.model?.free();
    this.model = model;
    this.base = state;
    this.weightsSchema = model.schema().weights.map((e) => ({ name: e.name, shape: e.shape, vector: e.vector }));
    this.snapshots = new Snapshots(this.weightsSchema.reduce((n, e) => n + countOf(e), 0));
    this.step = 0;
    this.record();
    const loss = model.loss();
    return {
      vocab: state.vocab,
      eos: state.eos ?? null,
      config: state.config,
      sequences: tokens.sequences,
      heldOut: tokens.heldOut,
      weightCount: this.snapshots.size,
      loss: loss.value,
      heldOutLoss: this.heldOutLoss(),
      ...this.recorded(),
    };
  }

  heldOutLoss() {
    if (!this.base.heldOut?.length) return null;
    return this.model.heldOutLoss();
  }

  /** The weights after the current step, into the snapshots. */
  record() {
    const data = new Float64Array(this.snapshots.size);
    let at = 0;
    for (const e of this.weightsSchema) {
      const w = this.model.weight(e.name);
      data.set(w, at);
      at += w.length;
    }
    this.snapshots.record(this.step, data);
  }

  /** What the timeline needs to know of the snapshots. */
  recorded() {
    const s = this.snapshots;
    return { steps: s.steps(), interval: s.interval, bytes: s.bytes, capacity: s.capacity, snapshotBytes: s.size * 8 };
  }

  /** Back to the built weights (a new run), optimiser memory cleared. */
  restart() {
    this.model.setState(this.base);
    this.step = 0;
    this.snapshots.dropAfter(0);
    return this.recorded();
  }

  /**
   * `steps` more steps with `options` (the optimiser's and `batch: { size, seed }`); the batch
   * drawn at each step is fixed by its step number. Records a snapshot at every step due, and
   * at the last one when `final`. Stops at the first step that leaves non-finite numbers.
   */
  train({ options, steps, final = false }) {
    const losses = [];
    const heldOutLosses = [];
    let stopped = null;
    let left = steps;
    while (left > 0) {
      const interval = this.snapshots.interval;
      const n = Math.min(left, interval - (this.step % interval));
      const batch = options.batch ? { ...options.batch, step: this.step } : undefined;
      const run = this.model.train({ ...options, batch }, n);
      for (const x of run.losses) losses.push(x);
      for (const x of run.heldOutLosses) heldOutLosses.push(x);
      this.step += run.losses.length;
      left -= run.losses.length;
      if (run.stopped) { stopped = run.stopped; break; }
      if (this.snapshots.due(this.step)) this.record();
    }
    if ((final || stopped) && !this.snapshots.get(this.step)) this.record();
    return {
      losses: Float64Array.from(losses),
      heldOutLosses: Float64Array.from(heldOutLosses),
      stopped,
      step: this.step,
      ...this.recorded(),
    };
  }

  /**
   * The state after recorded step `step` (the current weights for null), reading `tokens`;
   * `corpus`: with the training sentences and the held-out one (for the batch loss).
   */
  stateAt(step, tokens = null, corpus = true) {
    // The snapshots keep weights only, so no optimiser memory goes with them.
    const state = { ...this.base, weights: step == null ? this.model.getState().weights : this.weightsAt(step) };
    delete state.optimizer;
    if (!corpus) { delete state.sequences; delete state.heldOut; }
    if (tokens) state.tokens = tokens;
    return state;
  }

  weightsAt(step) {
    const data = this.snapshots.get(step);
    if (!data) throw new Error(`step ${step} was not recorded`);
    const weights = {};
    let at = 0;
    for (const e of this.weightsSchema) {
      if (e.vector) {
        weights[e.name] = Array.from(data.subarray(at, at + e.shape[1]));
        at += e.shape[1];
      } else {
        const [R, C] = e.shape;
        const rows = new Array(R);
        for (let r = 0; r < R; r += 1) rows[r] = Array.from(data.subarray(at + r * C, at + (r + 1) * C));
        weights[e.name] = rows;
        at += R * C;
      }
    }
    return weights;
  }

  /** At recorded step `step`, for `tokens`: each head's attention, the probabilities, the losses. */
  inspect({ step, tokens }) {
    const state = this.stateAt(step, tokens);
    const forward = this.core.forward(state);
    const loss = this.core.loss(state);
    return { step, tokens, attention: forward.attention, probs: forward.probs, loss: loss.value, heldOutLoss: loss.heldOut?.value ?? null };
  }

  /** Text generated from `prompt` by the weights after `step` (null: the current ones). */
  generate({ step, prompt, options }) {
    // The prompt is read by the corpus's own rules (lower case, words and marks), one token list.
    let tokens = [];
    if (prompt.trim()) {
      try {
        tokens = this.core.tokenize(prompt).sequences.flat();
      } catch (err) {
        throw new Error(`the prompt: ${err?.message ?? err}`, { cause: err });
      }
    }
    return this.core.generate(this.stateAt(step, null, false), tokens, options);
  }

  /** The walkthrough's state for recorded step `step`: that sentence alone, no corpus. */
  snapshotState({ step, tokens }) {
    return { state: this.stateAt(step, tokens, false) };
  }

  /** The core's preset corpus: `{ text, heldOut }`. */
  preset() {
    return this.core.presetCorpus();
  }

  handle(op, args) {
    const name = op.slice('corpus:'.length);
    if (!OPS.has(name)) throw new Error(`unknown request ${op}`);
    if (name !== 'build' && name !== 'preset' && !this.model) throw new Error('no corpus model built');
    return this[name](args);
  }
}

const OPS = new Set(['preset', 'build', 'restart', 'train', 'inspect', 'generate', 'snapshotState']);
