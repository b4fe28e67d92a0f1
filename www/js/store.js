// One shared model state per group, with undo/redo, persistence and derived
// core results. Every number in `view` was computed by the wasm core.
import { loadCore, CoreError } from './core.js';
import { errorMessage } from './dom.js';

const STORAGE_PREFIX = 'how-llms-learn:v1:';
const HISTORY_LIMIT = 300;
const COALESCE_MS = 1200;

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
    this.undoStack = [];
    this.redoStack = [];
    this.listeners = new Set();
    this.noticeListeners = new Set();
    this.notice = null;
    this.version = 0;
    this.frame = 0;
    this.saveTimer = 0;
    this.persist = true;
    // Let every element connected in the same task offer its initial state first.
    this.ready = Promise.resolve().then(() => this.init());
  }

  get storageKey() {
    return `${STORAGE_PREFIX}${location.pathname}:${this.group}`;
  }

  async init() {
    this.core = await loadCore();
    // An element's `src` attribute offers its state as a promise of text (widget.js).
    if (this.initialText != null && typeof this.initialText !== 'string') {
      try {
        this.initialText = String(await this.initialText);
      } catch (err) {
        this.initialText = null;
        this.setNotice(`The state at the widget’s src address could not be loaded (${errorMessage(err)}).`);
      }
    }
    const candidates = [];
    const saved = this.persist ? readStorage(this.storageKey) : null;
    if (saved != null) candidates.push({ text: saved, source: 'saved' });
    if (this.initialText != null) candidates.push({ text: this.initialText, source: 'inline' });
    for (const { text, source } of candidates) {
      try {
        const state = this.core.validate(JSON.parse(text));
        this.view = this.compute(state);
        if (this.view.forwardError) throw new CoreError(this.view.forwardError);
        return this;
      } catch (err) {
        const what = source === 'saved' ? 'Your saved state' : 'The state given in the page';
        this.setNotice(`${what} could not be used (${errorMessage(err)}), so the article’s example is shown.`);
      }
    }
    this.view = this.compute(this.core.articleExample());
    return this;
  }

  /** Run the core on a valid state. Loss/backward errors are kept as messages, not thrown. */
  compute(state) {
    const core = this.core;
    this.version += 1;
    const view = {
      version: this.version, state,
      forward: null, forwardError: null,
      loss: null, lossError: null,
      backward: null, backwardError: null,
      derived: null,
    };
    try { view.forward = core.forward(state); } catch (err) { view.forwardError = errorMessage(err); }
    if (view.forward) {
      try { view.loss = core.loss(state); } catch (err) { view.lossError = errorMessage(err); }
    } else {
      view.lossError = view.forwardError;
    }
    if (view.loss) {
      try { view.backward = core.backward(state); } catch (err) { view.backwardError = errorMessage(err); }
    } else {
      view.backwardError = view.lossError;
    }
    view.derived = derive(view);
    return view;
  }

  get canUndo() { return this.undoStack.length > 0; }
  get canRedo() { return this.redoStack.length > 0; }

  /**
   * Validate and adopt a new state. Throws CoreError (with the core's message) and keeps
   * the current state when the candidate is invalid. `coalesce`: edits with the same key
   * in quick succession (a drag, a training run) share one undo entry.
   */
  commit(candidate, { coalesce = null, sticky = false } = {}) {
    const state = this.core.validate(candidate);
    const view = this.compute(state);
    if (view.forwardError) throw new CoreError(view.forwardError);
    if (view.lossError && hasTarget(state)) throw new CoreError(view.lossError);
    if (view.backwardError && hasTarget(state)) throw new CoreError(view.backwardError);
    const now = performance.now();
    const top = this.undoStack[this.undoStack.length - 1];
    const merge = coalesce && top && top.coalesce === coalesce && (sticky || now - top.time < COALESCE_MS);
    if (merge) {
      top.time = now;
    } else {
      this.undoStack.push({ state: this.view.state, coalesce, time: now });
      if (this.undoStack.length > HISTORY_LIMIT) this.undoStack.shift();
    }
    this.redoStack = [];
    this.adopt(view);
    return view;
  }

  /** Clone the state, let fn edit the copy, commit it. */
  update(fn, options) {
    const draft = structuredClone(this.view.state);
    fn(draft);
    return this.commit(draft, options);
  }

  /** Set one weight entry: index [row, col] for matrices, [j] for vectors. */
  setWeight(name, index, value, options) {
    return this.update((draft) => {
      const w = draft.weights[name];
      if (!w) throw new CoreError(`weights.${name} does not exist in this model`);
      if (index.length === 1) w[index[0]] = value;
      else w[index[0]][index[1]] = value;
    }, options);
  }

  undo() {
    const entry = this.undoStack.pop();
    if (!entry) return false;
    this.redoStack.push({ state: this.view.state, coalesce: null, time: 0 });
    this.adopt(this.compute(entry.state));
    return true;
  }

  redo() {
    const entry = this.redoStack.pop();
    if (!entry) return false;
    this.undoStack.push({ state: this.view.state, coalesce: null, time: 0 });
    this.adopt(this.compute(entry.state));
    return true;
  }

  /** Back to the article's example (undoable); the saved state is replaced by it. */
  reset() {
    this.commit(this.core.articleExample());
    this.setNotice(null);
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
    fn(this.notice);
    return () => this.noticeListeners.delete(fn);
  }

  setNotice(message) {
    this.notice = message;
    for (const fn of this.noticeListeners) fn(message);
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
    for (const fn of this.listeners) {
      try { fn(this.view); } catch (err) { console.error(err); }
    }
  }

  scheduleSave() {
    if (!this.persist) return;
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => writeStorage(this.storageKey, JSON.stringify(this.view.state)), 250);
  }
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
    logitGrad0: targets && targets[0] != null && view.backward
      ? view.backward.activations.logits[0][targets[0]] : null,
  };
}

function readStorage(key) {
  try { return window.localStorage.getItem(key); } catch { return null; }
}

function writeStorage(key, value) {
  try { window.localStorage.setItem(key, value); } catch { /* storage unavailable or full */ }
}

export function clearStorage(group = 'default') {
  const store = stores.get(group);
  if (!store) return;
  try { window.localStorage.removeItem(store.storageKey); } catch { /* ignore */ }
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
        group = node.getAttribute('group') || 'default';
        break;
      }
    }
    const store = group ? stores.get(group) : (stores.get('default') || stores.values().next().value);
    if (!store || !store.view) return;
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
