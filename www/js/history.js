// @ts-check
// Undo and redo over whole states. The store records the state an edit replaces; edits with the
// same coalescing key in quick succession (a drag, a training run, held arrow keys) share one
// entry, so one Undo takes back the whole gesture. States are immutable objects: the stacks hold
// references, never copies.

/** At most this many states can be undone (the oldest are dropped). */
export const HISTORY_LIMIT = 300;
/** Edits with the same key closer together than this share one undo entry. */
export const COALESCE_MS = 1200;

/** @template S */
export class History {
  constructor({ limit = HISTORY_LIMIT, coalesceMs = COALESCE_MS } = {}) {
    this.limit = limit;
    this.coalesceMs = coalesceMs;
    /** @type {{ state: S, coalesce: string | null, time: number }[]} */
    this.undoStack = [];
    /** @type {S[]} */
    this.redoStack = [];
  }

  get canUndo() { return this.undoStack.length > 0; }
  get canRedo() { return this.redoStack.length > 0; }

  /**
   * `current` is being replaced by a new state: keep it for Undo, unless the last entry has the
   * same `coalesce` key and was recorded within coalesceMs (or `sticky`: a gesture still going
   * on), in which case that entry stands for both. A new edit forgets what could be redone.
   * @param {S} current
   */
  record(current, coalesce = null, sticky = false, now = performance.now()) {
    const top = this.undoStack[this.undoStack.length - 1];
    const merge = coalesce != null && top != null && top.coalesce === coalesce && (sticky || now - top.time < this.coalesceMs);
    if (merge) {
      top.time = now;
    } else {
      this.undoStack.push({ state: current, coalesce, time: now });
      if (this.undoStack.length > this.limit) this.undoStack.shift();
    }
    this.redoStack = [];
  }

  /** The state to go back to from `current` (which becomes redoable), or null. @param {S} current */
  undo(current) {
    const entry = this.undoStack.pop();
    if (!entry) return null;
    this.redoStack.push(current);
    return entry.state;
  }

  /** The state to go forward to from `current` (which becomes undoable), or null. @param {S} current */
  redo(current) {
    if (!this.redoStack.length) return null;
    const state = this.redoStack.pop();
    this.undoStack.push({ state: current, coalesce: null, time: 0 });
    return state;
  }

  /** The undoable states, oldest first (what persist.js saves with the state). */
  states() { return this.undoStack.map((e) => e.state); }

  /** Start from saved undoable states (oldest first); nothing to redo. @param {S[]} states */
  restore(states) {
    this.undoStack = states.slice(-this.limit).map((state) => ({ state, coalesce: null, time: 0 }));
    this.redoStack = [];
  }
}
