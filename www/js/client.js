// @ts-check
// The walkthrough's one compute client: every request a store makes of the core (load a state,
// edit one weight, resize, take or preview a step, train, write a share link, explain one entry)
// goes through a
// ComputeClient and comes back as a promise of { result, view }. Behind it are two backends,
// chosen by the size of the state (compute.js isLarge), never by the caller: an Engine on this
// thread for small states, and the worker (worker.js: one Engine there, shared by every client)
// for large ones, so the main thread never parses a large state.
//
// The in-thread backend computes inside the call and returns a promise that is already settled
// (settledNow reads its outcome): a small state's edit is adopted in the same task as the
// keystroke and painted in the next frame, with no timer or frame in between, and the store
// keeps its synchronous contract for small states (widget.setState throws the core's message).
// Worker requests run one after another; each is prepared when its turn comes, so it builds on
// every edit queued before it, and the store paints only the newest view.
import { CoreError, isTrap, loadExtras, loadedExtras, loadFull, loadedFull, onCoreRestart, restartCore } from './core.js';
import { errorMessage } from './dom.js';
import { isLarge, request, onWorkerReset, WorkerError } from './compute.js';
import { Engine, isBatchState } from './engine.js';
import { makeView, errorView, refusal } from './view.js';

/**
 * @typedef {{ op: string, args: any, state: any }} Prepared  one engine request and the state it is about
 * @typedef {{ result: any, view: any }} Reply  the engine's result and the view of the state after it
 * @typedef {object} RunOptions
 * @property {boolean} [withState]  the result carries the state (a training run's, read back from the core)
 * @property {(result: any, view: any) => void} [then]  runs in turn, before the promise settles:
 *   the store adopts the view here, so that the next request builds on it
 * @property {(result: any) => void} [accept]  throws when the result is not to be adopted (judged
 *   before its view is)
 * @property {boolean} [refuse]  reject a view whose state cannot be adopted (default true)
 * @property {boolean} [soft]  a state the core cannot compute gives a view of its error, not a rejection
 * @property {boolean} [view]  with the snapshot of the state after the request (default true)
 */

/** The outcome of each promise the in-thread backend settled, for settledNow. */
const settled = new WeakMap();

/**
 * `{ ok: true, value }` or `{ ok: false, error }` when `p` came from the in-thread backend (it
 * is settled by the time the call returns), else null (a worker request: await it).
 * @param {Promise<unknown>} p
 */
export function settledNow(p) {
  return settled.get(p) ?? null;
}

// One worker, one Model in it: its requests queue here, whichever client sends them, and `held`
// is the state object that Model holds (identity, not equality: states are never mutated).
const remote = {
  /** @type {Promise<unknown>} */
  chain: Promise.resolve(),
  held: null,
};
onWorkerReset(() => { remote.held = null; });

/** Run `job` after every worker request queued before it. */
function queue(job) {
  const p = remote.chain.then(job, job);
  remote.chain = p.catch(() => {});
  return p;
}

