// @ts-check
// One shared model state per group, with undo/redo, persistence and derived
// core results. Every number in `view` was computed by the wasm core.
import { loadCore, loadFull, loadedFull, CoreError, coreReady, isTrap, onCoreRestart, restartCore } from './core.js';
import { errorMessage } from './dom.js';
import { isLarge, request, viewParts, onWorkerReset, WorkerError } from './compute.js';
import { Engine, isBatchState } from './engine.js';
import { articleFacts } from './facts.js';
import { groupAccess } from './groups.js';
import { readSaved, writeSaved, watchOtherTabs } from './persist.js';
import { History } from './history.js';

const STORAGE_PREFIX = 'how-llms-learn:v1:';

const stores = new Map();

/** The store for a group (created on first use). `initialText`: optional JSON state offered by an element. */
export function getStore(group = 'default', initialText = null) {
  let store = stores.get(group);
  if (!store) {
    store = new Store(group);
    stores.set(group, store);
  }
  if (initialText != null && store.initialText == null) store.initialText = initialText;
  return store;
}

export function allStores() {
  return [...stores.values()];
}

class Store {
  constructor(group) {
    this.group = group;
    this.core = null;
    this.view = null;
    this.initialText = null;
    /** @type {History<any>} undo and redo over this group's states */
    this.history = new History();
    this.listeners = new Set();
    this.noticeListeners = new Set();
    this.notice = null;
    this.noticeAction = null;
    // Where the state shown came from: 'saved' (the reader's own, from storage), 'inline' (the
    // page's), 'example'. With the undo stack it tells whether the reader has work to lose.
    this.source = 'example';
    // Set while the state shown is a stand-in for a saved entry that could not be used: it is
    // not written over that entry until the reader changes something.
    this.keepSaved = false;
    this.saveFailed = false;
    // The update panel's optimiser settings ({ optimizer, learningRate, beta1?, beta2?, epsilon? }),
    // shared by the group's update panels, carried by share links (share.js) and taken by the
    // Python exports; null until an update panel or a link sets them. trainingError is the
    // reader's half-typed setting that the last good settings stand in for.
    this.training = null;
    this.trainingError = null;
    this.trainingListeners = new Set();
    this.resetListeners = new Set();
    this.editListeners = new Set();
    this.version = 0;
    this.frame = 0;
    this.saveTimer = 0;
    this.persist = true;
    // Large states: computed by the worker (compute.js), one request at a time.
    /** @type {Promise<unknown>} the queue of worker requests, one after another */
    this.chain = Promise.resolve();
    this.workerState = null; // the state object the worker's Model currently holds
    this.busy = 0;
    this.busyListeners = new Set();
    this.largeNoticeShown = false;
    // Other states: the core's in-place Model on the main thread (engine.js), so an edit is one
    // setWeight + run() rather than a whole state sent, validated and converted.
    this.engine = null;
    this.engineState = null; // the state object the engine's Model currently holds
    onWorkerReset(() => { this.workerState = null; });
    // Let every element connected in the same task offer its initial state first.
    this.ready = Promise.resolve().then(() => this.init());
  }

  get storageKey() {
    return `${STORAGE_PREFIX}${location.pathname}:${this.group}`;
  }

