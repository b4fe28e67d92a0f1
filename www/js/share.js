// @ts-check
// Keep and share: the whole state as exact JSON, and as a compact link.
//
// A share link carries the state in the URL fragment (never sent to a server):
//   #bp=1.<base64url of the deflate-raw compressed JSON>          (group "default")
//   #bp.<group>=1.<…>                                             (any other group)
// The JSON is the state (docs/API.md), plus, in links made since the optimiser settings were
// added, one more top-level key the core does not read:
//   "training": { "optimizer": "sgd" | "adam", "learningRate": η, "beta1"?, "beta2"?, "epsilon"? }
// the update panel's settings, so an Adam run reopens as Adam with its rate. It is taken out
// before the core sees the state; a link without it (every older link) opens exactly as before,
// with the page's own settings, and a damaged "training" is ignored field by field.
// Reading a link never runs anything: the text is decompressed with a size and a time cap,
// parsed with JSON.parse (both in the background worker, worker.js, so no link can freeze the
// page), and the core's `validate` decides whether it is a state. Token names then reach the
// DOM only as text, like everything else. A link that cannot be used changes nothing: the
// reader's state stays as it was, and the notice says why.

import { request, WorkerError } from './compute.js';
import { groupAccess } from './groups.js';

export const LINK_VERSION = '1';
/**
 * Longest fragment value accepted, and so the longest the share dialog makes: Chromium refuses
 * URLs over 2 MiB (2,097,152 characters), which leaves room for the page's own address.
 * Beyond it the dialog offers the JSON file instead.
 */
export const MAX_LINK_CHARS = 2_000_000;
/** Unpacking a link stops after this long (a link that takes longer is not one this page made). */
export const MAX_UNPACK_MS = 5000;
/** Largest decompressed state accepted from a link or a file (a state at every limit fits). */
export const MAX_STATE_BYTES = 48 * 1024 * 1024;

/** Thrown for links and files that cannot be read; the message is meant for the reader. */
export class ShareError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ShareError';
  }
}

/**
 * JSON text that gives back exactly the same numbers: like JSON.stringify (which already writes
 * the shortest text that round-trips a float64) but keeps the sign of −0. `pretty` puts each
 * object key and each matrix row on its own line and keeps rows of numbers on one line.
 */
export function exactJson(value, pretty = false) {
  const write = (v, indent) => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new ShareError('The state holds a number that is not finite.');
      return Object.is(v, -0) ? '-0' : JSON.stringify(v);
    }
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
    if (Array.isArray(v)) {
      const flat = v.every((x) => x === null || typeof x !== 'object');
      const inner = indent + '  ';
      if (!pretty || flat) return `[${v.map((x) => write(x, inner)).join(pretty ? ', ' : ',')}]`;
      return `[\n${v.map((x) => inner + write(x, inner)).join(',\n')}\n${indent}]`;
    }
    if (typeof v === 'object') {
      const inner = indent + '  ';
      const entries = Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function');
      if (!pretty) return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${write(x, inner)}`).join(',')}}`;
      if (!entries.length) return '{}';
      return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${write(x, inner)}`).join(',\n')}\n${indent}}`;
    }
    return 'null';
  };
  return write(value, '');
}

/** Parse state text (from a link, a file or the page) into a plain object; checks the shape only. */
export function parseStateText(text, what = 'The text') {
  if (typeof text !== 'string' || !text.trim()) throw new ShareError(`${what} is empty.`);
  if (text.length > MAX_STATE_BYTES) throw new ShareError(`${what} is too large (over ${MAX_STATE_BYTES / 1024 / 1024} MB).`);
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ShareError(`${what} is not valid JSON (${err.message}).`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ShareError(`${what} is not a model state: expected a JSON object with vocab, tokens, config and weights.`);
  }
  return value;
}

// ---------- compression and base64url ----------

