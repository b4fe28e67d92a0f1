// @ts-check
// The main thread's side of the article's last section: what the reader built and trained, and
// the requests that ask the worker (compute.js → worker.js → corpus/engine.js) for it. Holds no
// model and computes nothing: the losses it keeps are the core's, as the worker sent them. The
// section's elements (editor, training, timeline, generation) subscribe to one Lab.
import { request, onWorkerReset, WorkerError } from '../compute.js';
import { errorMessage } from '../dom.js';
import { corpusError } from './messages.js';

/** A training request should take about this long in the worker: Pause answers within it. */
const CHUNK_MS = 60;
const FIRST_CHUNK = 10;
const MAX_CHUNK = 1000;
/** While training, the section repaints at most this often (ms). */
const NOTIFY_MS = 100;
/** The seed of the initial weights (fixed, so one corpus always starts from the same model). */
export const WEIGHT_SEED = 1;

export class Lab {
  constructor() {
    /** 'idle' | 'building' | 'ready' | 'training' | 'paused' | 'done' | 'lost' */
    this.status = 'idle';
    this.built = null; // the worker's answer to the last good build
    this.builtText = null; // { text, heldOut } it was built from
    this.error = null; // { text, field } for the last refused build, shown next to its field
    this.run = null; // { total, done, options, losses, heldOutLosses, stopped }
    this.recorded = null; // { steps, interval, bytes, capacity, snapshotBytes }
    this.notice = null; // a message about the whole section (a worker that failed)
    this.pausing = false; // Pause was pressed; the run stops when its request comes back
    this.listeners = new Set();
    this.pending = false; // a repaint is scheduled
    this.notified = -Infinity; // when the last one ran
    this.version = 0;
    this.runId = 0;
    onWorkerReset(() => {
      if (!this.built) return;
      this.runId += 1;
      this.pausing = false;
      this.status = 'lost';
      this.notice = 'The page’s background worker was restarted, so the trained model is gone (its curve stays). Build the model again to go on.';
      this.changed();
    });
  }

  subscribe(fn) {
    this.listeners.add(fn);
    fn(this);
    return () => this.listeners.delete(fn);
  }

  /**
   * Repaint once per frame, however many chunks arrived, and while training at most every
   * NOTIFY_MS: each repaint of the curve costs the page a paint, and ten a second look smooth.
   */
  changed() {
    this.version += 1;
    if (this.pending) return;
    this.pending = true;
    const frame = () => requestAnimationFrame(() => {
      this.pending = false;
      this.notified = performance.now();
      for (const fn of this.listeners) {
        try { fn(this); } catch (err) { console.error(err); }
      }
    });
    const wait = this.status === 'training' ? this.notified + NOTIFY_MS - performance.now() : 0;
    if (wait > 0) setTimeout(frame, wait); else frame();
  }

  get busy() {
    return this.status === 'building' || this.status === 'training';
  }

  /**
   * Tokenize and build in the worker. A refusal is kept in `error` (in the reader's words) and
   * the last good model stays as it was, curve and snapshots included.
   */
  async build(text, heldOut) {
    if (this.busy) return false;
    const before = this.status;
    this.status = 'building';
    this.error = null;
    this.changed();
    this.runId += 1;
    try {
      const built = await request('corpus:build', { text, heldOut, seed: WEIGHT_SEED }, { view: false });
      this.built = built;
      this.builtText = { text, heldOut };
      this.recorded = pick(built);
      this.run = null;
      this.notice = null;
      this.status = 'ready';
      this.changed();
      return true;
    } catch (err) {
      this.error = err instanceof WorkerError ? { text: err.message, field: null } : corpusError(errorMessage(err));
      this.status = before;
      this.changed();
      return false;
    }
  }

  /** A new run of `total` steps from the built weights. */
  async train(options, total) {
    if (!this.built || this.busy || this.status === 'lost') return;
    try {
      this.recorded = pick(await request('corpus:restart', {}, { view: false }));
    } catch (err) {
      this.notice = `Training could not start: ${errorMessage(err)}`;
      this.changed();
      return;
    }
    const losses = new Float64Array(total + 1).fill(NaN);
    const heldOutLosses = new Float64Array(total + 1).fill(NaN);
    losses[0] = this.built.loss;
    heldOutLosses[0] = this.built.heldOutLoss ?? NaN;
    this.run = { total, done: 0, options, losses, heldOutLosses, stopped: null, chunk: FIRST_CHUNK };
    await this.resume();
  }

  /**
   * Stop after the request on its way (at most a chunk of about CHUNK_MS): the worker takes
   * those steps anyway, so the run shows them before it counts as paused.
   */
  pause() {
    if (this.status !== 'training') return;
    this.pausing = true;
    this.changed();
  }

  /** Go on with the current run (after Pause), one worker request after another. */
  async resume() {
    const run = this.run;
    if (!run || this.busy || this.status === 'lost' || run.done >= run.total) return;
    const id = ++this.runId;
    this.status = 'training';
    this.changed();
    try {
      while (id === this.runId && !this.pausing && run.done < run.total) {
        const steps = Math.min(run.chunk, run.total - run.done);
        const started = performance.now();
        const r = await request('corpus:train', { options: run.options, steps, final: run.done + steps === run.total }, { view: false });
        const elapsed = performance.now() - started;
        run.losses.set(r.losses, run.done + 1);
        if (r.heldOutLosses.length) run.heldOutLosses.set(r.heldOutLosses, run.done + 1);
        run.done += r.losses.length;
        this.recorded = pick(r);
        // Chunks sized so each takes about CHUNK_MS: Pause then answers quickly at any speed.
        run.chunk = Math.max(1, Math.min(MAX_CHUNK, Math.round(steps * CHUNK_MS / Math.max(elapsed, 1))));
        if (r.stopped) {
          run.stopped = r.stopped;
          break;
        }
        this.changed();
      }
    } catch (err) {
      if (id === this.runId) {
        run.stopped = errorMessage(err);
        this.notice = `Training stopped: ${corpusError(errorMessage(err)).text}`;
      }
    }
    if (id === this.runId) {
      this.pausing = false;
      this.status = run.done >= run.total || run.stopped ? 'done' : 'paused';
      this.changed();
    }
  }

  /** The core's preset corpus, `{ text, heldOut }` (the corpus exports are the worker's). */
  preset() {
    return request('corpus:preset', {}, { view: false });
  }

  /** The attention, probabilities and losses after recorded step `step` for `tokens`. */
  inspect(step, tokens) {
    return request('corpus:inspect', { step, tokens }, { view: false });
  }

  /** Text generated by the weights after recorded `step` (null: the current weights). */
  generate(step, prompt, options) {
    return request('corpus:generate', { step, prompt, options }, { view: false });
  }

  /** The walkthrough's state for recorded `step`, reading `tokens`. */
  async snapshotState(step, tokens) {
    return (await request('corpus:snapshotState', { step, tokens }, { view: false })).state;
  }
}

const pick = ({ steps, interval, bytes, capacity, snapshotBytes }) => ({ steps, interval, bytes, capacity, snapshotBytes });

let lab = null;
/** The page's one Lab. */
export function getLab() {
  lab ??= new Lab();
  return lab;
}