  async init() {
    this.core = await loadCore();
    this.engine = new Engine(this.core.module);
    // After a trap the core is a new instance (core.js): the old Model handle is gone.
    onCoreRestart(() => {
      this.engine.abandon();
      this.engine = new Engine(this.core.module);
      this.engine.full = loadedFull();
      this.engineState = null;
    });
    // An element's `src` attribute offers its state as a promise of text (widget.js).
    if (this.initialText != null && typeof this.initialText !== 'string') {
      try {
        this.initialText = String(await this.initialText);
      } catch (err) {
        this.initialText = null;
        this.setNotice(`The state at the widget’s src address could not be loaded (${errorMessage(err)}).`);
      }
    }
    // A group no element lets the reader edit shows the author's state, never a kept one.
    if (groupAccess(this.group) === 'readonly') this.persist = false;
    if (this.persist) watchOtherTabs(this.storageKey, (entry) => this.otherTabSaved(entry));
    const candidates = [];
    const saved = this.persist ? readSaved(this.storageKey, (err) => this.saveTrouble(err)) : null;
    if (saved) candidates.push({ ...saved, source: 'saved' });
    if (this.initialText != null) candidates.push({ text: this.initialText, source: 'inline' });
    let problem = null;
    for (const { text, link, source, history } of candidates) {
      try {
        let parsed = link ? (await unpackSavedLink(link)) : JSON.parse(text);
        if (isLarge(parsed)) {
          this.view = await this.computeLarge('load', { state: parsed }, parsed);
          if (link) this.view.link = link;
        } else {
          await this.needFull(parsed);
          parsed = this.core.validate(parsed);
          this.view = this.compute(parsed);
          if (this.view.forwardError) throw new CoreError(this.view.forwardError);
        }
        this.source = source;
        if (source === 'saved') this.history.restore(await this.usable(history));
        if (problem) this.setNotice(problem.text, problem.action);
        return this;
      } catch (err) {
        await coreReady(); // a state that made the core trap: go on with a fresh core
        if (source !== 'saved') {
          problem = { text: `The state given in the page could not be used (${errorMessage(err)}), so the article’s example is shown.` };
          continue;
        }
        // The saved entry stays where it is: a worker that did not start may work after a
        // reload, and the reader's work is never replaced by a stand-in they did not choose.
        this.keepSaved = true;
        const transient = err instanceof WorkerError;
        problem = {
          text: `Your saved work could not be opened. ${sentence(errorMessage(err))} It is still kept in this browser${transient ? ': reload the page to try again' : ''}; changing anything here replaces it.`,
          action: transient ? { label: 'Reload the page', run: () => location.reload() } : null,
        };
      }
    }
    this.view = this.compute(this.core.articleExample());
    if (problem) this.setNotice(problem.text, problem.action);
    return this;
  }

  /** The entries of a kept history the core accepts (a damaged one is dropped, not shown). */
  async usable(history) {
    const out = [];
    for (const state of history) {
      try {
        if (!isLarge(state)) await this.needFull(state);
        out.push(isLarge(state) ? state : this.core.validate(state));
      } catch { await coreReady(); /* dropped */ }
    }
    return out;
  }

  /**
   * Before a state with a training batch comes to the main thread's engine: the full module,
   * which alone computes batches (the page starts with the lean one). Rejects when it cannot be
   * fetched; resolves at once for any other state, or once it is loaded.
   */
  async needFull(state) {
    if (!isBatchState(state) || this.engine.full) return;
    this.engine.full = await loadFull();
  }

  /** Whether the reader has work of their own here (a saved state, or any change). */
  get hasOwnWork() {
    return this.source === 'saved' || this.canUndo;
  }

  /** Run the core on a valid state. Loss/backward errors are kept as messages, not thrown. */
  compute(state) {
    try {
      return this.computeLocal('load', { state }, state);
    } catch (err) {
      this.engineState = null;
      this.version += 1;
      const error = errorMessage(err);
      return {
        version: this.version, state, forward: null, forwardError: error, loss: null, lossError: error,
        backward: null, backwardError: error, derived: null,
      };
    }
  }

  /**
   * One request to the main thread's engine, turned into a view of `state` (the state the
   * engine holds afterwards). Throws the core's error; the engine then no longer counts as
   * holding any state of ours, so the next request reloads it.
   */
  computeLocal(op, args, state) {
    let result;
    try {
      result = this.engine.handle(op, args);
    } catch (err) {
      this.engineState = null;
      if (isTrap(err)) {
        restartCore();
        throw new CoreError(`The model core stopped on an internal error (${errorMessage(err)}) and is being restarted`);
      }
      throw new CoreError(errorMessage(err));
    }
    const next = result.state || state;
    this.engineState = next;
    return this.viewOf(result, next);
  }

  /** A new view of `state` from an engine's (here or in the worker) result and its snapshot. */
  viewOf(result, state, extra = {}) {
    this.version += 1;
    const view = { version: this.version, state, ...viewParts(result.view), derived: null, ...extra };
    view.derived = derive(view);
    return view;
  }

  get canUndo() { return this.history.canUndo; }
  get canRedo() { return this.history.canRedo; }

