// @ts-check
// The core's error messages, in the reader's words. The core names fields the way the API does
// (`vocab[1] is "Bots", the same as vocab[0]…`, `tokens[0] …`, docs/API.md) and that text is a
// contract for scripts; a reader who typed into the vocabulary box should instead read “The
// vocabulary already has “Bots”.” next to that box. This module is the one place that maps a
// core message about a reader-facing field to a plain sentence, and tells which field it was
// about. Messages it does not know pass through unchanged (as one sentence).

import { symText } from './notation.js';

/** A message as one sentence ending with a full stop. */
export const sentence = (text) => `${String(text).trim().replace(/[.\s]+$/, '')}.`;

/** The name inside the core's quotes ("…" as json::quote writes it). */
const unquote = (s) => (s == null ? '' : s.replace(/^"|"$/g, ''));

/**
 * `{ text, field, index }` for a core message: `field` is "vocab", "tokens", "eos", "context",
 * "weights" or null (not about one field), `index` the entry's position when the message names
 * one. `name`: the token name the reader typed, when known (the core shortens long names).
 * @param {unknown} raw @param {{ name?: string }} [known]
 */
export function readerError(raw, { name } = {}) {
  const msg = String(raw ?? '');
  let m;
  if ((m = /^vocab\[(\d+)\] is ("(?:[^"\\]|\\.)*…?"), the same as vocab\[(\d+)\]/.exec(msg))) {
    return { field: 'vocab', index: Number(m[1]), text: `The vocabulary already has “${name ?? unquote(m[2])}”. Every token needs a name of its own; pick another one.` };
  }
  if ((m = /^vocab\[(\d+)\] is empty/.exec(msg))) {
    return { field: 'vocab', index: Number(m[1]), text: 'A token needs at least one visible character; an empty name (or only spaces) cannot be told apart from the others.' };
  }
  if ((m = /^vocab\[(\d+)\] has (\d+) characters; a token may have at most (\d+)/.exec(msg))) {
    return { field: 'vocab', index: Number(m[1]), text: `That name has ${m[2]} characters; a token may have at most ${m[3]}.` };
  }
  if ((m = /^vocab\[(\d+)\] holds an invisible character \(U\+([0-9A-F]+)(?:, ([^)]*))?\) at position (\d+)/.exec(msg))) {
    const what = m[3] ? `an invisible character (${m[3]}, U+${m[2]})` : `an invisible character (U+${m[2]})`;
    return { field: 'vocab', index: Number(m[1]), text: `That name holds ${what} at position ${Number(m[4]) + 1}. Names may hold only characters that show, so two names that look the same are the same token; remove it.` };
  }
  if ((m = /^vocab\[(\d+)\] has a broken character at position (\d+)/.exec(msg))) {
    return { field: 'vocab', index: Number(m[1]), text: `That name has a broken character at position ${Number(m[2]) + 1} (half of a character pair, as a bad copy and paste can leave); type it again.` };
  }
  if ((m = /^vocab has (\d+) tokens; it must have 1 to (\d+)/.exec(msg))) {
    return { field: 'vocab', index: null, text: Number(m[1]) < 1 ? 'The vocabulary needs at least one token.' : `The vocabulary can hold at most ${m[2]} tokens.` };
  }
  if ((m = /^tokens\[(\d+)\] is ("(?:[^"\\]|\\.)*…?"), which is not in vocab/.exec(msg))) {
    return { field: 'tokens', index: Number(m[1]), text: `“${name ?? unquote(m[2])}” is not in the vocabulary. Add it to the vocabulary first, or pick one of its tokens.` };
  }
  if ((m = /^tokens has (\d+) tokens but config\.context is (\d+)/.exec(msg))) {
    return { field: 'tokens', index: null, text: `The input can hold at most ${m[2]} token${m[2] === '1' ? '' : 's'} (the context length). Raise the context length under “Model size” first.` };
  }
  if (/^tokens is empty/.test(msg)) {
    return { field: 'tokens', index: null, text: 'The input needs at least one token.' };
  }
  if (/^eos is ("(?:[^"\\]|\\.)*…?"), which is not in vocab/.test(msg) || /^eos is not in vocab/.test(msg)) {
    return { field: 'eos', index: null, text: 'The end-of-sequence token must be one of the vocabulary’s tokens.' };
  }
  if ((m = /^the forward pass overflowed: (\w+) holds a value too large/.exec(msg))) {
    return { field: 'weights', index: null, text: `With this value the model’s numbers grow too large for a 64-bit float (first in ${m[1]}); use a smaller number` };
  }
  if (/^the gradient (of|with respect to) .* is not finite|^probs\[\d+\]\[\d+\], the probability of position/.test(msg)) {
    return { field: 'weights', index: null, text: 'With this value a gradient is no longer a finite number (the model is so sure of a wrong answer that its probability rounds to 0); use a smaller number' };
  }
  return { field: null, index: null, text: msg };
}

/** Whether a step's or a training run's error says the numbers stopped being finite. */
export function isDivergence(raw) {
  return /non-finite|not finite|no longer gives a finite loss|overflowed|too large for a float64|too small for a float64|is (NaN|Infinity|-Infinity)\b/.test(String(raw ?? ''));
}

/**
 * What to tell the reader when a step (or a training run) blew up: the learning rate is the
 * cause, so lowering it is the remedy (not smaller weights, which is the core's advice for a
 * state that overflows on its own).
 */
export function divergenceText(learningRate) {
  const rate = Number.isFinite(learningRate) ? String(learningRate) : 'the learning rate';
  const lower = Number.isFinite(learningRate) ? ` (try ${String(Number((learningRate / 10).toPrecision(3)))})` : '';
  return `The learning rate ${symText('learningRate')} = ${rate} is too large: the step overshot so far that the model’s numbers no longer fit in a 64-bit float (the loss or its gradient would be infinite). Lower the learning rate${lower} and try again`;
}
