// @ts-check
// <backprop-widget stage="forward" group="default" readonly src="state.json">: renders one or
// more stages of the walkthrough in its own shadow root. Elements with the same group share one
// state. The initial state comes from a <script type="application/json"> child or the `src` URL.
// <bp-value key="loss.value"> shows one live number as text; <bp-when key="…"> shows its content
// only while that value is present.
import { h, setText, errorMessage, renderNotice } from './dom.js';
import { fmt, full } from './format.js';
import { getStore, installShortcuts } from './store.js';
import { katexRoot } from './katex.js';
import * as toolbar from './panels/toolbar.js';
import * as model from './panels/model.js';
import * as forward from './panels/forward.js';
import * as target from './panels/target.js';
import * as loss from './panels/loss.js';
import * as backward from './panels/backward.js';
import * as update from './panels/update.js';
import { openLink } from './share.js';
import { warmOffscreen } from './warm.js';

/** How long the widget waits for its files before telling the reader. */
const LOAD_PATIENCE_MS = 20000;
/**
 * A panel whose code is fetched when it is mounted (a separate chunk of the bundle): it keeps
 * the latest view until then, and says so in its place if the code cannot be loaded.
 */
const lazyPanel = (load) => ({
  mount(container, ctx) {
    let panel = null;
    let last = null;
    load().then((m) => {
      panel = m.mount(container, ctx);
      if (last) panel.update(last);
    }, (err) => container.append(h('p', { class: 'error', role: 'alert', text: `This part of the page could not be loaded (${errorMessage(err)}). Reload the page to try again.` })));
    return { update(view) { last = view; panel?.update(view); } };
  },
});
const share = lazyPanel(() => import('./panels/share.js'));
const PANELS = { toolbar, model, forward, target, loss, backward, update, share };
const ALL = ['model', 'forward', 'target', 'loss', 'backward', 'update'];
// Bundled, the build's minified copy next to the bundle (.ci/bundle.mjs defines the name).
/* global BUNDLED_WIDGET_CSS */
const WIDGET_CSS = new URL(typeof BUNDLED_WIDGET_CSS === 'string' ? BUNDLED_WIDGET_CSS : '../css/widget.css', import.meta.url).href;

function stylesheet(href) {
  const link = h('link', { rel: 'stylesheet', href });
  const loaded = new Promise((resolve) => {
    link.addEventListener('load', resolve, { once: true });
    link.addEventListener('error', resolve, { once: true });
  });
  return { link, loaded };
}

// Each widget builds its panels in a task of its own, in document order: the widgets of a group
// become ready together (one store), and building them all in that one task held the page for
// hundreds of milliseconds at load; this way the first screen's widget is drawn first, and
// input and painting can come between the others.
const toMount = [];
const nextTask = (fn) => {
  const channel = new MessageChannel();
  channel.port1.onmessage = fn;
  channel.port2.postMessage(null);
};
function mountInTurn(widget) {
  toMount.push(widget);
  if (toMount.length === 1) nextTask(mountNext);
}
function mountNext() {
  toMount.shift().mount();
  if (toMount.length) nextTask(mountNext);
}