  /**
   * Validate and adopt a new state. Throws CoreError (with the core's message) and keeps
   * the current state when the candidate is invalid. `coalesce`: edits with the same key
   * in quick succession (a drag, a training run) share one undo entry.
   */
  commit(candidate, { coalesce = null, sticky = false, link = null } = {}) {
    if (isLarge(candidate)) {
      const p = this.commitLarge(() => ({ op: 'load', args: { state: candidate }, state: candidate }), { coalesce, sticky, link });
      p.catch((err) => { if (!(err instanceof WorkerError)) this.setNotice(`${errorMessage(err)} The previous state is kept.`); });
      return p;
    }
    if (isBatchState(candidate) && !this.engine.full) {
      // The first state with a training batch: adopted once the full module is here.
      return this.needFull(candidate).then(() => this.commit(candidate, { coalesce, sticky, link }));
    }
    const state = this.core.validate(candidate);
    const view = this.compute(state);
    this.refuseErrors(view);
    this.record(view, coalesce, sticky);
    return view;
  }

  /**
   * The core's resize (a new vocabulary or configuration) of `base` (the current state unless
   * given), adopted like `commit`. For a large model it runs in the worker, which already holds
   * the current state: the main thread neither sends nor converts the whole model.
   */
  resize(change, base = this.view.state, options = {}) {
    if (!this.view.large) return this.commit(this.core.resize(base, change), options);
    const p = this.commitLarge(() => {
      const send = base !== this.view.state || !this.workerCurrent;
      return { op: 'resize', args: send ? { change, state: base } : { change }, state: base };
    }, options);
    p.catch((err) => { if (!(err instanceof WorkerError)) this.setNotice(`${errorMessage(err)} The previous state is kept.`); });
    return p;
  }

  /** Push the current state on the undo stack (or merge with the last entry) and adopt view. */
  record(view, coalesce = null, sticky = false) {
    this.history.record(this.view.state, coalesce, sticky);
    this.keepSaved = false;
    this.adopt(view);
  }

  // ---- Large states: the worker validates and computes; the main thread never parses them. ----

  onBusy(fn) {
    this.busyListeners.add(fn);
    fn(this.busy);
    return () => this.busyListeners.delete(fn);
  }

  setBusy(delta) {
    this.busy = Math.max(0, this.busy + delta);
    for (const fn of this.busyListeners) fn(this.busy);
  }

