// @ts-check
// One shared model state per group: the view the panels subscribe to, the changes they ask for
// and the notices they show. Every change goes through the group's compute client (client.js),
// undo/redo through history.js, saving through saving.js; what is shown first is opening.js's.
// Every number in `view` was computed by the wasm core.
import { loadCore, CoreError } from './core.js';
import { errorMessage } from './dom.js';
import { WorkerError } from './compute.js';
import { ComputeClient, settledNow } from './client.js';
import { History } from './history.js';
import { writeSaved } from './persist.js';
import { Saver } from './saving.js';
import { openFirst, sentence } from './opening.js';

export { installShortcuts } from './shortcuts.js';

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

/** A group's store if it exists; without a group, the default group's (or the first one). */
export function storeOf(group) {
  return group ? stores.get(group) : (stores.get('default') || stores.values().next().value);
}

export function allStores() {
  return [...stores.values()];
}

export function clearStorage(group = 'default') {
  const store = stores.get(group);
  if (!store) return;
  writeSaved(store.storageKey, null);
}

/** @typedef {{ coalesce?: string | null, sticky?: boolean, link?: string | null }} ChangeOptions */

class Store {
  constructor(group) {
    this.group = group;
    this.core = null;
    /** @type {any} the current view (view.js): the state and every number the panels show */
    this.view = null;
    this.initialText = null;
    /** @type {History<any>} undo and redo over this group's states */
    this.history = new History();
    this.saver = new Saver(this);
    this.listeners = new Set();
    this.noticeListeners = new Set();
    this.notice = null;
    this.noticeAction = null;
    // Where the state shown came from: 'saved' (the reader's own, from storage), 'inline' (the
    // page's), 'example'. With the undo stack it tells whether the reader has work to lose.
    this.source = 'example';
    // The update panel's optimiser settings ({ optimizer, learningRate, beta1?, beta2?, epsilon? }),
    // shared by the group's update panels, carried by share links (share.js) and taken by the
    // Python exports; null until an update panel or a link sets them. trainingError is the
    // reader's half-typed setting that the last good settings stand in for.
    this.training = null;
    this.trainingError = null;
    this.trainingListeners = new Set();
    this.resetListeners = new Set();
    this.editListeners = new Set();
    this.frame = 0;
    this.busy = 0;
    this.busyListeners = new Set();
    this.client = new ComputeClient({
      current: () => this.view,
      busy: (delta) => this.setBusy(delta),
      // The worker stalled or failed: not the state's fault. Say so, with a retry.
      trouble: (err, retry) => this.setNotice(`${sentence(err.message)} Your state is kept.`, { label: 'Try again', run: retry }),
    });
    // Let every element connected in the same task offer its initial state first.
    this.ready = Promise.resolve().then(() => this.init());
  }

  get storageKey() {
    return `${STORAGE_PREFIX}${location.pathname}:${this.group}`;
  }

  async init() {
    this.core = await loadCore();
    this.client.start(this.core);
    await openFirst(this);
    return this;
  }

  /** Whether the reader has work of their own here (a saved state, or any change). */
  get hasOwnWork() {
    return this.source === 'saved' || this.canUndo;
  }

  get canUndo() { return this.history.canUndo; }
  get canRedo() { return this.history.canRedo; }

  /**
   * A change's outcome for the caller: a small state's at once (its view, or the core's error
   * thrown, as the widget's setState promises), a large one's as a promise of its view.
   * `failed`: the notice a rejected large change leaves (none for a worker failure, which the
   * client reported with a retry).
   * @param {Promise<import('./client.js').Reply>} p @param {((err: any) => string) | null} [failed]
   */
  settle(p, failed = null) {
    const now = settledNow(p);
    if (now) {
      if (!now.ok) throw now.error;
      return now.value.view;
    }
    const view = p.then((reply) => reply.view);
    if (failed) {
      // Said in the notice, so a caller may leave the promise alone (model.js does).
      view.catch((err) => { if (!(err instanceof WorkerError)) this.setNotice(failed(err)); });
    }
    return view;
  }