async function pump(stream, limit, deadline = Infinity) {
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (performance.now() > deadline) {
      reader.cancel().catch(() => {});
      throw new ShareError('The link’s state took too long to unpack; it was not made by this page.');
    }
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw new ShareError(`The link's state is too large (over ${limit / 1024 / 1024} MB when unpacked).`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out;
}

function toBase64url(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new ShareError('The link is damaged: its state is not valid base64url text.');
  }
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/**
 * The optimiser settings of a link as the update panel uses them, or null: only the known fields,
 * each kept only when valid (optimizer "sgd" or "adam"; finite numbers, η and ε above 0, β in [0, 1)).
 */
export function trainingSettings(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const optimizer = value.optimizer === 'adam' || value.optimizer === 'sgd' ? value.optimizer : null;
  if (!optimizer) return null;
  const out = { optimizer };
  const ok = (x, min, max, open) => typeof x === 'number' && Number.isFinite(x) && (open ? x > min : x >= min) && x < max;
  if (ok(value.learningRate, 0, Infinity, true)) out.learningRate = value.learningRate;
  if (optimizer === 'adam') {
    if (ok(value.beta1, 0, 1)) out.beta1 = value.beta1;
    if (ok(value.beta2, 0, 1)) out.beta2 = value.beta2;
    if (ok(value.epsilon, 0, Infinity, true)) out.epsilon = value.epsilon;
  }
  return out;
}

/**
 * The state as the fragment value: version, a dot, base64url of deflate-raw(JSON). `training`:
 * the optimiser settings to carry along (see the top of this file), or null.
 */
export async function encodeState(state, training = null) {
  const settings = trainingSettings(training);
  const payload = settings ? { ...state, training: settings } : state;
  const bytes = new TextEncoder().encode(exactJson(payload));
  const packed = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return `${LINK_VERSION}.${toBase64url(await pump(packed, Infinity))}`;
}

/** Back from a fragment value to a plain object (not yet validated by the core). Throws ShareError. */
export async function decodeState(value) {
  if (typeof value !== 'string' || !value) throw new ShareError('The link holds no state.');
  if (value.length > MAX_LINK_CHARS) throw new ShareError('The link is too long to be a state made on this page.');
  const dot = value.indexOf('.');
  const version = dot < 0 ? '' : value.slice(0, dot);
  if (version !== LINK_VERSION) {
    throw new ShareError('The link was not made by this page (unknown format); it may have been cut off or edited.');
  }
  const deadline = performance.now() + MAX_UNPACK_MS;
  const bytes = fromBase64url(value.slice(dot + 1));
  let raw;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    raw = await pump(stream, MAX_STATE_BYTES, deadline);
  } catch (err) {
    if (err instanceof ShareError) throw err;
    throw new ShareError('The link is incomplete or damaged (it may have been cut off when it was copied).');
  }
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new ShareError('The link is damaged: its state is not text.');
  }
  return parseStateText(text, 'The link’s state');
}

// ---------- the fragment ----------

/** Fragment key for a group. */
export function linkKey(group) {
  return group === 'default' ? 'bp' : `bp.${group}`;
}

