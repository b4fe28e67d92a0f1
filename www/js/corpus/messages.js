// @ts-check
// The core's refusals of a corpus (tokenize, corpusState) and of a prompt (generate), in the
// reader's words and tied to the field they are about, as www/js/messages.js does for the
// walkthrough's fields. The core's messages name the line ("line 3", "held-out line 1") and
// are a contract for scripts; these are for the reader. Messages it does not know pass through
// unchanged (as one sentence), tied to the field they mention.
import { sentence } from '../messages.js';

/** The name inside the core's quotes ("…" as json::quote writes it). */
const unquote = (s) => s.replace(/^"|"$/g, '').replace(/\\(["\\])/g, '$1');
const Q = '("(?:[^"\\\\]|\\\\.)*…?")';

/**
 * [pattern, (match, heldOut) => text] for messages about one line or the whole text.
 * @type {Array<[RegExp, (m: RegExpExecArray, held: boolean) => string]>}
 */
const RULES = [
  [/^the (held-out )?text has (\d+) characters; it may have at most (\d+)/,
    (m, held) => `${held ? 'The held-out text' : 'The text'} has ${Number(m[2]).toLocaleString('en')} characters; it may have at most ${Number(m[3]).toLocaleString('en')}. Shorten it.`],
  [/^the (held-out )?text has (\d+) sentences; it may have at most (\d+)/,
    (m, held) => `${held ? 'The held-out text' : 'The text'} has ${m[2]} sentences; it may have at most ${m[3]}.`],
  [/^the text has no sentence/, () => 'There is no sentence yet: write at least one, one sentence per line.'],
  [/^(held-out )?line (\d+) holds an invisible character \(U\+([0-9A-F]+)\) at position (\d+)/,
    (m, held) => `${held ? 'Held-out line' : 'Line'} ${m[2]} holds an invisible character (U+${m[3]}) at position ${m[4]}, as a copy and paste can leave; remove it.`],
  [/^(held-out )?line (\d+) has (\d+) tokens; a sentence may have at most (\d+)/,
    (m, held) => `${held ? 'Held-out line' : 'Line'} ${m[2]} has ${m[3]} words and punctuation marks; a sentence may have at most ${m[4]}. Split it into two lines.`],
  [new RegExp(`^line (\\d+) brings more than (\\d+) different tokens \\(at ${Q}\\): the vocabulary holds at most (\\d+)`),
    (m) => `With line ${m[1]} (at “${unquote(m[3])}”) the text has more than ${m[2]} different words and marks, but the vocabulary holds at most ${m[4]} tokens, ⟨eos⟩ included. Use fewer different words.`],
  [new RegExp(`^held-out line (\\d+) uses ${Q}, which is not in the training text`),
    (m) => `Held-out line ${m[1]} uses “${unquote(m[2])}”, which the training text never uses. The model has a token only for the training text’s words, so a held-out sentence may use only those.`],
  [/^held-out line (\d+) has (\d+) tokens, more than the longest training sentence \((\d+)\)/,
    (m) => `Held-out line ${m[1]} has ${m[2]} tokens, more than the longest training sentence (${m[3]}), which sets how long an input may be. Shorten it, or add a longer training sentence.`],
];

/** The core's refusals of a prompt (generate; the engine prefixes tokenize's with "the prompt: "). */
/** @type {Array<[RegExp, (m: RegExpExecArray) => string]>} */
const PROMPT_RULES = [
  [/^the prompt is empty/, () => 'Write a prompt first: at least one word of the training text.'],
  [new RegExp(`^prompt\\[(\\d+)\\] is ${Q}, which is not in vocab`),
    (m) => `“${unquote(m[2])}” is not in the vocabulary: the model has a token only for the training text’s words and marks.`],
  [/^the prompt has (\d+) tokens but config\.context is (\d+)/,
    (m) => `The prompt has ${m[1]} tokens, but this model reads at most ${m[2]} (its context, the longest training sentence).`],
  [/^the prompt: .*holds an invisible character \(U\+([0-9A-F]+)\) at position (\d+)/,
    (m) => `The prompt holds an invisible character (U+${m[1]}) at position ${m[2]}; remove it.`],
];

/**
 * `{ text, field }`: `field` is "corpus" (the training text), "heldOut" (the held-out text),
 * "prompt" or null.
 * @param {unknown} raw
 */
export function corpusError(raw) {
  const msg = String(raw ?? '');
  for (const [re, say] of PROMPT_RULES) {
    const m = re.exec(msg);
    if (m) return { field: 'prompt', text: say(m) };
  }
  const heldOut = /^(the )?held-out /.test(msg);
  for (const [re, say] of RULES) {
    const m = re.exec(msg);
    if (m) return { field: heldOut ? 'heldOut' : 'corpus', text: say(m, heldOut) };
  }
  const field = heldOut ? 'heldOut' : /prompt/i.test(msg) ? 'prompt' : /^(the text|line \d+)/.test(msg) ? 'corpus' : null;
  return { field, text: sentence(msg.charAt(0).toUpperCase() + msg.slice(1)) };
}
