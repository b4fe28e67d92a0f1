// @ts-check
// Stage 1, the toy model: vocabulary, input tokens, end-of-sequence token and the
// model switches. Renames and token edits are plain string edits validated by the
// core; vocabulary and size changes go through the core's resize.
import { h, setText, errorMessage, uniqueId } from '../dom.js';
import { panelMessage } from './common.js';
import { symText } from '../notation.js';
import { readerError, sentence } from '../messages.js';

const D_MODEL = [1, 2, 3, 4, 5, 6, 8];
const D_FF = [0, 1, 2, 3, 4, 6, 8, 12, 16];
const CONTEXT = [1, 2, 3, 4, 5, 6, 8, 12, 16];
const PAGE = 64; // list entries shown at once
const BIG_VOCAB = 64; // above this, input tokens are typed (with suggestions) instead of chosen from a list
/** The end-of-sequence token the EOS menu offers to add: a token of its own, not a word. */
export const EOS_NAME = '⟨eos⟩';

export function mount(container, ctx) {
  const { store, readonly } = ctx;
  const { element: message, say, stale } = panelMessage(store);
  // Errors are shown next to the field that caused them (`where`: { host, control }): a line
  // appended to `host`, which `control` points to with aria-describedby. The core's message is
  // put in the reader's words first (messages.js). The next change clears them.
  let fieldErrors = [];
  let errorState = null; // the state the errors were shown for
  const clearFieldErrors = () => {
    for (const { line, control } of fieldErrors) {
      line.remove();
      if (control) { control.removeAttribute('aria-invalid'); control.removeAttribute('aria-describedby'); }
    }
    fieldErrors = [];
  };
  const fail = (where, text) => {
    clearFieldErrors();
    if (!where) { say(text, true); return; }
    say('');
    const line = h('p', { class: 'field-msg error', role: 'alert', id: uniqueId('field-msg'), text });
    where.host.append(line);
    if (where.control) {
      where.control.setAttribute('aria-invalid', 'true');
      where.control.setAttribute('aria-describedby', line.id);
    }
    fieldErrors.push({ line, control: where.control });
    errorState = store.view.state;
  };
  const attempt = (fn, success, where = null, name = undefined) => {
    try {
      fn();
      clearFieldErrors();
      say(success || '');
      return true;
    } catch (err) {
      const { text } = readerError(errorMessage(err), { name });
      fail(where, `${sentence(text)} Nothing was changed.`);
      return false;
    }
  };
  let pendingFocus = null;

  // ---- Vocabulary ----
  const vocabList = h('ol', { class: 'chip-list vocab-list' });
  const vocabSlot = h('div', { class: 'field-slot' });
  const newVocab = h('input', { type: 'text', class: 'text-input', 'aria-label': 'New vocabulary entry', placeholder: 'new token', autocomplete: 'off', spellcheck: 'false' });
  const addVocab = h('button', { type: 'button', class: 'btn', text: 'Add to vocabulary' });
  const doAddVocab = () => {
    const name = newVocab.value;
    const state = store.view.state;
    if (attempt(() => store.resize({ vocab: [...state.vocab, name] }, state), `Added “${name}” to the vocabulary.`, { host: vocabSlot, control: newVocab }, name)) newVocab.value = '';
  };
  addVocab.addEventListener('click', doAddVocab);
  newVocab.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); doAddVocab(); } });

  // ---- Input tokens ----
  const tokenList = h('ol', { class: 'chip-list token-list' });
  const tokenSlot = h('div', { class: 'field-slot' });
  const addToken = h('button', { type: 'button', class: 'btn', text: 'Add a token to the input' });
  addToken.addEventListener('click', () => {
    const { state } = store.view;
    if (state.tokens.length >= state.config.context) {
      fail({ host: tokenSlot, control: addToken }, `The context holds ${state.config.context} token${state.config.context === 1 ? '' : 's'}: raise the context length under “Model size” before adding more. Nothing was changed.`);
      return;
    }
    pendingFocus = `tok-${state.tokens.length}-select`;
    attempt(() => store.update((d) => { d.tokens.push(d.tokens[d.tokens.length - 1]); }), '', { host: tokenSlot, control: addToken });
  });
  const ids = h('output', { class: 'ids' });
  // Long lists (up to 512 vocabulary entries, 256 input tokens) are shown a page at a time.
  const pager = (what) => {
    let page = 0;
    let n = 0;
    const prev = h('button', { type: 'button', class: 'btn', text: `Previous ${PAGE}` });
    const next = h('button', { type: 'button', class: 'btn', text: `Next ${PAGE}` });
    const label = h('span', { class: 'pager-label', 'aria-live': 'polite' });
    const el = h('div', { class: 'row pager', hidden: true }, prev, label, next);
    const go = (d) => { page += d; renderLists(store.view.state); };
    prev.addEventListener('click', () => go(-1));
    next.addEventListener('click', () => go(1));
    return {
      el,
      sync(count) {
        n = count;
        const pages = Math.max(1, Math.ceil(n / PAGE));
        page = Math.max(0, Math.min(page, pages - 1));
        el.hidden = pages === 1;
        prev.disabled = page === 0;
        next.disabled = page >= pages - 1;
        setText(label, `${what} ${page * PAGE + 1}–${Math.min(n, (page + 1) * PAGE)} of ${n}`);
      },
      indices() {
        const out = [];
        for (let i = page * PAGE; i < Math.min(n, (page + 1) * PAGE); i += 1) out.push(i);
        return out;
      },
    };
  };
  const vocabPager = pager('Entries');
  const tokenPager = pager('Positions');
  const vocabOptionsId = `vocab-options-${Math.random().toString(36).slice(2, 8)}`;
  const vocabOptions = h('datalist', { id: vocabOptionsId });

  // ---- End of sequence ----
  const eosSelect = h('select', { class: 'select', dataset: { testid: 'eos-select' } });
  const eosSlot = h('div', { class: 'field-slot' });
  const eosNow = h('p', { class: 'eos-now', dataset: { testid: 'eos-now' } });
  const addEos = h('button', { type: 'button', class: 'btn', dataset: { action: 'add-eos' } });
  addEos.addEventListener('click', () => {
    const state = store.view.state;
    if (state.eos === EOS_NAME) return;
    const coalesce = `add-eos-${Date.now()}`;
    const choose = () => store.update((d) => { d.eos = EOS_NAME; }, { coalesce, sticky: true });
    const done = `“${EOS_NAME}” is the end-of-sequence token now: the last position learns to predict that the text ends.`;
    if (state.vocab.includes(EOS_NAME)) { attempt(choose, done, { host: eosSlot, control: addEos }); return; }
    attempt(() => {
      const grown = store.resize({ vocab: [...state.vocab, EOS_NAME] }, state, { coalesce });
      if (grown && typeof grown.then === 'function') grown.then(choose).catch(() => {});
      else choose();
    }, done, { host: eosSlot, control: addEos });
  });
  eosSelect.addEventListener('change', () => {
    const { state } = store.view;
    const i = Number(eosSelect.value);
    attempt(() => store.update((d) => { d.eos = i < 0 ? null : state.vocab[i]; }),
      i < 0 ? 'No end-of-sequence token: the last position has no target.' : `The last position now has the target “${state.vocab[i]}”.`,
      { host: eosSlot, control: eosSelect });
  });

  // ---- Switches ----
  const selects = {
    dModel: h('select', { class: 'select' }),
    nHeads: h('select', { class: 'select' }),
    dFf: h('select', { class: 'select' }),
    activation: h('select', { class: 'select' }, h('option', { value: 'relu', text: 'ReLU' }), h('option', { value: 'gelu', text: 'GELU' })),
    context: h('select', { class: 'select' }),
  };
  const layerNorm = h('input', { type: 'checkbox', class: 'checkbox' });
  const changeConfig = (patch, note) => {
    const { state } = store.view;
    const config = { ...state.config, ...patch };
    if (patch.dModel != null && config.dModel % config.nHeads !== 0) {
      config.nHeads = 1;
      note = `${note} Heads set to 1: ${state.config.nHeads} heads cannot split ${config.dModel} dimensions evenly.`;
    }
    attempt(() => store.resize({ config }, state), note);
  };
  selects.dModel.addEventListener('change', () => changeConfig({ dModel: Number(selects.dModel.value) }, `${symText('dModel')} is now ${selects.dModel.value}; overlapping weights were kept and new entries filled in.`));
  selects.nHeads.addEventListener('change', () => changeConfig({ nHeads: Number(selects.nHeads.value) }, `${selects.nHeads.value} attention head${selects.nHeads.value === '1' ? '' : 's'}.`));
  selects.dFf.addEventListener('change', () => changeConfig({ dFf: Number(selects.dFf.value) }, Number(selects.dFf.value) ? `Feed-forward size ${selects.dFf.value}.` : 'No feed-forward block.'));
  selects.activation.addEventListener('change', () => changeConfig({ activation: selects.activation.value }, `Activation: ${selects.activation.value === 'gelu' ? 'GELU' : 'ReLU'}.`));
  selects.context.addEventListener('change', () => {
    const context = Number(selects.context.value);
    if (context < store.view.state.tokens.length) {
      fail({ host: contextField, control: selects.context }, `The input has ${store.view.state.tokens.length} tokens, so the context must hold at least that many. Nothing was changed.`);
      selects.context.value = String(store.view.state.config.context);
      return;
    }
    changeConfig({ context }, `Context length ${context}.`);
  });
  layerNorm.addEventListener('change', () => changeConfig({ layerNorm: layerNorm.checked }, layerNorm.checked ? 'Layer norm switched on.' : 'Layer norm switched off.'));

  const reset = h('button', { type: 'button', class: 'btn', text: 'Reset to the article’s values' });
  reset.addEventListener('click', () => attempt(() => store.reset(), 'Back to the article’s example.'));

  const field = (text, control, hint) => h('div', { class: 'field' },
    h('label', null, h('span', { class: 'label-text', text }), control),
    hint ? h('span', { class: 'hint', text: hint }) : null);

  const contextField = field('Context length', selects.context);
  const heading = h('h3', { class: 'panel-title', text: 'The toy model' });
  container.append(
    heading,
    h('fieldset', { class: 'group', disabled: readonly },
      h('legend', { text: 'Vocabulary' }),
      h('p', { class: 'hint', text: 'Every token the model knows. Rename one by editing it; the input follows the new name.' }),
      vocabList,
      vocabPager.el,
      h('div', { class: 'row' }, newVocab, addVocab),
      vocabSlot),
    h('fieldset', { class: 'group', disabled: readonly },
      h('legend', { text: 'Input' }),
      tokenList,
      tokenPager.el,
      vocabOptions,
      h('div', { class: 'row' }, addToken),
      tokenSlot,
      h('p', { class: 'hint' }, 'Token ids (positions in the vocabulary): ', ids)),
    h('fieldset', { class: 'group', disabled: readonly },
      h('legend', { text: 'End of sequence' }),
      h('p', { class: 'hint', text: `An end-of-sequence token marks where a text ends. It is normally a token of its own that never occurs inside the text, such as ${EOS_NAME}: the last position then learns to predict that the text ends there. Choose an ordinary word instead and the last position is trained to predict that word, as if the text went on with it. Without one, the last position has no target.` }),
      field('End-of-sequence token', eosSelect),
      eosNow,
      readonly ? null : h('div', { class: 'row' }, addEos),
      eosSlot),
    h('fieldset', { class: 'group switches', disabled: readonly },
      h('legend', { text: 'Model size' }),
      field(`${symText('dModel')} (width of every vector)`, selects.dModel),
      field('Attention heads', selects.nHeads, `Only numbers that divide ${symText('dModel')} are offered.`),
      field('Feed-forward size (0 = none)', selects.dFf),
      field('Activation', selects.activation),
      contextField,
      h('div', { class: 'field checkbox-field' }, h('label', null, layerNorm, h('span', { class: 'label-text', text: 'Layer norm (before attention, feed-forward and output)' })))),
    readonly ? null : h('div', { class: 'row' }, reset),
    message,
  );

  let lastKey = '';
  let lastCfgKey = '';
  function renderLists(state) {
    const root = container.getRootNode();
    const focused = root.activeElement;
    const focusKey = pendingFocus || (focused && container.contains(focused) ? focused.dataset.key : null);
    pendingFocus = null;

    vocabPager.sync(state.vocab.length);
    tokenPager.sync(state.tokens.length);
    vocabList.replaceChildren(...vocabPager.indices().map((i) => {
      const name = state.vocab[i];
      const chip = h('li', { class: 'chip' });
      const input = h('input', {
        type: 'text', class: 'text-input', value: name, autocomplete: 'off', spellcheck: 'false',
        'aria-label': `Vocabulary entry ${i + 1}`, dataset: { key: `voc-${i}-name` },
      });
      input.addEventListener('change', () => {
        const oldName = store.view.state.vocab[i];
        const newName = input.value;
        if (newName === oldName) return;
        const ok = attempt(() => store.update((d) => {
          d.vocab[i] = newName;
          d.tokens = d.tokens.map((t) => (t === oldName ? newName : t));
          if (d.eos === oldName) d.eos = newName;
        }), `Renamed “${oldName}” to “${newName}”.`, { host: chip, control: input }, newName);
        if (!ok) input.value = oldName;
      });
      input.addEventListener('keydown', (e) => { if (e.key === 'Escape') { input.value = store.view.state.vocab[i]; } });
      const remove = h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': `Remove “${name}” from the vocabulary`, title: 'Remove', dataset: { key: `voc-${i}-remove` } },
        h('span', { 'aria-hidden': 'true', text: '✕' }));
      remove.addEventListener('click', () => {
        const s = store.view.state;
        const used = s.tokens.filter((t) => t === name).length;
        if (used) {
          fail({ host: chip, control: remove }, `“${name}” is used ${used === 1 ? 'once' : `${used} times`} in the input. Change or remove those tokens first; nothing was changed.`);
          return;
        }
        if (s.vocab.length === 1) { fail({ host: chip, control: remove }, 'The vocabulary needs at least one token; nothing was changed.'); return; }
        pendingFocus = `voc-${Math.max(0, i - 1)}-remove`;
        attempt(() => {
          const base = s.eos === name ? { ...s, eos: null } : s;
          store.resize({ vocab: s.vocab.filter((v) => v !== name) }, base);
        }, `Removed “${name}” from the vocabulary${s.eos === name ? ' (it was the end-of-sequence token, so there is none now)' : ''}.`, { host: chip, control: remove });
      });
      chip.append(h('span', { class: 'chip-index', text: String(i), 'aria-hidden': 'true' }), input, remove);
      return chip;
    }));

    const bigVocab = state.vocab.length > BIG_VOCAB;
    if (bigVocab) vocabOptions.replaceChildren(...state.vocab.map((v) => h('option', { value: v })));
    tokenList.replaceChildren(...tokenPager.indices().map((t) => {
      const tok = state.tokens[t];
      const chip = h('li', { class: 'chip' });
      let select;
      if (bigVocab) {
        select = h('input', { type: 'text', class: 'text-input', list: vocabOptionsId, value: tok, autocomplete: 'off', spellcheck: 'false', 'aria-label': `Input token at position ${t}`, dataset: { key: `tok-${t}-select` } });
        select.addEventListener('change', () => {
          const name = select.value;
          if (!store.view.state.vocab.includes(name)) {
            fail({ host: chip, control: select }, `“${name}” is not in the vocabulary. Pick one of its ${store.view.state.vocab.length} tokens; nothing was changed.`);
            select.value = store.view.state.tokens[t];
            return;
          }
          attempt(() => store.update((d) => { d.tokens[t] = name; }), '', { host: chip, control: select }, name);
        });
      } else {
        select = h('select', { class: 'select', 'aria-label': `Input token at position ${t}`, dataset: { key: `tok-${t}-select` } },
          state.vocab.map((v, j) => h('option', { value: String(j), text: v, selected: v === tok })));
        select.addEventListener('change', () => {
          const name = store.view.state.vocab[Number(select.value)];
          attempt(() => store.update((d) => { d.tokens[t] = name; }), '', { host: chip, control: select }, name);
        });
      }
      const move = (dir) => {
        const to = t + dir;
        pendingFocus = `tok-${to}-${dir < 0 ? 'left' : 'right'}`;
        attempt(() => store.update((d) => { [d.tokens[t], d.tokens[to]] = [d.tokens[to], d.tokens[t]]; }), '', { host: chip, control: null });
      };
      const left = h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': `Move position ${t} earlier`, title: 'Move earlier', disabled: t === 0, dataset: { key: `tok-${t}-left` } }, h('span', { 'aria-hidden': 'true', text: '←' }));
      const right = h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': `Move position ${t} later`, title: 'Move later', disabled: t === state.tokens.length - 1, dataset: { key: `tok-${t}-right` } }, h('span', { 'aria-hidden': 'true', text: '→' }));
      const remove = h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': `Remove position ${t} from the input`, title: 'Remove', dataset: { key: `tok-${t}-remove` } }, h('span', { 'aria-hidden': 'true', text: '✕' }));
      left.addEventListener('click', () => move(-1));
      right.addEventListener('click', () => move(1));
      remove.addEventListener('click', () => {
        if (store.view.state.tokens.length === 1) {
          fail({ host: chip, control: remove }, 'The input needs at least one token, so the last one cannot be removed. Choose a different token in its place instead; nothing was changed.');
          return;
        }
        pendingFocus = `tok-${Math.max(0, t - 1)}-select`;
        attempt(() => store.update((d) => { d.tokens.splice(t, 1); }), '', { host: chip, control: remove });
      });
      chip.append(h('span', { class: 'chip-index', text: String(t), 'aria-hidden': 'true' }), select, left, right, remove);
      return chip;
    }));

    if (focusKey) {
      const el = container.querySelector(`[data-key="${focusKey}"]`);
      if (el && !el.disabled) el.focus();
      else if (el) container.querySelector(`[data-key="${focusKey.replace(/-(left|right)$/, '-select')}"]`)?.focus();
    }
  }

  // What the chosen end-of-sequence token means for the last position.
  function paintEos(state) {
    const last = state.tokens[state.tokens.length - 1];
    const { eos } = state;
    addEos.hidden = eos === EOS_NAME;
    setText(addEos, state.vocab.includes(EOS_NAME) ? `Use “${EOS_NAME}”` : `Add “${EOS_NAME}” and use it`);
    if (eos == null) {
      setText(eosNow, `None chosen: the last position (“${last}”) has no target and is left out of the loss.`);
    } else if (state.tokens.includes(eos)) {
      setText(eosNow, `“${eos}” is an ordinary word of the input, not a token of its own. The last position (“${last}”) is now trained to predict the word “${eos}” next, as if the text went on with it, and nothing marks where the text ends.`);
    } else {
      setText(eosNow, `“${eos}” is the end-of-sequence token: the last position (“${last}”) learns to predict it, that is, that the text ends there.`);
    }
  }

  /** @param {HTMLSelectElement} select @param {number[]} values @param {number} current @param {(v: number) => string} [labelFn] */
  function fillSelect(select, values, current, labelFn = String) {
    const list = [...new Set([...values, current])].sort((a, b) => a - b);
    select.replaceChildren(...list.map((v) => h('option', { value: String(v), text: labelFn(v), selected: v === current })));
  }

  return {
    update(view) {
      const { state } = view;
      if (stale(state)) say('');
      if (errorState && state !== errorState) { clearFieldErrors(); errorState = null; }
      const key = JSON.stringify([state.vocab, state.tokens, state.eos]);
      if (key !== lastKey) {
        lastKey = key;
        renderLists(state);
      }
      setText(ids, `[${state.tokens.map((t) => state.vocab.indexOf(t)).join(', ')}]`);
      const cfgKey = JSON.stringify([state.vocab, state.eos, state.tokens.length, state.config]);
      if (cfgKey === lastCfgKey) return;
      lastCfgKey = cfgKey;
      paintEos(state);
      eosSelect.replaceChildren(h('option', { value: '-1', text: 'none', selected: state.eos == null }),
        ...state.vocab.map((v, j) => h('option', { value: String(j), text: v, selected: v === state.eos })));
      const c = state.config;
      fillSelect(selects.dModel, D_MODEL, c.dModel);
      const divisors = [];
      for (let n = 1; n <= c.dModel; n += 1) if (c.dModel % n === 0) divisors.push(n);
      fillSelect(selects.nHeads, divisors, c.nHeads);
      fillSelect(selects.dFf, D_FF, c.dFf, (v) => (v === 0 ? '0 (no feed-forward)' : String(v)));
      selects.activation.value = c.activation;
      selects.activation.disabled = c.dFf === 0;
      fillSelect(selects.context, CONTEXT.filter((n) => n >= state.tokens.length), c.context);
      layerNorm.checked = Boolean(c.layerNorm);
    },
  };
}
