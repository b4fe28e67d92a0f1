// @ts-check
// The training run's recorded weights, for the timeline (runs in the worker). A snapshot is
// every weight of the model after some step, copied into one Float64Array. They are recorded
// every `interval` steps; when one more would pass the memory budget, every other one is
// dropped and the interval doubles, so any run length fits the same budget and the recorded
// steps stay evenly spread (step 0 is always kept, and so is the last recorded one).

/** What the snapshots may take, in bytes (their Float64Arrays; the Map and its keys are small). */
export const SNAPSHOT_BUDGET_BYTES = 8 * 1024 * 1024;
/** Never more than this many, whatever the model's size: a slider with more is no easier to use. */
export const MAX_SNAPSHOTS = 200;
/** The first interval between recorded steps. */
export const FIRST_INTERVAL = 10;

export class Snapshots {
  /** `size`: numbers per snapshot (every weight of the model). */
  constructor(size, { budget = SNAPSHOT_BUDGET_BYTES, max = MAX_SNAPSHOTS, interval = FIRST_INTERVAL } = {}) {
    this.size = size;
    // Two at least (the initial weights and the latest), even for a model larger than the budget.
    this.capacity = Math.max(2, Math.min(max, Math.floor(budget / (size * 8))));
    this.interval = interval;
    /** @type {Map<number, Float64Array>} step → weights after that step */
    this.byStep = new Map();
  }

  /** Whether step `step` is one to record. */
  due(step) {
    return step % this.interval === 0;
  }

  /** Keep `weights` (copied by the caller, owned from now on) as the weights after `step`. */
  record(step, weights) {
    this.byStep.set(step, weights);
    while (this.byStep.size > this.capacity) this.thin();
  }

  /** Drop every snapshot off the doubled interval (step 0 stays: 0 is a multiple of anything). */
  thin() {
    this.interval *= 2;
    const steps = [...this.byStep.keys()];
    const last = steps[steps.length - 1];
    for (const s of steps) if (s % this.interval !== 0 && s !== last) this.byStep.delete(s);
    // The latest kept beyond the grid would be dropped on the next thinning anyway; with only
    // the grid left the run's end is still shown (the engine records its final step).
    if (this.byStep.size > this.capacity && last % this.interval !== 0) this.byStep.delete(last);
  }

  /** Recorded steps, in order. */
  steps() {
    return [...this.byStep.keys()].sort((a, b) => a - b);
  }

  get(step) {
    return this.byStep.get(step) ?? null;
  }

  /** Bytes the snapshots' numbers take. */
  get bytes() {
    return this.byStep.size * this.size * 8;
  }

  /** Everything after `step` goes (a run started again from there). */
  dropAfter(step) {
    for (const s of this.byStep.keys()) if (s > step) this.byStep.delete(s);
  }
}