export class BackpropWidget extends HTMLElement {
  connectedCallback() {
    if (this.started) {
      if (this.store && !this.unsubscribe) this.subscribe();
      return;
    }
    this.started = true;
    installShortcuts();
    const root = this.attachShadow({ mode: 'open' });
    const sheets = [stylesheet(WIDGET_CSS)];
    // Everything visible lives in .bp-root, which cuts off what the host page's styles could
    // pass down through inheritance (see widget.css); dialogs live there too.
    this.frame = h('div', { class: 'bp-root' });
    this.body = h('div', { class: 'bp', part: 'body' });
    this.body.hidden = true;
    this.status = h('p', { class: 'bp-status', role: 'status', text: 'Loading the model…' });
    this.notice = h('p', { class: 'bp-notice', role: 'status' });
    this.notice.hidden = true;
    this.frame.append(this.status, this.notice, this.body);
    root.append(...sheets.map((s) => s.link), this.frame);
    const group = this.getAttribute('group') || 'default';
    const inline = this.querySelector(':scope > script[type="application/json"]');
    const src = this.getAttribute('src');
    this.store = getStore(group, inline ? inline.textContent : src ? fetchState(src) : null);
    // KaTeX is not waited for: it loads when the first formula comes near the viewport (katex.js).
    // A file that never arrives (the core, a stylesheet) would leave "Loading the model…" for
    // ever: after a while the reader is told, and offered a reload, while the page keeps waiting.
    const slow = setTimeout(() => this.showStatus(
      `The model is still loading after ${LOAD_PATIENCE_MS / 1000} seconds: a file the page needs has not arrived yet.`, true), LOAD_PATIENCE_MS);
    Promise.all([this.store.ready, openLink(this.store), katexRoot(root), ...sheets.map((s) => s.loaded)])
      .then(() => { clearTimeout(slow); mountInTurn(this); })
      .catch((err) => {
        clearTimeout(slow);
        this.showStatus(err?.name === 'UnsupportedBrowser' ? err.message
          : `The model core could not be loaded (${errorMessage(err)}). Check that the page was built with npm run build.`,
        err?.name !== 'UnsupportedBrowser');
      });
  }

  /** A loading problem in the status line, with a reload button when reloading may help. */
  showStatus(message, reload) {
    renderNotice(this.status, message, reload ? { label: 'Reload the page', run: () => location.reload() } : null);
    this.status.classList.add('error');
  }

  disconnectedCallback() {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  get stages() {
    const attr = (this.getAttribute('stage') || 'all').trim().toLowerCase();
    const list = attr.split(/[\s,]+/).flatMap((s) => (s === 'all' ? ALL : [s]));
    return list.filter((s, i) => PANELS[s] && list.indexOf(s) === i);
  }

  mount() {
    const root = this.shadowRoot;
    const store = this.store;
    // The derivation dialog's code (derivation.js, factors.js) is fetched on the first opening.
    let dialog = null;
    let dialogCode = null;
    const openDerivation = (cell, anchor) => {
      dialogCode ??= import('./derivation.js');
      dialogCode.then(({ DerivationDialog }) => {
        dialog ??= new DerivationDialog(this.frame);
        dialog.open(store, cell, anchor);
      }, (err) => {
        dialogCode = null;
        store.setNotice(`The derivation could not be opened: its code did not load (${errorMessage(err)}); try again.`);
      });
    };
    const ctx = {
      store,
      root,
      frame: this.frame,
      readonly: this.hasAttribute('readonly'),
      openDerivation,
    };
    this.panels = this.stages.map((stage) => {
      const container = h('section', { class: `panel panel-${stage}`, dataset: { stage } });
      this.body.append(container);
      return PANELS[stage].mount(container, ctx);
    });
    if (!this.panels.length) {
      this.body.append(h('p', { class: 'error', text: `Unknown stage “${this.getAttribute('stage')}”. Use one of: ${ALL.join(', ')}, toolbar, share or all.` }));
    }
    // Messages about the whole state (a link or file that could not be used) show in the
    // group's toolbar; a group without one shows them in its first widget.
    this.store.onNotice((message, action) => {
      renderNotice(this.notice, this.isNoticeWidget() ? message : null, action);
    });
    this.status.remove();
    this.body.hidden = false;
    this.render(store.view);
    this.subscribe();
    warmOffscreen(this.body);
    // Widgets mount one task after another (mountInTurn): a page's diagrams look for their
    // figures again when one arrives.
    this.dispatchEvent(new CustomEvent('bp-mounted', { bubbles: true }));
  }

  subscribe() {
    this.unsubscribe = this.store.subscribe((view) => {
      this.render(view);
      this.dispatchEvent(new CustomEvent('statechange', { detail: { state: view.state } }));
    });
  }

  render(view) {
    for (const panel of this.panels) panel.update(view);
    this.dataset.version = String(view.version);
  }

  isNoticeWidget() {
    const group = this.store.group;
    const mine = [...document.querySelectorAll('backprop-widget')]
      .filter((w) => (w.getAttribute('group') || 'default') === group);
    if (mine.some((w) => /** @type {any} */ (w).stages?.includes('toolbar'))) return false;
    return mine[0] === this;
  }

  /** Resolves when the widget's group has its state (and a shared link, if any, was applied). */
  get ready() {
    return this.store ? Promise.all([this.store.ready, openLink(this.store)]).then(() => this) : Promise.resolve(this);
  }

  /** A copy of the current state. */
  getState() {
    return this.store?.view ? structuredClone(this.store.view.state) : null;
  }

  /** Replace the state (validated by the core; throws with its message when invalid). */
  setState(state) {
    if (!this.store?.view) throw new Error('The widget is still loading; wait for element.ready.');
    return this.store.commit(state);
  }
}

/** Fetch a state's JSON text for the `src` attribute (resolved against the page's address). */
function fetchState(src) {
  const url = new URL(src, document.baseURI);
  // A server that never answers would leave the widget "Loading the model…" for ever.
  const signal = AbortSignal.timeout?.(SRC_TIMEOUT_MS);
  return fetch(url, { credentials: 'same-origin', signal }).then((r) => {
    if (!r.ok) throw new Error(`${url.href} answered ${r.status} ${r.statusText}`.trim());
    return r.text();
  }, (err) => {
    throw err?.name === 'TimeoutError' ? new Error(`${url.href} did not answer within ${SRC_TIMEOUT_MS / 1000} seconds`) : err;
  });
}
const SRC_TIMEOUT_MS = 15000;

/** The value at a dotted key ("loss.value", "derived.targetProbs.0") of a view, or undefined. */
function valueAt(view, key) {
  let value = view;
  for (const part of (key || '').split('.')) {
    if (value == null) break;
    value = value[part];
  }
  return value;
}

/** An element of the article that shows part of its group's view: `render(view)` on every change. */
class GroupView extends HTMLElement {
  connectedCallback() {
    const store = getStore(this.getAttribute('group') || 'default');
    store.ready.then(() => {
      this.render(store.view);
      this.unsubscribe?.();
      this.unsubscribe = store.subscribe((v) => this.render(v));
    }, () => {});
  }

