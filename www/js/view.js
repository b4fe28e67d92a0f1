// @ts-check
// The view the panels read: one engine result (the core's snapshot: every activation and
// gradient in one Float64Array, cut into named parts) turned into rows, plus `derived`, the
// look-ups (no arithmetic) that several panels and the article's live spans share. Every
// number in a view was computed by the wasm core.
import { articleFacts } from './facts.js';

/**
 * A view of `state` from an engine's result (in this thread or the worker): `version` tells
 * views apart, `extra` adds fields such as `large`.
 * @param {number} version @param {any} snapshot @param {any} state @param {object} [extra]
 */
export function makeView(version, snapshot, state, extra = {}) {
  /** @type {any} */
  const view = { version, state, ...viewParts(snapshot), derived: null, ...extra };
  view.derived = derive(view);
  return view;
}

/** A view of a state the engine could not compute: every part carries the core's message. */
export function errorView(version, state, error) {
  return {
    version, state, targets: null, forward: null, forwardError: error, loss: null, lossError: error,
    backward: null, backwardError: error, derived: null,
  };
}

/** Rows of a flat row-major matrix as subarray views (no copy). */
function rows(data, R, C) {
  const out = new Array(R);
  for (let r = 0; r < R; r += 1) out[r] = data.subarray(r * C, (r + 1) * C);
  return out;
}

function unpack({ data, shape }, masked = false) {
  if (shape.length === 1) return data;
  if (shape.length === 2) return rows(data, shape[0], shape[1]);
  const [H, T] = shape;
  const heads = [];
  for (let h = 0; h < H; h += 1) {
    const block = data.subarray(h * T * T, (h + 1) * T * T);
    if (masked) for (let t = 0; t < T; t += 1) block.fill(NaN, t * T + t + 1, (t + 1) * T);
    heads.push(rows(block, T, T));
  }
  return heads;
}

function unpackAll(obj, maskScores) {
  if (!obj) return null;
  const out = {};
  for (const [name, m] of Object.entries(obj)) out[name] = unpack(m, maskScores && name === 'scores');
  return out;
}

/** The engine's snapshot as rows of views into its one buffer (masked scores are NaN). */
function viewParts(snapshot) {
  return {
    schema: snapshot.schema,
    // What each position should predict, from the core even when there is no loss.
    targets: snapshot.targets ?? null,
    forward: unpackAll(snapshot.forward, true),
    forwardError: snapshot.forwardError,
    loss: snapshot.loss,
    lossError: snapshot.lossError,
    backward: snapshot.backward ? {
      loss: snapshot.backward.loss,
      weights: unpackAll(snapshot.backward.weights, false),
      activations: unpackAll(snapshot.backward.activations, true),
    } : null,
    backwardError: snapshot.backwardError,
  };
}

/**
 * Why a view's state cannot be adopted, or null: its forward pass failed, or a position has a
 * target and the loss or the gradients failed (without a target, no loss is expected).
 */
export function refusal(view) {
  if (view.forwardError) return view.forwardError;
  if (noTarget(view)) return null;
  return view.lossError || view.backwardError || null;
}

/** Whether the core says no position of the view's state has a target (so no loss is expected). */
export function noTarget(view) {
  return Boolean(view.targets) && view.targets.every((t) => t == null);
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