  /**
   * Queue a worker request. `prepare()` runs when the request's turn comes (so it sees every
   * earlier edit) and returns { op, args, state }. Resolves with { result, view } after
   * `then(result, view)` ran; rejects with the core's message, and then nothing changed.
   */
  runLarge(prepare, options = {}) {
    const { withState = false, then = null } = options;
    const run = async () => {
      this.setBusy(1);
      try {
        const { op, args, state } = prepare();
        const result = await request(op, args, { withState });
        const next = result.state || state;
        this.workerState = next;
        const view = this.viewOf(result, next, { large: true });
        const error = refusal(view);
        if (error) throw new CoreError(error);
        if (then) then(result, view);
        return { result, view };
      } catch (err) {
        // The worker stalled or failed: not the state's fault. Say so, with a retry.
        if (err instanceof WorkerError) {
          this.setNotice(`${sentence(err.message)} Your state is kept.`,
            { label: 'Try again', run: () => this.runLarge(prepare, options).catch(() => {}) });
        }
        throw err;
      } finally {
        this.setBusy(-1);
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => {});
    return p;
  }

  async computeLarge(op, args, state) {
    return (await this.runLarge(() => ({ op, args, state }))).view;
  }

  /** Commit through the worker. Rejects (state kept) with the core's message. */
  async commitLarge(prepare, { coalesce = null, sticky = false, link = null } = {}) {
    const { view } = await this.runLarge(prepare, {
      then: (_, v) => { if (link) v.link = link; this.record(v, coalesce, sticky); },
    });
    return view;
  }

  /**
   * The current state's share-link value (share.js's encodeState) and the state it encodes. A
   * large state is written and compressed in the worker, in turn with the edits before it.
   */
  async encodeLink(training) {
    if (!this.view.large) {
      const { encodeState } = await import('./share.js');
      return { state: this.view.state, value: await encodeState(this.view.state, training) };
    }
    const run = async () => {
      const state = this.view.state;
      const args = this.workerCurrent ? { training } : { training, state };
      return { state, value: (await request('encode', args, { view: false })).value };
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => {});
    return p;
  }

  /** Whether the worker holds exactly the current state (so it can be edited in place). */
  get workerCurrent() {
    return Boolean(this.view?.large) && this.workerState === this.view.state;
  }

  /** Clone the state, let fn edit the copy, commit it. */
  update(fn, options) {
    const draft = structuredClone(this.view.state);
    fn(draft);
    return this.commit(draft, options);
  }

  /** Set one weight entry: index [row, col] for matrices, [j] for vectors. */
  setWeight(name, index, value, options) {
    if (!this.view.state.weights[name]) throw new CoreError(`weights.${name} does not exist in this model`);
    // The new state shares every unchanged array with the current one: only the weight's outer
    // array and the edited row are copied.
    const edited = (current) => {
      const w = current.weights[name];
      const vector = index.length === 1;
      // A nudge is relative to the entry as it is when its turn comes (earlier nudges included),
      // not to the value last painted: held keys repeat faster than the page repaints.
      if (typeof value === 'function') value = value(vector ? w[index[0]] : w[index[0]][index[1]]);
      const copy = w.slice();
      if (vector) copy[index[0]] = value; else {
        copy[index[0]] = copy[index[0]].slice();
        copy[index[0]][index[1]] = value;
      }
      const state = { ...current, weights: { ...current.weights, [name]: copy } };
      const [row, col] = vector ? [0, index[0]] : index;
      return { state, edit: { name, row, col, value } };
    };
    if (this.view.large) {
      return this.commitLarge(() => {
        const { state, edit } = edited(this.view.state); // includes every earlier queued edit
        if (!this.workerCurrent) return { op: 'load', args: { state }, state };
        return { op: 'edit', args: edit, state };
      }, options);
    }
    const { state, edit } = edited(this.view.state);
    const view = this.engineState === this.view.state
      ? this.computeLocal('edit', edit, state)
      : this.computeLocal('load', { state }, state);
    this.refuseErrors(view);
    this.record(view, options?.coalesce ?? null, options?.sticky ?? false);
    return view;
  }

  /** Throws the view's error when a state cannot be adopted (see commit). */
  refuseErrors(view) {
    const error = refusal(view);
    if (!error) return;
    this.engineState = null; // the engine holds the refused state
    throw new CoreError(error);
  }

  undo() {
    const state = this.history.undo(this.view.state);
    if (state == null) return false;
    this.restore(state);
    return true;
  }

  redo() {
    const state = this.history.redo(this.view.state);
    if (state == null) return false;
    this.restore(state);
    return true;
  }

  /** Show a state from the history (large ones are recomputed in the worker). */
  restore(state) {
    if (!isLarge(state)) { this.adopt(this.compute(state)); return; }
    this.runLarge(() => ({ op: 'load', args: { state }, state }), { then: (_, view) => this.adopt(view) }).catch(
      (err) => this.setNotice(`That state could not be restored (${errorMessage(err)}).`));
  }

  /** Back to the article's example (undoable); the saved state is replaced by it. */
  reset() {
    this.commit(this.core.articleExample());
    this.setNotice(null);
    for (const fn of this.resetListeners) fn();
  }

  /** Called after every reset (the update panel clears its loss curve). */
  onReset(fn) {
    this.resetListeners.add(fn);
    return () => this.resetListeners.delete(fn);
  }

  /** New optimiser settings; every listener but `from` hears of them. */
  setTraining(settings, from = null) {
    this.training = settings ? { ...settings } : null;
    this.trainingError = null;
    for (const fn of this.trainingListeners) if (fn !== from) fn(this.training);
  }

  /** The settings a step with the update panel's fields takes (SGD at 0.1 before one exists). */
  stepOptions() {
    if (this.trainingError) return { error: this.trainingError };
    return this.training ?? { optimizer: 'sgd', learningRate: 0.1 };
  }

  /** The reader began typing into a weight cell: listeners (a running training) stop. */
  editStarted() {
    for (const fn of this.editListeners) fn();
  }

  onEditStart(fn) {
    this.editListeners.add(fn);
    return () => this.editListeners.delete(fn);
  }

  onTraining(fn) {
    this.trainingListeners.add(fn);
    return () => this.trainingListeners.delete(fn);
  }

  adopt(view) {
    this.view = view;
    this.scheduleSave();
    this.scheduleNotify();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onNotice(fn) {
    this.noticeListeners.add(fn);
    fn(this.notice, this.noticeAction);
    return () => this.noticeListeners.delete(fn);
  }

  /** The group's notice; `action`: { label, run } for a button next to it (a retry, an undo). */
  setNotice(message, action = null) {
    this.notice = message;
    this.noticeAction = message ? action : null;
    for (const fn of this.noticeListeners) fn(message, this.noticeAction);
  }

  // Repaint once per animation frame, however many edits arrived in it.
  scheduleNotify() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.notifyNow();
    });
  }

  notifyNow() {
    if (this.view?.large) { this.notifySpread([...this.listeners]); return; }
    for (const fn of this.listeners) {
      try { fn(this.view); } catch (err) { console.error(err); }
    }
  }

  // A large model's panels repaint over several frames (a few per frame), so no single task
  // holds the main thread long; each one paints the newest view when its turn comes.
  notifySpread(fns) {
    const start = performance.now();
    while (fns.length && performance.now() - start < 12) {
      const fn = fns.shift();
      if (!this.listeners.has(fn)) continue;
      try { fn(this.view); } catch (err) { console.error(err); }
    }
    if (fns.length) requestAnimationFrame(() => this.notifySpread(fns));
  }

  scheduleSave() {
    if (!this.persist || this.keepSaved) return;
    clearTimeout(this.saveTimer);
    if (this.view?.large && !this.view.link) {
      // Too big for localStorage (and serialising it would stall the page): not kept. A large
      // state opened from a link is kept as that link (see save()).
      if (!this.largeNoticeShown) {
        this.largeNoticeShown = true;
        this.setNotice('This model is large, so it is computed in the background and is not kept across reloads: a reload brings back the last state that could be kept.');
      }
      return;
    }
    this.saveTimer = setTimeout(() => this.save(), 250);
  }

  /** Write the state and the recent undo history (persist.js); a failure is said, not swallowed. */
  save() {
    const history = this.history.states();
    const entry = this.view.large ? { link: this.view.link } : { state: this.view.state };
    const err = writeSaved(this.storageKey, entry, history);
    if (err) { this.saveTrouble(err); return; }
    if (this.saveFailed) {
      this.saveFailed = false;
      if (this.notice && this.notice.startsWith(SAVE_FAILED)) this.setNotice(null);
    }
  }

  saveTrouble(err) {
    if (this.saveFailed) return;
    this.saveFailed = true;
    const name = err?.name && err.name !== 'Error' ? err.name : errorMessage(err);
    this.setNotice(`${SAVE_FAILED} (${name}: the browser’s storage for this site is full or turned off). They stay on this page until you close it; to keep them, use Share & export → Download JSON.`);
  }

  /** Another tab of this page saved this group's state (persist.js): say so, offer theirs. */
  otherTabSaved(entry) {
    this.setNotice('This page is also open in another tab, which just saved its own changes there. This tab keeps showing yours; a reload brings back whichever tab changed something last.',
      entry?.state ? { label: 'Show the other tab’s state', run: () => this.takeOther(entry.state) } : null);
  }

  takeOther(state) {
    try {
      const p = /** @type {any} */ (this.commit(state));
      if (p?.then) p.catch(() => {});
      this.setNotice('This is the other tab’s state now. Undo returns to what this tab showed.');
    } catch (err) {
      this.setNotice(`The other tab’s state could not be used (${errorMessage(err)}). Nothing was changed.`);
    }
  }
}