export class ComputeClient {
  /**
   * @param {object} hooks
   * @param {() => any} hooks.current  the store's current view (null until the first one)
   * @param {(delta: number) => void} [hooks.busy]  a worker request began (+1) or ended (-1)
   * @param {(err: WorkerError, retry: () => void) => void} [hooks.trouble]  the worker failed
   *   a request (not the state's fault); `retry` sends it again
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.core = null;
    /** @type {Engine | null} */
    this.engine = null;
    this.held = null; // the state object the in-thread Model holds
    this.version = 0;
  }

  /** Start the in-thread backend on the loaded core (loadCore's). */
  start(core) {
    this.core = core;
    this.engine = new Engine(core.module);
    // After a trap the core is a new instance (core.js): the old Model handle is gone.
    onCoreRestart(() => {
      this.engine.abandon();
      this.engine = new Engine(core.module);
      this.engine.full = loadedFull();
      this.held = null;
    });
  }

  /** The current state (the one requests about "the model" are about). */
  get state() {
    return this.hooks.current().state;
  }

  /** Whether requests about the current state go to the worker (its view was computed there). */
  get large() {
    return Boolean(this.hooks.current()?.large);
  }

  /**
   * A whole state. `validate`: run the core's validate first (a state from outside: its message
   * names what is wrong); the worker always does.
   * @param {any} state @param {RunOptions & { validate?: boolean }} [options]
   * @returns {Promise<Reply>}
   */
  load(state, { validate = false, ...options } = {}) {
    if (isLarge(state)) return this.viaWorker(() => ({ op: 'load', args: { state }, state }), options);
    // Only the full module computes a training batch (the page starts with the lean one): a
    // state with one waits for it, once; every later request about it is answered at once.
    if (isBatchState(state) && !this.engine.full) {
      return loadFull().then((full) => {
        this.engine.full = full;
        return this.load(state, { validate, ...options });
      });
    }
    return this.here(() => {
      const valid = validate ? this.core.validate(state) : state;
      return { op: 'load', args: { state: valid }, state: valid };
    }, options);
  }

  /**
   * One weight entry: `edited(current)` returns { state, edit } for the state as it is when the
   * request's turn comes (so queued nudges add up). The model is edited in place when it holds
   * the current state, else the edited state is loaded.
   * @param {(current: any) => { state: any, edit: object }} edited @param {RunOptions} [options]
   * @returns {Promise<Reply>}
   */
  edit(edited, options = {}) {
    const large = this.large;
    const prepare = () => {
      const current = this.state;
      const { state, edit } = edited(current);
      const held = large ? remote.held : this.held;
      return held === current ? { op: 'edit', args: edit, state } : { op: 'load', args: { state }, state };
    };
    return large ? this.viaWorker(prepare, options) : this.here(prepare, options);
  }

  /**
   * The core's resize of `base` (a new vocabulary or sizes). A large model is resized in the
   * worker, which usually holds it already: the main thread neither sends nor converts it.
   * @param {object} change @param {any} base @param {RunOptions} [options]
   * @returns {Promise<Reply>}
   */
  resize(change, base, options = {}) {
    if (this.large) {
      return this.viaWorker(() => {
        const send = base !== this.state || remote.held !== this.state;
        return { op: 'resize', args: send ? { change, state: base } : { change }, state: base };
      }, options);
    }
    let next;
    try {
      next = this.core.resize(base, change);
    } catch (error) {
      return this.here(() => { throw error; }, options);
    }
    // A small state may grow past the worker's threshold: load() sends it there then.
    return this.load(next, { ...options, validate: true });
  }

  /**
   * One optimiser step of the current state (the core's step(), so the update is its own):
   * `result` has lossBefore, lossAfter, update and the new state.
   * @param {object} options the optimiser settings @param {RunOptions} [run]
   */
  step(options, run = {}) {
    return this.aboutCurrent('step', { options }, run);
  }

  /** Up to `steps` steps of the current state in the core; `result`: { losses, stopped }. */
  train(options, steps, run = {}) {
    return this.aboutCurrent('train', { options, steps }, { withState: true, ...run });
  }

  /**
   * The step `step` would take from the current state, computed and not adopted (the view
   * stays): resolves with { lossBefore, lossAfter, update }.
   * @param {object} options
   */
  async preview(options) {
    return (await this.aboutCurrent('preview', { options }, { view: false, refuse: false })).result;
  }

  /** A request about the current state; the engine is given that state when it holds another. */
  aboutCurrent(op, args, options) {
    const large = this.large;
    const prepare = () => {
      const current = this.state;
      const held = large ? remote.held : this.held;
      if (!large && held === current) this.engine.know(current);
      return { op, args: held === current ? args : { ...args, state: current }, state: current };
    };
    return large ? this.viaWorker(prepare, options) : this.here(prepare, options);
  }

  /**
   * The current state's share-link value (share.js encodeState) and the state it encodes. A
   * large state is written and compressed in the worker, in turn with the edits before it.
   * @returns {Promise<{ state: any, value: string }>}
   */
  encode(training) {
    if (!this.large) {
      const state = this.state;
      return import('./share.js').then(async ({ encodeState }) => ({ state, value: await encodeState(state, training) }));
    }
    return /** @type {Promise<{ state: any, value: string }>} */ (queue(async () => {
      const state = this.state;
      const args = remote.held === state ? { training } : { training, state };
      return { state, value: (await request('encode', args, { view: false })).value };
    }));
  }

  /**
   * The full module's explanations of one entry (`ops`: derivation, forwardExplanation,
   * finiteDifference), a result or an error each. Of `view`'s state on this thread, settled at
   * once when the full module is already loaded (else when it arrives; a failed fetch is every
   * part's error); of the state the worker's Model holds for a large view.
   * @param {string[]} ops @param {object} cell @param {any} view
   * @returns {Promise<Array<{ value?: any, error?: any }>>}
   */
  explain(ops, cell, view) {
    if (view.large) {
      return Promise.all(ops.map((op) => request(op, { cell }, { view: false }).then((r) => ({ value: r.result }), (error) => ({ error }))));
    }
    const run = (extras) => ops.map((op) => {
      try { return { value: extras[op](view.state, cell) }; } catch (error) { return { error }; }
    });
    const extras = loadedExtras();
    if (!extras) return loadExtras().then(run, (error) => ops.map(() => ({ error })));
    const value = run(extras);
    const p = Promise.resolve(value);
    settled.set(p, { ok: true, value });
    return p;
  }

  // ---- The in-thread backend: settled before it returns. ----

  /** @param {() => Prepared} prepare @param {RunOptions} options @returns {Promise<Reply>} */
  here(prepare, options) {
    let outcome;
    try {
      outcome = { ok: true, value: this.runHere(prepare, options) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const p = outcome.ok ? Promise.resolve(outcome.value) : Promise.reject(outcome.error);
    // A caller that took the outcome at once (settledNow) never awaits it: not an unhandled rejection.
    if (!outcome.ok) p.catch(() => {});
    settled.set(p, outcome);
    return p;
  }

  /** @param {() => Prepared} prepare @param {RunOptions} options @returns {Reply} */
  runHere(prepare, { withState = false, view = true, soft = false, ...rest }) {
    const { op, args, state } = prepare();
    let result;
    try {
      result = this.engine.handle(op, args, { view, withState });
    } catch (err) {
      // The engine no longer counts as holding any state of ours: the next request reloads it.
      this.held = null;
      const error = isTrap(err)
        ? new CoreError(`The model core stopped on an internal error (${errorMessage(err)}) and is being restarted`)
        : new CoreError(errorMessage(err));
      if (isTrap(err)) restartCore();
      if (!soft) throw error;
      return this.failedView(state, error, rest, false);
    }
    const next = result.state || state;
    this.held = next;
    return this.finish(result, next, { view, ...rest }, false);
  }

  // ---- The worker backend: one request at a time. ----

  /** @param {() => Prepared} prepare @param {RunOptions} options @returns {Promise<Reply>} */
  viaWorker(prepare, options) {
    const { withState = false, view = true, soft = false, ...rest } = options;
    const job = async () => {
      this.hooks.busy?.(1);
      try {
        const { op, args, state } = prepare();
        let result;
        try {
          result = await request(op, args, { withState, view });
        } catch (err) {
          if (!soft || err instanceof WorkerError) throw err;
          remote.held = null;
          return this.failedView(state, err, rest, true);
        }
        const next = result.state || state;
        remote.held = next;
        return this.finish(result, next, { view, ...rest }, true);
      } catch (err) {
        // The worker stalled or failed: not the state's fault, and worth another try.
        if (err instanceof WorkerError) this.hooks.trouble?.(err, () => { this.viaWorker(prepare, options).catch(() => {}); });
        throw err;
      } finally {
        this.hooks.busy?.(-1);
      }
    };
    return /** @type {Promise<Reply>} */ (queue(job));
  }

  // ---- Both: the reply's view. ----

  /** The view of `state` after `result`: refused (a rejection), or handed to `then`. */
  finish(result, state, { view = true, refuse = true, accept = null, then = null }, large) {
    let shown = null;
    if (accept) accept(result);
    if (view) {
      this.version += 1;
      shown = makeView(this.version, result.view, state, large ? { large: true } : {});
      // The engine then holds the refused state, which no view shows: the next request, about
      // another state, loads that one (held is compared by identity).
      const error = refuse ? refusal(shown) : null;
      if (error) throw new CoreError(error);
    }
    if (then) then(result, shown);
    return { result, view: shown };
  }

  /** A soft request's view of a state the core could not compute. */
  failedView(state, error, { then = null }, large) {
    this.version += 1;
    const shown = errorView(this.version, state, errorMessage(error));
    if (large) shown.large = true;
    if (then) then(null, shown);
    return { result: null, view: shown };
  }
}
