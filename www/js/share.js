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
// Reading a link never runs anything: the text is decompressed with a size cap, parsed with
// JSON.parse, and the core's `validate` decides whether it is a state. Token names then reach
// the DOM only as text, like everything else.

export const LINK_VERSION = '1';
/** Longest fragment value accepted (browsers cap URLs at about 2 MB anyway). */
export const MAX_LINK_CHARS = 2_000_000;
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

async function pump(stream, limit) {
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
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
  const bytes = fromBase64url(value.slice(dot + 1));
  let raw;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    raw = await pump(stream, MAX_STATE_BYTES);
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

/** A link to this page that reproduces `state` in `group` (and the optimiser settings `training`). */
export async function shareUrl(state, group = 'default', base = location.href, training = null) {
  const url = new URL(base);
  url.hash = `${encodeURIComponent(linkKey(group))}=${await encodeState(state, training)}`;
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
 * Read the group's state from the page's fragment. Resolves to null (no link for this group),
 * { state, training } (parsed, not yet validated; training null when the link has none) or
 * { error } (a message for the reader).
 */
export async function readLink(group, hash = location.hash) {
  const value = linkValue(group, hash);
  if (value == null) return null;
  try {
    const { training, ...state } = await decodeState(value);
    return { state, training: trainingSettings(training) };
  } catch (err) {
    return { error: err instanceof ShareError ? err.message : 'The link could not be read.' };
  }
}

// ---------- opening a link ----------

const opened = new WeakMap();

/**
 * Once per store (after store.ready): if the page's fragment holds a state for the store's group,
 * commit it (undoable: Undo returns to what the reader had). A link that cannot be used shows
 * its reason in the store's notice and the page's default state (the inline state, else the
 * article's example). Later fragment changes (a pasted link) are applied the same way.
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
  const link = await readLink(store.group);
  if (!link) return;
  forgetLink(store.group);
  let problem = link.error;
  if (link.state) {
    try {
      await store.commit(link.state);
      if (link.training) store.setTraining(link.training);
      store.setNotice('This is the state from the link you opened. Undo returns to what you had before.');
      return;
    } catch (err) {
      problem = `The link’s state is not a valid model: ${err && err.message ? err.message : String(err)}`;
    }
  }
  let fallback = store.core.articleExample();
  let what = 'the article’s example';
  if (store.initialText != null) {
    try { fallback = parseStateText(store.initialText); what = 'this page’s example'; } catch { /* use the article's */ }
  }
  try {
    await store.commit(fallback);
  } catch {
    await store.commit(store.core.articleExample());
    what = 'the article’s example';
  }
  store.setNotice(`${String(problem).replace(/[.!?]?$/, '.')} Showing ${what} instead.`);
}
