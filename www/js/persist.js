// A group's state kept in the reader's browser (localStorage), per page and group:
//   <key>           the state's JSON; a large state opened from a share link is kept as that
//                   link instead, {"link": "1.…"} (its JSON would be tens of megabytes)
//   <key>:history   the most recent undo entries (states, newest last), so that what a link or
//                   an edit replaced is still one Undo away after a reload
// Writes report their failure (a full or disabled storage) instead of swallowing it. Tabs of
// the same page share the keys; the last tab to change something wins, and the other tabs are
// told at once (the `storage` event), see saving.js otherTabSaved.
import { isLarge } from './compute.js';

/** Undo entries kept across reloads, and the most characters they may take together. */
const HISTORY_KEEP = 20;
const HISTORY_CHARS = 1_000_000;

const historyKey = (key) => `${key}:history`;

/**
 * The saved entry, or null: { text } (a state's JSON) or { link }, with `history` (states).
 * @param {string} key @param {(err: unknown) => void} [onError]
 */
export function readSaved(key, onError = () => {}) {
  let text;
  let historyText;
  try {
    text = window.localStorage.getItem(key);
    historyText = window.localStorage.getItem(historyKey(key));
  } catch (err) {
    onError(err);
    return null;
  }
  if (text == null) return null;
  let history = [];
  try {
    const list = JSON.parse(historyText ?? '[]');
    if (Array.isArray(list)) history = list.filter((s) => s && typeof s === 'object' && !Array.isArray(s));
  } catch { /* a damaged history only costs the undo entries */ }
  return { ...asEntry(text), history };
}

/** { text } or { link } for a stored value. */
function asEntry(text) {
  if (text.startsWith('{"link":')) {
    try {
      const { link } = JSON.parse(text);
      if (typeof link === 'string') return { link };
    } catch { /* fall through: the core names what is wrong */ }
  }
  return { text };
}

/**
 * Keep `entry` ({ state } or { link }; null removes the group's keys) and the newest undo
 * entries of `history` that fit. Returns null, or the error when the state itself could not be
 * written (the undo entries are given up first when space runs short).
 */
export function writeSaved(key, entry, history = []) {
  const storage = (() => { try { return window.localStorage; } catch (err) { return err; } })();
  if (storage instanceof Error || !storage) return storage || new Error('localStorage is not available');
  if (entry == null) {
    try { storage.removeItem(key); storage.removeItem(historyKey(key)); } catch { /* nothing kept anyway */ }
    return null;
  }
  try {
    storage.setItem(key, entry.link ? JSON.stringify({ link: entry.link }) : jsonOf(entry.state));
  } catch (err) {
    return err;
  }
  // The newest entries that fit, each written once: an undo entry was the current state before.
  let texts = [];
  let size = 0;
  for (let i = history.length - 1; i >= 0 && texts.length < HISTORY_KEEP; i -= 1) {
    if (isLarge(history[i])) continue;
    const text = jsonOf(history[i]);
    if (size + text.length > HISTORY_CHARS) break;
    texts.push(text);
    size += text.length + 1;
  }
  for (;;) {
    try {
      storage.setItem(historyKey(key), `[${texts.slice().reverse().join(',')}]`);
      return null;
    } catch {
      // Short of space: keep the state, give up the oldest undo entries first.
      if (!texts.length) return null;
      texts = texts.slice(0, Math.floor(texts.length / 2));
    }
  }
}

// States are immutable once adopted (store.js copies before editing), so their JSON can be kept.
const jsonCache = new WeakMap();
function jsonOf(state) {
  let text = jsonCache.get(state);
  if (text === undefined) {
    text = JSON.stringify(state);
    jsonCache.set(state, text);
  }
  return text;
}

/** `fn(entry)` whenever another tab writes this key ({ state } or { link }; null when removed). */
export function watchOtherTabs(key, fn) {
  window.addEventListener('storage', (event) => {
    if (event.key !== key) return;
    if (event.newValue == null) { fn(null); return; }
    const entry = asEntry(event.newValue);
    if (entry.link) { fn(entry); return; }
    try { fn({ state: JSON.parse(entry.text) }); } catch { fn(null); }
  });
}