function fragmentParts(hash) {
  const text = (hash || '').replace(/^#/, '');
  if (!text) return [];
  return text.split('&').map((part) => {
    const eq = part.indexOf('=');
    let key = eq < 0 ? part : part.slice(0, eq);
    try { key = decodeURIComponent(key); } catch { /* keep as is */ }
    return { key, value: eq < 0 ? '' : part.slice(eq + 1), raw: part };
  });
}

/** The raw link value for `group` in a fragment, or null when it has none. */
export function linkValue(group, hash = location.hash) {
  const part = fragmentParts(hash).find((p) => p.key === linkKey(group));
  return part ? part.value : null;
}

/**
 * A link to this page that reproduces `state` in `group` (and the optimiser settings `training`).
 * `encoded`: the fragment value when it was made elsewhere (Store.encodeLink, in the worker).
 */
export async function shareUrl(state, group = 'default', base = location.href, training = null, encoded = null) {
  const url = new URL(base);
  url.hash = `${encodeURIComponent(linkKey(group))}=${encoded ?? await encodeState(state, training)}`;
  return url.href;
}

/** Remove the group's state from the address bar (other fragment parts stay), without reloading. */
export function forgetLink(group) {
  try {
    const rest = fragmentParts(location.hash).filter((p) => p.key !== linkKey(group)).map((p) => p.raw);
    const url = new URL(location.href);
    url.hash = rest.join('&');
    const href = rest.length ? url.href : url.href.replace(/#$/, '');
    history.replaceState(history.state, '', href);
  } catch { /* sandboxed frames may refuse; the state was read already */ }
}

/**
 * Unpack a fragment value in the background worker. Resolves to { state, training } (a state
 * the core accepts; training null when the link has none); rejects with a ShareError (the link
 * cannot be read, or its state is not valid) or a WorkerError (the worker failed or stalled:
 * not the link's fault).
 */
export async function unpackLink(value) {
  return unpack({ value }, 'The link’s state');
}

/** The same for a state file's text (`what`: the file, as messages name it). */
export function unpackText(text, what) {
  return unpack({ text, what }, what);
}

async function unpack(args, what) {
  try {
    const result = await request('unpack', args, { view: false, timeout: UNPACK_WAIT_MS });
    return { state: result.state, training: trainingSettings(result.training) };
  } catch (err) {
    // The core stopped while checking what the link holds: the link's fault, not the worker's.
    if (err instanceof WorkerError && err.trap) throw new ShareError(`${what} could not be checked: ${lowerFirst(sentence(err.message))}`);
    if (err instanceof WorkerError) throw err;
    if (err?.kind === 'ShareError') throw new ShareError(err.message);
    // The import dialog names the file itself; a link's notice says what was wrong with it.
    if (err?.kind === 'InvalidState') throw new ShareError(args.text != null ? sentence(err.message) : `${what} is not a valid model: ${sentence(err.message)}`);
    throw new ShareError(`${what} could not be read (${err?.message || err}).`);
  }
}

/**
 * How long the page waits for a link to be unpacked and checked (the worker's start included;
 * a worker that never starts is reported after compute.js's WORKER_START_MS). A link this page
 * made takes a second or two.
 */
const UNPACK_WAIT_MS = 15000;

// ---------- opening a link ----------

const opened = new WeakMap();

/**
 * Once per store (after store.ready): if the page's fragment holds a state for the store's group,
 * commit it (undoable: Undo returns to what the reader had, also after a reload, see store.js).
 * A link that cannot be used changes nothing and says why in the store's notice. A group the
 * reader cannot edit ignores links; one without a toolbar (no Undo or Reset button) asks first.
 * Later fragment changes (a pasted link) are applied the same way.
 */
export function openLink(store) {
  let done = opened.get(store);
  if (!done) {
    done = store.ready.then(() => applyLink(store)).catch(() => {});
    opened.set(store, done);
    window.addEventListener('hashchange', () => {
      if (linkValue(store.group) != null) done.then(() => applyLink(store));
    });
  }
  return done;
}

async function applyLink(store) {
  const value = linkValue(store.group);
  if (value == null) return;
  forgetLink(store.group);
  const access = groupAccess(store.group);
  if (access === 'readonly') {
    store.setNotice('The link you opened holds a state for this model, but the page shows it read-only, so the link was not applied.');
    return;
  }
  await openValue(store, value, access === 'ask');
}

/** The reader's current state, in words, for "nothing was changed: …". */
function stillShown(store) {
  if (store.hasOwnWork) return 'your own work is still here';
  return store.source === 'inline' ? 'this page’s example is still shown' : 'the article’s example is still shown';
}

async function openValue(store, value, ask) {
  const retry = { label: 'Try again', run: () => openValue(store, value, ask) };
  let link;
  // Unpacking runs in the background and may take a few seconds: say what is going on.
  store.setNotice('Opening the link…');
  try {
    link = await unpackLink(value);
  } catch (err) {
    const why = !(err instanceof WorkerError) ? `This link could not be opened. ${sentence(err.message)}`
      // The worker started but did not finish: most likely the link holds far more than a state.
      : err.timedOut ? `This link could not be opened: unpacking and checking it took longer than ${UNPACK_WAIT_MS / 1000} seconds (a link made by this page takes a second or two).`
        : `This link could not be opened because ${lowerFirst(sentence(err.message))} This is not a fault of the link.`;
    store.setNotice(`${why} Nothing was changed: ${stillShown(store)}.`, err instanceof WorkerError ? retry : null);
    return;
  }
  if (ask) {
    store.setNotice('The link you opened holds a state for this model. Opening it replaces what is shown here (one Undo, Ctrl+Z, brings it back).',
      { label: 'Open the link’s state', run: () => adoptLink(store, link, value, retry) });
    return;
  }
  await adoptLink(store, link, value, retry);
}

async function adoptLink(store, link, value, retry) {
  const had = store.hasOwnWork;
  try {
    // `link`: a large state is kept across reloads as its link (store.js).
    await store.commit(link.state, { link: value });
  } catch (err) {
    if (err instanceof WorkerError) {
      store.setNotice(`The link’s state could not be opened: ${sentence(err.message)} Nothing was changed: ${stillShown(store)}.`, retry);
    } else {
      store.setNotice(`The link’s state is not a valid model: ${sentence(err?.message || err)} Nothing was changed: ${stillShown(store)}.`);
    }
    return;
  }
  if (link.training) store.setTraining(link.training);
  store.setNotice(had
    ? 'This is the state from the link you opened. What you had before is one Undo away (also after a reload).'
    : 'This is the state from the link you opened. Undo returns to the page’s example.',
  { label: 'Undo', run: () => { if (store.undo()) store.setNotice('Back to what you had before the link; Redo opens the link’s state again.'); } });
}

const lowerFirst = (text) => text.charAt(0).toLowerCase() + text.slice(1);
const sentence = (text) => `${String(text).trim().replace(/[.\s]+$/, '')}.`;
