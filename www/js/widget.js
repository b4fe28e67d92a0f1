// <backprop-widget stage="forward" group="default" readonly>: renders one or more
// stages of the walkthrough in its own shadow root. Elements with the same group
// share one state. <bp-value key="loss.value"> shows one live number as text.
import { h, setText, errorMessage } from './dom.js';
import { fmt, full } from './format.js';
import { getStore, installShortcuts } from './store.js';
import { loadKatex, KATEX_CSS } from './katex.js';
import { DerivationDialog } from './derivation.js';
import * as toolbar from './panels/toolbar.js';
import * as model from './panels/model.js';
import * as forward from './panels/forward.js';
import * as target from './panels/target.js';
import * as loss from './panels/loss.js';
import * as backward from './panels/backward.js';
import * as update from './panels/update.js';

const PANELS = { toolbar, model, forward, target, loss, backward, update };
const ALL = ['model', 'forward', 'target', 'loss', 'backward', 'update'];
const WIDGET_CSS = new URL('../css/widget.css', import.meta.url).href;

function stylesheet(href) {
  const link = h('link', { rel: 'stylesheet', href });
  const loaded = new Promise((resolve) => {
    link.addEventListener('load', resolve, { once: true });
    link.addEventListener('error', resolve, { once: true });
  });
  return { link, loaded };
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
    const sheets = [stylesheet(WIDGET_CSS), stylesheet(KATEX_CSS)];
    this.body = h('div', { class: 'bp', part: 'body' });
    this.body.hidden = true;
    this.status = h('p', { class: 'bp-status', role: 'status', text: 'Loading the model…' });
    root.append(...sheets.map((s) => s.link), this.status, this.body);
    const group = this.getAttribute('group') || 'default';
    const inline = this.querySelector(':scope > script[type="application/json"]');
    this.store = getStore(group, inline ? inline.textContent : null);
    Promise.all([this.store.ready, loadKatex(), ...sheets.map((s) => s.loaded)])
      .then(() => this.mount())
      .catch((err) => {
        this.status.textContent = `The model core could not be loaded (${errorMessage(err)}). Check that the page was built with npm run build.`;
        this.status.classList.add('error');
      });
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
    const dialog = new DerivationDialog(root);
    const ctx = {
      store,
      core: store.core,
      root,
      readonly: this.hasAttribute('readonly'),
      openDerivation: (cell, anchor) => dialog.open(store.core, store.view, cell, anchor),
    };
    this.panels = this.stages.map((stage) => {
      const container = h('section', { class: `panel panel-${stage}`, dataset: { stage } });
      this.body.append(container);
      return PANELS[stage].mount(container, ctx);
    });
    if (!this.panels.length) {
      this.body.append(h('p', { class: 'error', text: `Unknown stage “${this.getAttribute('stage')}”. Use one of: ${ALL.join(', ')}, toolbar or all.` }));
    }
    this.status.remove();
    this.body.hidden = false;
    this.render(store.view);
    this.subscribe();
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

  /** A copy of the current state. */
  getState() {
    return this.store?.view ? structuredClone(this.store.view.state) : null;
  }

  /** Replace the state (validated by the core; throws with its message when invalid). */
  setState(state) {
    this.store.commit(state);
  }
}

/** <bp-value key="loss.value" digits="3">: one live value from the group's view, as text. */
export class BpValue extends HTMLElement {
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

  render(view) {
    let value = view;
    for (const part of (this.getAttribute('key') || '').split('.')) {
      if (value == null) break;
      value = value[part];
    }
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