const SAVE_FAILED = 'Your changes could not be saved in this browser';
const sentence = (text) => `${String(text).trim().replace(/[.\s]+$/, '')}.`;

/** A large state kept as its share link: unpacked again (in the worker, share.js). */
async function unpackSavedLink(link) {
  const { unpackLink } = await import('./share.js');
  return (await unpackLink(link)).state;
}

/**
 * Why a view's state cannot be adopted, or null: its forward pass failed, or a position has a
 * target and the loss or the gradients failed (without a target, no loss is expected).
 */
function refusal(view) {
  if (view.forwardError) return view.forwardError;
  if (!hasTarget(view.state)) return null;
  return view.lossError || view.backwardError || null;
}

/** A position has a target unless the input is one token and there is no end-of-sequence token. */
function hasTarget(state) {
  return state.tokens.length > 1 || (state.eos != null && state.eos !== '');
}

// Look-ups (no arithmetic) that several panels and the article's live spans use.
function derive(view) {
  const { state, forward, loss } = view;
  const targets = loss ? loss.targets : null;
  return {
    T: state.tokens.length,
    lastIndex: state.tokens.length - 1,
    lastToken: state.tokens[state.tokens.length - 1],
    eos: state.eos ?? null,
    targets,
    targetNames: targets ? targets.map((i) => (i == null ? null : state.vocab[i])) : null,
    targetProbs: targets && forward
      ? targets.map((i, t) => (i == null ? null : forward.probs[t][i])) : null,
    terms: loss ? loss.terms : null,
    inputText: state.tokens.join(' '),
    // Phrases for the article's sentences, so they read right for any state (1 token, none, many).
    vocabCountText: plural(state.vocab.length, 'token'),
    vocabText: listNames(state.vocab, 12),
    targetCountText: targetCountText(loss ? loss.count : 0, state.tokens.length),
    targetSummary: targets ? targetSummary(state, targets) : null,
    logitGrad0: targets && targets[0] != null && view.backward
      ? view.backward.activations.logits[0][targets[0]] : null,
    facts: articleFacts(view), // the article's state-dependent sentences (facts.js)
  };
}

