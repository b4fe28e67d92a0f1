// @ts-check
// <bp-corpus-timeline>: a slider over the recorded steps of the training run. At the step picked
// it shows the losses, each head's attention map for a sentence the reader picks and one
// position's next-token probabilities (all computed by the core in the worker for that
// snapshot), and loads the snapshot into the walkthrough's panels as one undoable change.
import { h, setText, errorMessage } from '../dom.js';
import { fmt } from '../format.js';
import { getStore } from '../store.js';
import { getLab } from './lab.js';
import { SNAPSHOT_BUDGET_BYTES } from './snapshots.js';
import { attentionTable, refillAttentionTable, probabilityBars } from './attention.js';
import { field } from './ui.js';

const MB = 1024 * 1024;
/** How often the timeline shows the newest step while a run goes on (ms). */
const FOLLOW_MS = 500;

class CorpusTimeline extends HTMLElement {
  connectedCallback() {
    if (this.started) return;
    this.started = true;
    const lab = getLab();
    const sentence = field('Sentence', h('select', { class: 'select', dataset: { testid: 'timeline-sentence' } }));
    const slider = h('input', { type: 'range', min: '0', max: '0', step: '1', value: '0', class: 'timeline-slider', dataset: { testid: 'timeline-slider' } });
    const sliderField = field('Recorded step', slider);
    const position = field('Next token after', h('select', { class: 'select', dataset: { testid: 'timeline-position' } }));
    const stepLine = h('p', { class: 'timeline-step', role: 'status', dataset: { testid: 'timeline-step' } });
    const maps = h('div', { class: 'attention-maps', dataset: { testid: 'timeline-attention' } });
    const probs = h('div', { class: 'next-probs', dataset: { testid: 'timeline-probs' } });
    const budget = h('p', { class: 'field-hint', dataset: { testid: 'timeline-budget' } });
    const open = h('button', { type: 'button', class: 'btn', text: 'Open this step in the walkthrough', dataset: { testid: 'timeline-open' } });
    const opened = h('p', { class: 'lab-status', role: 'status', dataset: { testid: 'timeline-opened' } });
    const body = h('div', { class: 'timeline-body' },
      h('div', { class: 'lab-grid' }, sliderField.el, sentence.el), stepLine, budget,
      h('h3', { class: 'lab-title', text: 'Attention: how much each position reads each earlier one' }), maps,
      h('h3', { class: 'lab-title', text: 'Next-token probabilities' }), position.el, probs,
      h('div', { class: 'row buttons' }, open), opened);
    const empty = h('p', { class: 'field-hint', text: 'Build a model above; its recorded steps appear here.' });
    this.replaceChildren(h('div', { class: 'lab-panel corpus-timeline' }, empty, body));
    body.hidden = true;

    let follow = true; // the slider stays on the newest recorded step until the reader moves it
    let sentencesOf = null;
    let list = []; // [{ tokens, heldOut }]
    let shown = null; // the last inspect result painted
    let asked = 0;
    let inFlight = null; // the step and sentence of the request on its way
    let shownAt = 0;

    const steps = () => lab.recorded?.steps ?? [];
    const pickedStep = () => steps()[Number(slider.value)] ?? 0;
    const pickedTokens = () => list[Number(sentence.control.value)]?.tokens ?? null;

    async function inspect() {
      const step = pickedStep();
      const tokens = pickedTokens();
      if (!tokens || lab.status === 'lost') return;
      const key = `${step}|${sentence.control.value}`;
      if (key === inFlight) return; // already asked; the answer will paint
      inFlight = key;
      const id = ++asked;
      try {
        const r = await lab.inspect(step, tokens);
        if (id !== asked) return;
        inFlight = null;
        shown = { ...r, sentence: key.split('|')[1] };
        shownAt = performance.now();
        paint();
      } catch (err) {
        if (id !== asked) return;
        inFlight = null;
        setText(stepLine, `This step could not be shown: ${errorMessage(err)}`);
      }
    }

    function paint() {
      const r = shown;
      if (!r) return;
      const built = lab.built;
      const held = Number.isFinite(r.heldOutLoss) ? `, held-out loss ${fmt(r.heldOutLoss, 4)}` : '';
      setText(stepLine, `After step ${r.step}: training loss ${fmt(r.loss, 4)}${held}.`);
      stepLine.dataset.step = String(r.step);
      const sel = position.control;
      const key = r.tokens.join('\u0000');
      if (maps.dataset.key === key && maps.children.length === r.attention.length) {
        r.attention.forEach((head, i) => refillAttentionTable(/** @type {HTMLTableElement} */ (maps.children[i]), head));
      } else {
        maps.replaceChildren(...r.attention.map((head, i) => attentionTable(head, r.tokens, i)));
        maps.dataset.key = key;
      }
      if (sel.dataset.key !== key) {
        sel.dataset.key = key;
        sel.replaceChildren(...r.tokens.map((t, i) => h('option', { value: String(i), text: `${i}: “${t}”` })));
        sel.value = String(r.tokens.length - 1);
      }
      const t = Number(sel.value);
      const actual = t + 1 < r.tokens.length ? r.tokens[t + 1] : built.eos;
      probs.replaceChildren(probabilityBars(r.probs[t], built.vocab, actual));
    }

    sentence.control.addEventListener('change', inspect);
    position.control.addEventListener('change', paint);
    slider.addEventListener('input', () => {
      follow = Number(slider.value) === steps().length - 1;
      slider.setAttribute('aria-valuetext', `step ${pickedStep()}`);
      inspect();
    });

    open.addEventListener('click', () => openInWalkthrough(lab, pickedStep(), pickedTokens(), opened));

    lab.subscribe(() => {
      const built = lab.built;
      empty.hidden = Boolean(built);
      body.hidden = !built;
      if (!built) return;
      open.disabled = lab.status === 'lost';
      if (sentencesOf !== built) {
        sentencesOf = built;
        list = [...built.sequences.map((tokens) => ({ tokens, heldOut: false })), ...(built.heldOut ?? []).map((tokens) => ({ tokens, heldOut: true }))];
        sentence.control.replaceChildren(...list.map((s, i) => h('option', { value: String(i), text: `${s.tokens.join(' ')}${s.heldOut ? ' (held out)' : ''}` })));
        follow = true;
        shown = null;
        setText(opened, '');
      }
      const all = steps();
      const before = pickedStep();
      slider.max = String(Math.max(0, all.length - 1));
      const index = follow ? all.length - 1 : Math.max(0, all.indexOf(before));
      slider.value = String(index);
      slider.setAttribute('aria-valuetext', `step ${pickedStep()}`);
      setText(budget, budgetText(lab.recorded));
      budget.dataset.bytes = String(lab.recorded.bytes);
      // While a run goes on, the newest step is shown at most every FOLLOW_MS: each one costs
      // the page a repaint, and the run's own requests come first.
      if (shown && follow && lab.status === 'training' && performance.now() - shownAt < FOLLOW_MS) return;
      if (!shown || shown.step !== pickedStep() || shown.sentence !== sentence.control.value) inspect();
    });
  }
}

