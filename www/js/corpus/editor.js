// @ts-check
// <bp-corpus-editor>: the reader's corpus (one sentence per line) and held-out sentence, "Build
// the model", and what the core built from them: the vocabulary as chips and the model's size.
// A refused corpus is explained next to its field; the last good model stays. The text typed is
// kept in this browser (a reload brings it back), so the reader's corpus is never lost.
import { h, setText } from '../dom.js';
import { symText } from '../notation.js';
import { getLab } from './lab.js';
import { field } from './ui.js';

const STORAGE_KEY = 'how-llms-learn:v1:corpus';
function readKept() {
  try {
    const kept = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
    return kept && typeof kept.text === 'string' && typeof kept.heldOut === 'string' ? kept : null;
  } catch { return null; }
}

class CorpusEditor extends HTMLElement {
  connectedCallback() {
    if (this.started) return;
    this.started = true;
    const lab = getLab();
    const text = h('textarea', { class: 'corpus-text', rows: '10', spellcheck: 'false', autocomplete: 'off', dataset: { testid: 'corpus-text' } });
    const held = h('textarea', { class: 'corpus-text corpus-held', rows: '2', spellcheck: 'false', autocomplete: 'off', dataset: { testid: 'corpus-held' } });
    const textField = field('Training text, one sentence per line', text, { hint: 'Words and punctuation become tokens; capitals are read as lower case. At most 4,096 characters.' });
    const heldField = field('Held-out sentences (never trained on), one per line', held, { hint: 'Only words of the training text. Their loss shows whether what the model learns carries over, or whether it only memorises.' });
    const build = h('button', { type: 'button', class: 'btn btn-primary', text: 'Build the model', dataset: { testid: 'corpus-build' } });
    const status = h('p', { class: 'lab-status', role: 'status', dataset: { testid: 'corpus-status' } });
    const vocabTitle = h('h3', { class: 'lab-title' });
    const chips = h('ul', { class: 'chips', 'aria-label': 'Vocabulary', dataset: { testid: 'corpus-vocab' } });
    const size = h('p', { class: 'model-size', dataset: { testid: 'corpus-size' } });
    const result = h('div', { class: 'corpus-result' }, vocabTitle, chips, size);
    result.hidden = true;
    this.replaceChildren(h('div', { class: 'lab-panel corpus-editor' },
      textField.el, heldField.el, h('div', { class: 'row buttons' }, build), status, result));

    const kept = readKept();
    let saveTimer = 0;
    const save = () => {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(() => {
        try {
          localStorage.setItem(STORAGE_KEY, JSON.stringify({ text: text.value, heldOut: held.value }));
        } catch {
          setText(status, 'This browser could not keep your text (its storage is full or turned off): it stays on this page until you close it.');
        }
      }, 300);
    };
    text.addEventListener('input', save);
    held.addEventListener('input', save);

    let answered = 0;
    const run = async () => {
      const ok = await lab.build(text.value, held.value.trim() ? held.value : null);
      if (ok) save();
      // How many builds were answered (tests wait for the next one).
      this.dataset.answered = String(++answered);
    };
    build.addEventListener('click', run);

    let builtVersion = null;
    lab.subscribe(() => {
      build.disabled = lab.busy;
      const err = lab.error;
      textField.say(err && err.field !== 'heldOut' ? err.text : null);
      heldField.say(err && err.field === 'heldOut' ? err.text : null);
      if (lab.status === 'building') setText(status, 'Building the model…');
      else if (err && lab.built) setText(status, 'This text could not be used, so the model built from the last good text is kept.');
      else if (err) setText(status, 'No model yet: change the text and build again.');
      else if (lab.built) setText(status, '');
      if (!lab.built || lab.built === builtVersion) return;
      builtVersion = lab.built;
      const b = lab.built;
      result.hidden = false;
      setText(vocabTitle, `Vocabulary: ${b.vocab.length} tokens`);
      chips.replaceChildren(...b.vocab.map((name) => h('li', { class: `chip${name === b.eos ? ' chip-eos' : ''}`, text: name })));
      const c = b.config;
      setText(size, `Model: ${symText('dModel')} = ${c.dModel}, ${c.nHeads} attention head${c.nHeads === 1 ? '' : 's'}, `
        + `${symText('dFf')} = ${c.dFf}, ${symText('context')} = ${c.context}: ${b.weightCount.toLocaleString('en')} weights, `
        + `trained on ${b.sequences.length} sentence${b.sequences.length === 1 ? '' : 's'}`
        + `${b.heldOut?.length ? `, ${b.heldOut.length} held out` : ''}.`);
    });

    // When the section comes near, the preset (from the core's full module, which the worker
    // fetches then) fills the fields and the model is built: a reader who never scrolls this far
    // never starts the worker or downloads that module for it.
    const near = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      near.disconnect();
      lab.preset().then((preset) => {
        if (!text.value) text.value = kept?.text ?? preset.text;
        if (!held.value) held.value = kept?.heldOut ?? preset.heldOut;
        if (!lab.built && !lab.busy) run();
      }).catch(() => setText(status, 'The model core could not be loaded, so nothing can be built here.'));
    }, { rootMargin: '800px 0px' });
    near.observe(this);
  }
}

if (!customElements.get('bp-corpus-editor')) customElements.define('bp-corpus-editor', CorpusEditor);
