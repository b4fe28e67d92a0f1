// @ts-check
// What a store shows first: the reader's saved state (persist.js), else the state the page gives
// (an element's inline JSON or `src`), else the article's example, each through the store's
// compute client. A saved state that cannot be opened stays saved, and the reader is told why.
import { CoreError, coreReady, loadFull } from './core.js';
import { errorMessage } from './dom.js';
import { isLarge, WorkerError } from './compute.js';
import { isBatchState } from './engine.js';
import { groupAccess } from './groups.js';
import { readSaved, watchOtherTabs } from './persist.js';
import { refusal } from './view.js';

/** A message as one sentence ending in a full stop. */
export const sentence = (text) => `${String(text).trim().replace(/[.\s]+$/, '')}.`;

/** @param {any} store (store.js's Store, its client started) */
export async function openFirst(store) {
  // An element's `src` attribute offers its state as a promise of text (widget.js).
  if (store.initialText != null && typeof store.initialText !== 'string') {
    try {
      store.initialText = String(await store.initialText);
    } catch (err) {
      store.initialText = null;
      store.setNotice(`The state at the widget’s src address could not be loaded (${errorMessage(err)}).`);
    }
  }
  const saver = store.saver;
  // A group no element lets the reader edit shows the author's state, never a kept one.
  if (groupAccess(store.group) === 'readonly') saver.persist = false;
  if (saver.persist) watchOtherTabs(store.storageKey, (entry) => saver.otherTabSaved(entry));
  const candidates = [];
  const saved = saver.persist ? readSaved(store.storageKey, (err) => saver.trouble(err)) : null;
  if (saved) candidates.push({ ...saved, source: 'saved' });
  if (store.initialText != null) candidates.push({ text: store.initialText, source: 'inline' });
  let problem = null;
  for (const { text, link, source, history } of candidates) {
    try {
      const parsed = link ? (await unpackSavedLink(link)) : JSON.parse(text);
      const { view } = await store.client.load(parsed, { validate: true, soft: true });
      // A small state is shown whatever its loss says (the panels say it); a large one only
      // when it could be adopted.
      const error = view.large ? refusal(view) : view.forwardError;
      if (error) throw new CoreError(error);
      if (link) view.link = link;
      store.view = view;
      store.source = source;
      if (source === 'saved') store.history.restore(await usable(store, history));
      if (problem) store.setNotice(problem.text, problem.action);
      return;
    } catch (err) {
      await coreReady(); // a state that made the core trap: go on with a fresh core
      if (source !== 'saved') {
        problem = { text: `The state given in the page could not be used (${errorMessage(err)}), so the article’s example is shown.` };
        continue;
      }
      // The saved entry stays where it is: a worker that did not start may work after a
      // reload, and the reader's work is never replaced by a stand-in they did not choose.
      saver.keepSaved = true;
      const transient = err instanceof WorkerError;
      problem = {
        text: `Your saved work could not be opened. ${sentence(errorMessage(err))} It is still kept in this browser${transient ? ': reload the page to try again' : ''}; changing anything here replaces it.`,
        action: transient ? { label: 'Reload the page', run: () => location.reload() } : null,
      };
    }
  }
  store.view = (await store.client.load(store.core.articleExample(), { soft: true })).view;
  if (problem) store.setNotice(problem.text, problem.action);
}

/** The entries of a kept history the core accepts (a damaged one is dropped, not shown). */
async function usable(store, history) {
  const out = [];
  for (const state of history) {
    try {
      // A state with a training batch is read by the full module alone (core.js).
      if (!isLarge(state) && isBatchState(state)) await loadFull();
      out.push(isLarge(state) ? state : store.core.validate(state));
    } catch { await coreReady(); /* dropped */ }
  }
  return out;
}

/** A large state kept as its share link: unpacked again (in the worker, share.js). */
async function unpackSavedLink(link) {
  const { unpackLink } = await import('./share.js');
  return (await unpackLink(link)).state;
}
