// @ts-check
// <bp-try action="eos">Add an end-of-sequence token</bp-try>: a guided experiment in the
// article's text. One click changes the group's state through the store's ordinary commit (so
// Undo restores it) and a line under the button says what happened, with numbers from the core.
// That line is about the state the click made, so it disappears as soon as the state moves on.
import { h, setText, errorMessage } from './dom.js';
import { fmt } from './format.js';
import { getStore } from './store.js';
import { richText } from './legend.js';
import { readerError } from './messages.js';
import { EOS_NAME } from './panels/model.js';

/** The learning rate the "overshoot" experiment uses: one SGD step from the article's example
 * raises the loss from 1.011 to 195.3 (tests/e2e/article.e2e.mjs checks it with the core). */
export const OVERSHOOT_RATE = 9;
/** The rate of the Adam/SGD comparison: both start from the same weights. */
export const COMPARE_RATE = 0.1;
/** The bias that switches a hidden unit off at every position of the article's inputs. */
export const DEAD_BIAS = -3;

const loss4 = (x) => fmt(x, 4);
const upDown = (a, b) => (b > a ? 'went up' : b < a ? 'went down' : 'stayed');

// Each action changes the state through the store (or says why it cannot) and resolves with the
// sentence to show; `@key` in a sentence is a symbol of notation.js.
const ACTIONS = {
  async eos(store) {
    const state = store.view.state;
    if (state.eos != null) return `There already is an end-of-sequence token, “${state.eos}”.`;
    const coalesce = `try-eos-${Date.now()}`; // the new token and its choice are one undo step
    if (!state.vocab.includes(EOS_NAME)) await store.resize({ vocab: [...state.vocab, EOS_NAME] }, state, { coalesce });
    await store.update((d) => { d.eos = EOS_NAME; }, { coalesce, sticky: true });
    const v = store.view;
    return `Added “${EOS_NAME}” as the end-of-sequence token: now ${v.derived.targetCountText}, and the loss is ${loss4(v.loss.value)}.`;
  },
  async long(store) {
    const state = store.view.state;
    const n = state.config.context;
    if (state.tokens.length >= n) return `The input already fills the context (${n} tokens).`;
    const tokens = Array.from({ length: n }, (_, i) => state.tokens[i % state.tokens.length]);
    await store.update((d) => { d.tokens = tokens; });
    const v = store.view;
    return `The input is now “${tokens.join(' ')}”: ${v.derived.targetCountText}, and the loss is ${loss4(v.loss.value)}.`;
  },
  async overshoot(store) {
    const options = { optimizer: 'sgd', learningRate: OVERSHOOT_RATE };
    store.setTraining(options);
    const r = (await store.step(options)).result;
    return `One SGD step with @learningRate = ${OVERSHOOT_RATE}: the loss ${upDown(r.lossBefore, r.lossAfter)}, from ${loss4(r.lossBefore)} to ${loss4(r.lossAfter)}.`;
  },
  async dead(store) {
    const state = store.view.state;
    const F = state.config.dFf;
    if (!F || state.config.activation !== 'relu') return 'This needs the feed-forward block with ReLU: switch them on in the model panel first.';
    const j = F > 1 ? 1 : 0;
    await store.setWeight('b1', [j], DEAD_BIAS);
    const facts = store.view.derived.facts;
    return facts.deadUnitsText
      ? `@b1 entry ${j} is now ${DEAD_BIAS}: unit ${facts.deadUnitsText} of @hidden is 0 at every position, so its column of ∂@loss/∂@w1 is all zero and no step will ever change it.`
      : `@b1 entry ${j} is now ${DEAD_BIAS}, but unit h${j} still fires somewhere: try a lower value in the forward pass.`;
  },
  async adam(store) {
    // The SGD step from the same weights is only compared with, never adopted.
    const sgd = await store.preview({ optimizer: 'sgd', learningRate: COMPARE_RATE });
    if (!Number.isFinite(sgd.lossAfter)) throw new Error(`the loss after the step is ${sgd.lossAfter}`);
    const options = { optimizer: 'adam', learningRate: COMPARE_RATE };
    store.setTraining(options);
    const adam = (await store.step(options)).result;
    return `One Adam step with @learningRate = ${COMPARE_RATE}: the loss went from ${loss4(adam.lossBefore)} to ${loss4(adam.lossAfter)}. SGD with the same @learningRate from the same weights reaches ${loss4(sgd.lossAfter)}.`;
  },
};

export class BpTry extends HTMLElement {
  connectedCallback() {
    if (this.button) { this.connect(); return; }
    const action = ACTIONS[this.getAttribute('action')];
    const store = getStore(this.getAttribute('group') || 'default');
    this.button = h('button', { type: 'button', class: 'try-btn', disabled: true }, 'Try it: ', this.textContent.trim());
    this.status = h('p', { class: 'try-result', role: 'status' });
    this.replaceChildren(this.button, this.status);
    if (!action) { setText(this.status, `Unknown experiment “${this.getAttribute('action')}”.`); return; }
    let madeState = null; // the state the last click made: its sentence shows only while it lasts
    // The optimiser settings are not part of the state, so Undo alone would leave the
    // experiment's learning rate in the update panel: they are put back when the state is.
    let undo = null; // { state, training }: the state before the click and the settings then
    this.follow = (view) => {
      if (madeState && view.state !== madeState) { madeState = null; this.say(''); }
      if (undo && view.state === undo.state) { store.setTraining(undo.training); undo = null; }
    };
    this.store = store;
    this.connect();
    this.button.addEventListener('click', async () => {
      if (store.view?.large) { this.say('This experiment is for the article’s small model: reset the page first.', true); return; }
      try {
        const settings = store.training;
        // (Before any update panel set them, the page's settings are the store's defaults.)
        const before = { state: store.view.state, training: settings ?? store.stepOptions() };
        const sentence = await action(store);
        if (store.training !== settings && store.view.state !== before.state && !before.training.error) undo = before;
        madeState = store.view.state;
        this.dataset.state = String(store.view.version);
        this.say(`${sentence} Undo puts it back.`);
      } catch (err) {
        this.say(`That did not work here: ${readerError(errorMessage(err)).text}`, true);
      }
    });
  }

  /** Follows the store while connected (again after a move in the document). */
  connect() {
    const store = this.store;
    if (!store) return;
    store.ready.then(() => {
      if (!this.isConnected || this.unsubscribe) return;
      this.button.disabled = false;
      this.unsubscribe = store.subscribe(this.follow);
    }, () => {});
  }

  disconnectedCallback() {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  say(text, isError = false) {
    this.status.replaceChildren(...richText(text));
    this.status.classList.toggle('error', isError);
  }
}

if (!customElements.get('bp-try')) customElements.define('bp-try', BpTry);