  disconnectedCallback() {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** @param {any} _view */
  render(_view) {}
}

/**
 * <bp-when key="loss">…</bp-when>: its content shows only while the value at `key` is present
 * (not null, 0, false or empty); with `not`, only while it is absent. Lets the article's
 * sentences that quote the state read right when, say, no position has a target.
 */
export class BpWhen extends GroupView {
  render(view) {
    const value = valueAt(view, this.getAttribute('key'));
    const present = value != null && value !== false && value !== 0 && value !== '' && !Number.isNaN(value);
    this.hidden = this.hasAttribute('not') ? present : !present;
    this.dataset.ready = '';
  }
}

/** <bp-value key="loss.value" digits="3">: one live value from the group's view, as text. */
export class BpValue extends GroupView {
  render(view) {
    const value = valueAt(view, this.getAttribute('key'));
    const digits = Number(this.getAttribute('digits') ?? 3);
    if (typeof value === 'number') {
      const asInteger = Number.isInteger(value) && !this.hasAttribute('digits');
      setText(this, asInteger ? String(value) : fmt(value, digits));
      this.title = full(value);
      this.dataset.value = full(value);
    } else {
      setText(this, value == null ? '—' : String(value));
      this.removeAttribute('title');
      this.dataset.value = value == null ? '' : String(value);
    }
  }
}

if (!customElements.get('backprop-widget')) customElements.define('backprop-widget', BackpropWidget);
if (!customElements.get('bp-value')) customElements.define('bp-value', BpValue);
if (!customElements.get('bp-when')) customElements.define('bp-when', BpWhen);
