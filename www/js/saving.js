// @ts-check
// When a store writes its state to the reader's browser (persist.js does the writing): 250 ms
// after the last change, never a large state (only a link it was opened from), never over a saved
// entry that could not be opened until the reader changes something; a failure is said once.
import { errorMessage } from './dom.js';
import { writeSaved } from './persist.js';

const SAVE_FAILED = 'Your changes could not be saved in this browser';

export class Saver {
  /** @param {any} store (store.js's Store) */
  constructor(store) {
    this.store = store;
    this.persist = true;
    // Set while the state shown is a stand-in for a saved entry that could not be used: it is
    // not written over that entry until the reader changes something.
    this.keepSaved = false;
    this.failed = false;
    this.timer = 0;
    this.largeNoticeShown = false;
  }

  /** After every adopted view. */
  schedule() {
    const store = this.store;
    if (!this.persist || this.keepSaved) return;
    clearTimeout(this.timer);
    if (store.view?.large && !store.view.link) {
      // Too big for localStorage (and serialising it would stall the page): not kept. A large
      // state opened from a link is kept as that link (see save()).
      if (!this.largeNoticeShown) {
        this.largeNoticeShown = true;
        store.setNotice('This model is large, so it is computed in the background and is not kept across reloads: a reload brings back the last state that could be kept.');
      }
      return;
    }
    this.timer = setTimeout(() => this.save(), 250);
  }

  /** Write the state and the recent undo history (persist.js); a failure is said, not swallowed. */
  save() {
    const store = this.store;
    const history = store.history.states();
    const entry = store.view.large ? { link: store.view.link } : { state: store.view.state };
    const err = writeSaved(store.storageKey, entry, history);
    if (err) { this.trouble(err); return; }
    if (this.failed) {
      this.failed = false;
      if (store.notice && store.notice.startsWith(SAVE_FAILED)) store.setNotice(null);
    }
  }

  trouble(err) {
    if (this.failed) return;
    this.failed = true;
    const name = err?.name && err.name !== 'Error' ? err.name : errorMessage(err);
    this.store.setNotice(`${SAVE_FAILED} (${name}: the browser’s storage for this site is full or turned off). They stay on this page until you close it; to keep them, use Share & export → Download JSON.`);
  }

  /** Another tab of this page saved this group's state (persist.js): say so, offer theirs. */
  otherTabSaved(entry) {
    this.store.setNotice('This page is also open in another tab, which just saved its own changes there. This tab keeps showing yours; a reload brings back whichever tab changed something last.',
      entry?.state ? { label: 'Show the other tab’s state', run: () => this.takeOther(entry.state) } : null);
  }

  takeOther(state) {
    const store = this.store;
    try {
      const p = /** @type {any} */ (store.commit(state));
      if (p?.then) p.catch(() => {});
      store.setNotice('This is the other tab’s state now. Undo returns to what this tab showed.');
    } catch (err) {
      store.setNotice(`The other tab’s state could not be used (${errorMessage(err)}). Nothing was changed.`);
    }
  }
}