  /** Adopt the reply's view as a change (undoable) when its turn comes. @param {ChangeOptions} options */
  recorder({ coalesce = null, sticky = false, link = null } = {}) {
    return (_, view) => {
      if (link && view.large) view.link = link;
      this.record(view, coalesce, sticky);
    };
  }

  /**
   * Validate and adopt a new state. Throws CoreError (with the core's message) and keeps
   * the current state when the candidate is invalid. `coalesce`: edits with the same key
   * in quick succession (a drag, a training run) share one undo entry.
   * @param {any} candidate @param {ChangeOptions} [options]
   */
  commit(candidate, options = {}) {
    const p = this.client.load(candidate, { validate: true, then: this.recorder(options) });
    return this.settle(p, (err) => `${errorMessage(err)} The previous state is kept.`);
  }

  /**
   * The core's resize (a new vocabulary or configuration) of `base` (the current state unless
   * given), adopted like `commit`.
   */
  resize(change, base = this.view.state, options = {}) {
    const p = this.client.resize(change, base, { then: this.recorder(options) });
    return this.settle(p, (err) => `${errorMessage(err)} The previous state is kept.`);
  }

  /** Clone the state, let fn edit the copy, commit it. */
  update(fn, options) {
    const draft = structuredClone(this.view.state);
    fn(draft);
    return this.commit(draft, options);
  }

  /** Set one weight entry: index [row, col] for matrices, [j] for vectors. */
  setWeight(name, index, value, options = {}) {
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
    return this.settle(this.client.edit(edited, { then: this.recorder(options) }));
  }

  /**
   * One optimiser step of the current state, adopted (one undo entry, or merged into
   * `coalesce`'s). Resolves with { result (lossBefore, lossAfter, update, state), view };
   * rejects with the core's message (state kept), also when the loss after it is not finite.
   */
  step(options, coalesce = null) {
    return this.client.step(options, {
      accept: (result) => {
        if (!Number.isFinite(result.lossAfter)) throw new CoreError(`the loss after the step is ${result.lossAfter}`);
      },
      then: this.recorder({ coalesce, sticky: Boolean(coalesce) }),
    });
  }

  /** Up to `steps` steps, adopted as part of training run `coalesce`: { result: { losses, stopped }, view }. */
  train(options, steps, coalesce) {
    return this.client.train(options, steps, { then: this.recorder({ coalesce, sticky: true }) });
  }

  /** The step `step(options)` would take, not adopted: { lossBefore, lossAfter, update }. */
  preview(options) {
    return this.client.preview(options);
  }

  /** One entry's explanations (client.js explain) of `view`, the state the dialog shows. */
  explain(ops, cell, view = this.view) {
    return this.client.explain(ops, cell, view);
  }

  /** The current state's share-link value (share.js's encodeState) and the state it encodes. */
  encodeLink(training) {
    return this.client.encode(training);
  }

  /** Push the current state on the undo stack (or merge with the last entry) and adopt view. */
  record(view, coalesce = null, sticky = false) {
    this.history.record(this.view.state, coalesce, sticky);
    this.saver.keepSaved = false;
    this.adopt(view);
  }

  onBusy(fn) {
    this.busyListeners.add(fn);
    fn(this.busy);
    return () => this.busyListeners.delete(fn);
  }

  setBusy(delta) {
    this.busy = Math.max(0, this.busy + delta);
    for (const fn of this.busyListeners) fn(this.busy);
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

  /** Show a state from the history (a state the core cannot compute is shown with its errors). */
  restore(state) {
    this.client.load(state, { soft: true, refuse: false, then: (_, view) => this.adopt(view) }).catch(
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
    this.saver.schedule();
    this.scheduleNotify();
  }

  /** `fn(view)` after every change, once per frame however many arrived in it. */
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
}