/** What the snapshots take, against their budget. */
function budgetText({ steps, interval, bytes, snapshotBytes }) {
  const n = steps.length;
  return `${n} snapshot${n === 1 ? '' : 's'} recorded, every ${interval} steps, taking ${(bytes / MB).toFixed(2)} MiB of the `
    + `${SNAPSHOT_BUDGET_BYTES / MB} MiB kept for them (${(snapshotBytes / 1024).toFixed(1)} KiB each; when the next would not fit, every other one is dropped).`;
}

/**
 * Recorded step `step`, reading `tokens`, becomes the walkthrough's state: one commit to its
 * store, so one Undo brings back what the reader had there. Says so (or why not) in `opened`.
 */
async function openInWalkthrough(lab, step, tokens, opened) {
  setText(opened, 'Loading…');
  try {
    const state = await lab.snapshotState(step, tokens);
    const store = getStore('default');
    await store.ready;
    await store.commit(state);
    opened.replaceChildren(`Step ${step}, reading “${tokens.join(' ')}”, is now the model of the walkthrough above, from `,
      h('a', { href: '#model', text: 'the model' }), ' to ', h('a', { href: '#update', text: 'the update' }),
      '. Undo in the bar at the top brings back the model you had there.');
  } catch (err) {
    setText(opened, `That step could not be opened in the walkthrough: ${errorMessage(err)}`);
  }
}

if (!customElements.get('bp-corpus-timeline')) customElements.define('bp-corpus-timeline', CorpusTimeline);
