// @ts-check
// The core's refusals of a corpus (tokenize, corpusState, generate), in the reader's words and
// tied to the field they are about, as www/js/messages.js does for the walkthrough's fields.
// Messages it does not know pass through unchanged (as one sentence).
import { sentence } from '../messages.js';

/**
 * `{ text, field }`: `field` is "corpus" (the training text), "heldOut" (the held-out sentence),
 * "prompt" or null.
 * @param {unknown} raw
 */
export function corpusError(raw) {
  const msg = String(raw ?? '');
  const field = /held-?out/i.test(msg) ? 'heldOut' : /prompt/i.test(msg) ? 'prompt' : /line \d+|text|corpus|sentence/i.test(msg) ? 'corpus' : null;
  return { field, text: sentence(msg) };
}