/** "1 token", "2 tokens". */
function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Names quoted as text for a sentence, the first `max` of them, then how many more. */
function listNames(names, max) {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown;
}

/** "no position has a target", "1 of 2 positions has a target", "all 3 positions have a target". */
function targetCountText(count, T) {
  if (count === 0) return 'no position has a target';
  if (count === T) return T === 1 ? 'its one position has a target' : `all ${T} positions have a target`;
  return `${count} of ${T} positions ${count === 1 ? 'has' : 'have'} a target`;
}

/** "after “AI” the model should predict “rocks”", then the next few pairs. */
function targetSummary(state, targets) {
  const pairs = [];
  targets.forEach((i, t) => { if (i != null) pairs.push([state.tokens[t], state.vocab[i], t]); });
  if (!pairs.length) return null;
  const T = state.tokens.length;
  const say = ([tok, target, t], first) => {
    const verb = first ? ' the model should predict' : ',';
    return t === T - 1 && state.eos != null
      ? `at the end, after “${tok}”${verb} the end-of-sequence token “${target}”`
      : `after “${tok}”${verb} “${target}”`;
  };
  const [first, ...rest] = pairs;
  const head = say(first, true);
  const more = rest.slice(0, 3).map((p) => say(p, false));
  const tail = rest.length > 3 ? `, and so on for ${rest.length - 3} more` : '';
  return [head, ...more].join('; ') + tail;
}

export function clearStorage(group = 'default') {
  const store = stores.get(group);
  if (!store) return;
  writeSaved(store.storageKey, null);
}

// Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y) for the group whose widget has focus.
let shortcutsInstalled = false;
export function installShortcuts() {
  if (shortcutsInstalled) return;
  shortcutsInstalled = true;
  document.addEventListener('keydown', (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key !== 'z' && key !== 'y') return;
    const path = event.composedPath();
    const target = path[0];
    if (target instanceof HTMLElement && isTextEditing(target)) return; // native text undo
    let group = null;
    for (const node of path) {
      if (node instanceof HTMLElement && node.tagName === 'BACKPROP-WIDGET') {
        // A read-only element changes nothing, not even by undoing the group's last edit.
        if (node.hasAttribute('readonly')) return;
        group = node.getAttribute('group') || 'default';
        break;
      }
    }
    // Outside every widget, Ctrl+Z belongs to the host page, unless the page is ours and says so
    // with <meta name="backprop-shortcuts" content="page"> (the walkthrough does).
    if (!group && !document.querySelector('meta[name="backprop-shortcuts"][content="page"]')) return;
    const store = group ? stores.get(group) : (stores.get('default') || stores.values().next().value);
    if (!store || !store.view || groupAccess(store.group) === 'readonly') return;
    event.preventDefault();
    const redo = key === 'y' || event.shiftKey;
    if (redo) store.redo(); else store.undo();
  });
}

function isTextEditing(el) {
  if (el.isContentEditable || el.tagName === 'TEXTAREA') return true;
  if (el.tagName !== 'INPUT') return false;
  const type = (el.getAttribute('type') || 'text').toLowerCase();
  if (!['text', 'number', 'search', ''].includes(type)) return false;
  // Matrix cells use the app's undo unless the reader is typing into them.
  if (el.classList.contains('cell-input')) return el.dataset.dirty === 'true';
  return true;
}
