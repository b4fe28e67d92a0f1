// @ts-check
// <bp-corpus-training>: the training run's settings (steps, optimiser, learning rate, mini-batch
// size and seed), Train / Pause / Resume, a progress bar and the loss curve. The run happens in
// the worker in short chunks (lab.js); this element only shows what comes back.
import { h, setText } from '../dom.js';
import { fmt } from '../format.js';
import { symText } from '../notation.js';
import { getLab } from './lab.js';
import { LossCurve } from './curve.js';
import { field, readNumber, FieldError } from './ui.js';

export const DEFAULT_STEPS = 2000;
const MAX_STEPS = 20000;
// With these the preset corpus is memorised within the default 2,000 steps (greedy generation gives
// back all twelve sentences) along a curve that takes most of the run, not its first 50 steps.
const DEFAULT_RATE = { adam: '0.001', sgd: '0.1' };

class CorpusTraining extends HTMLElement {
  connectedCallback() {
    if (this.started) return;
    this.started = true;
    const lab = getLab();
    const num = (value, testid) => h('input', { type: 'text', inputmode: 'decimal', class: 'text-input num-input', value, autocomplete: 'off', dataset: { testid } });
    const steps = field('Steps', num(String(DEFAULT_STEPS), 'train-steps'));
    const sgd = h('input', { type: 'radio', name: 'corpus-optimizer', value: 'sgd' });
    const adam = h('input', { type: 'radio', name: 'corpus-optimizer', value: 'adam', checked: true });
    const rate = field(`Learning rate ${symText('learningRate')}`, num(DEFAULT_RATE.adam, 'train-rate'));
    const batch = field('Mini-batch size (sentences per step)', num('4', 'train-batch'));
    const seed = field('Mini-batch seed', num('1', 'train-seed'));
    const optimiser = h('fieldset', { class: 'lab-options' },
      h('legend', { text: 'Optimiser' }),
      h('label', { class: 'radio' }, sgd, ' SGD'), ' ', h('label', { class: 'radio' }, adam, ' Adam'));
    const trainBtn = h('button', { type: 'button', class: 'btn btn-primary', text: 'Train', dataset: { testid: 'train-start' } });
    const pauseBtn = h('button', { type: 'button', class: 'btn', text: 'Pause', dataset: { testid: 'train-pause' } });
    const progress = h('progress', { class: 'train-progress', max: '1', value: '0', 'aria-label': 'Training progress', dataset: { testid: 'train-progress' } });
    const progressText = h('p', { class: 'progress-text', dataset: { testid: 'train-progress-text' } });
    const message = h('p', { class: 'lab-status', role: 'status', dataset: { testid: 'train-message' } });
    const curve = new LossCurve({ label: 'Loss curve' });
    this.replaceChildren(h('div', { class: 'lab-panel corpus-training' },
      h('div', { class: 'lab-grid' }, steps.el, optimiser, rate.el, batch.el, seed.el),
      h('div', { class: 'row buttons' }, trainBtn, pauseBtn),
      message, progress, progressText, curve.el));

    let rateTouched = false;
    rate.control.addEventListener('input', () => { rateTouched = true; });
    for (const r of [sgd, adam]) {
      r.addEventListener('change', () => {
        if (!rateTouched) rate.control.value = DEFAULT_RATE[adam.checked ? 'adam' : 'sgd'];
      });
    }

    /** The run's settings, or throws a FieldError next to the field it is about. */
    const read = () => {
      const n = lab.built.sequences.length;
      const size = readNumber(batch.control, 'The mini-batch size', { integer: true, min: 1, max: n });
      const options = {
        optimizer: adam.checked ? 'adam' : 'sgd',
        learningRate: readNumber(rate.control, 'The learning rate', { above: 0 }),
        batch: { size, seed: readNumber(seed.control, 'The seed', { integer: true, min: 0, max: 2 ** 32 - 1 }) },
      };
      return { options, total: readNumber(steps.control, 'The number of steps', { integer: true, min: 1, max: MAX_STEPS }) };
    };
    const fields = [steps, rate, batch, seed];
    trainBtn.addEventListener('click', () => {
      for (const f of fields) f.say(null);
      try {
        const { options, total } = read();
        lab.train(options, total);
      } catch (err) {
        const f = err instanceof FieldError ? fields.find((x) => x.control === err.input) : null;
        if (f) f.say(err.message); else setText(message, String(err.message || err));
      }
    });
    pauseBtn.addEventListener('click', () => {
      if (lab.status === 'training') lab.pause(); else lab.resume();
    });

    lab.subscribe(() => {
      const run = lab.run;
      const ready = Boolean(lab.built) && lab.status !== 'lost';
      trainBtn.disabled = !ready || lab.busy;
      setText(trainBtn, lab.status === 'training' ? 'Training…' : run ? 'Train again from the start' : 'Train');
      for (const f of [...fields.map((x) => x.control), sgd, adam]) f.disabled = lab.status === 'training';
      const canResume = lab.status === 'paused' && run && run.done < run.total;
      pauseBtn.disabled = lab.pausing || !(lab.status === 'training' || canResume);
      setText(pauseBtn, lab.pausing ? 'Pausing…' : lab.status === 'training' ? 'Pause' : 'Resume');
      this.dataset.status = lab.status;
      if (!run) {
        progress.value = 0;
        setText(progressText, lab.built ? `Not trained yet: the loss is ${fmt(lab.built.loss, 4)} on the training sentences${Number.isFinite(lab.built.heldOutLoss) ? ` and ${fmt(lab.built.heldOutLoss, 4)} on the held-out one` : ''}.` : '');
        setText(message, lab.notice || '');
        curve.update(lab.built ? { losses: [lab.built.loss], heldOutLosses: [lab.built.heldOutLoss ?? NaN], done: 0, total: 1 } : null);
        return;
      }
      progress.max = run.total;
      progress.value = run.done;
      const last = run.losses[run.done];
      const held = run.heldOutLosses[run.done];
      setText(progressText, `${run.done.toLocaleString('en')} of ${run.total.toLocaleString('en')} steps · training loss ${fmt(last, 4)}`
        + `${Number.isFinite(held) ? ` · held-out loss ${fmt(held, 4)}` : ''}`);
      progressText.dataset.done = String(run.done);
      setText(message, lab.notice || (run.stopped ? `Training stopped early: ${run.stopped}` : lab.status === 'paused' ? 'Paused: Resume goes on from here.' : ''));
      curve.update(run);
    });
  }
}

if (!customElements.get('bp-corpus-training')) customElements.define('bp-corpus-training', CorpusTraining);
