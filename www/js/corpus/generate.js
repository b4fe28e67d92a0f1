// @ts-check
// <bp-corpus-generate>: the model writes. A prompt, greedy or sampled decoding (temperature,
// seed), at most so many tokens; the text the initial weights write beside the text the current
// ones write, each generated token with the probability it had (its whole distribution on
// demand). The core generates (the forward pass alone, in the worker); this shows it.
import { h, setText, errorMessage } from '../dom.js';
import { fmt, full } from '../format.js';
import { getLab } from './lab.js';
import { corpusError } from './messages.js';
import { probabilityBars } from './attention.js';
import { field, readNumber, FieldError } from './ui.js';

const MAX_TOKENS = 64; // the core's limit

class CorpusGenerate extends HTMLElement {
  connectedCallback() {
    if (this.started) return;
    this.started = true;
    const lab = getLab();
    const num = (value, testid) => h('input', { type: 'text', inputmode: 'decimal', class: 'text-input num-input', value, autocomplete: 'off', dataset: { testid } });
    const prompt = field('Prompt', h('input', { type: 'text', class: 'text-input', autocomplete: 'off', spellcheck: 'false', dataset: { testid: 'gen-prompt' } }));
    const greedy = h('input', { type: 'radio', name: 'corpus-decoding', value: 'greedy', checked: true });
    const sampled = h('input', { type: 'radio', name: 'corpus-decoding', value: 'sampled' });
    const temperature = field('Temperature', num('1', 'gen-temperature'));
    const seed = field('Sampling seed', num('1', 'gen-seed'));
    const maxTokens = field('At most this many new tokens', num('12', 'gen-max'));
    const decoding = h('fieldset', { class: 'lab-options' }, h('legend', { text: 'Decoding' }),
      h('label', { class: 'radio' }, greedy, ' greedy (always the likeliest)'), ' ',
      h('label', { class: 'radio' }, sampled, ' sampled (a weighted random draw)'));
    const go = h('button', { type: 'button', class: 'btn btn-primary', text: 'Generate', dataset: { testid: 'gen-run' } });
    const message = h('p', { class: 'lab-status', role: 'status' });
    const before = h('div', { class: 'gen-col', dataset: { testid: 'gen-before' } });
    const after = h('div', { class: 'gen-col', dataset: { testid: 'gen-after' } });
    this.replaceChildren(h('div', { class: 'lab-panel corpus-generate' },
      h('div', { class: 'lab-grid' }, prompt.el, decoding, temperature.el, seed.el, maxTokens.el),
      h('div', { class: 'row buttons' }, go), message,
      h('div', { class: 'gen-compare' }, before, after)));
    const sampling = () => { temperature.control.disabled = !sampled.checked; seed.control.disabled = !sampled.checked; };
    greedy.addEventListener('change', sampling);
    sampled.addEventListener('change', sampling);
    sampling();

    const fields = [prompt, temperature, seed, maxTokens];
    const read = () => ({
      maxTokens: readNumber(maxTokens.control, 'The number of new tokens', { integer: true, min: 1, max: MAX_TOKENS }),
      temperature: sampled.checked ? readNumber(temperature.control, 'The temperature', { above: 0, max: 100 }) : 0,
      seed: sampled.checked ? readNumber(seed.control, 'The seed', { integer: true, min: 0, max: 2 ** 32 - 1 }) : 0,
    });

    let asked = 0;
    go.addEventListener('click', async () => {
      for (const f of fields) f.say(null);
      let options;
      try { options = read(); } catch (err) {
        const f = err instanceof FieldError ? fields.find((x) => x.control === err.input) : null;
        if (f) f.say(err.message); else setText(message, errorMessage(err));
        return;
      }
      const id = ++asked;
      const text = prompt.control.value;
      const trained = Boolean(lab.run && lab.run.done > 0);
      setText(message, 'Generating…');
      try {
        const [first, now] = await Promise.all([
          lab.generate(0, text, options),
          trained ? lab.generate(null, text, options) : null,
        ]);
        if (id !== asked) return;
        setText(message, '');
        show(before, 'Before training (step 0)', first, text);
        if (now) show(after, `After training (step ${lab.run.done})`, now, text);
        else after.replaceChildren(h('h3', { class: 'lab-title', text: 'After training' }), h('p', { class: 'field-hint', text: 'Train the model first: then the same prompt is written again by the trained weights, here.' }));
      } catch (err) {
        if (id !== asked) return;
        setText(message, '');
        const e = corpusError(errorMessage(err));
        prompt.say(e.text);
      }
    });

    function show(col, title, result, text) {
      const vocab = lab.built.vocab;
      const words = result.steps.map((s, i) => {
        const name = s.token;
        const bar = h('span', { class: 'bar' });
        bar.style.width = `${(100 * s.probability).toFixed(1)}%`;
        return h('li', { class: 'gen-token', dataset: { token: name, value: full(s.probability) } },
          h('details', null,
            h('summary', { 'aria-label': `${name}, probability ${fmt(s.probability, 3)}: show the distribution` },
              h('span', { class: 'name', text: name }), h('span', { class: 'track' }, bar), h('span', { class: 'p', text: fmt(s.probability, 3) })),
            h('p', { class: 'field-hint', text: `Step ${i + 1}: the likeliest next tokens` }),
            probabilityBars(s.probs, vocab, name, { tag: 'chosen' })));
      });
      col.replaceChildren(h('h3', { class: 'lab-title', text: title }),
        h('p', { class: 'gen-prompt' }, 'Prompt: ', h('q', { text: text.trim() })),
        h('ol', { class: 'gen-tokens', 'aria-label': `${title}: generated tokens` }, ...words),
        h('p', { class: 'gen-text', dataset: { testid: 'gen-text' } }, 'Text: ', h('q', { text: result.tokens.join(' ') })));
      const why = {
        eos: `It stopped at ${lab.built.eos}: the model ended the sentence.`,
        context: `It stopped when the text filled the context (${lab.built.config.context} tokens, all this model can read): its last choice, “${result.steps[result.steps.length - 1]?.token ?? ''}”, is listed but could not be added to the text.`,
        maxTokens: `It stopped after ${result.steps.length} token${result.steps.length === 1 ? '' : 's'}, the limit.`,
      }[result.stopped];
      if (why) col.append(h('p', { class: 'field-hint', text: why }));
    }

    let shownFor = null; // the build the texts shown were written by
    lab.subscribe(() => {
      go.disabled = !lab.built || lab.status === 'lost' || lab.status === 'building';
      if (lab.built && !prompt.control.value) prompt.control.value = lab.built.sequences[0]?.[0] ?? '';
      if (lab.built !== shownFor) {
        // Another model: what the last one wrote no longer belongs here.
        if (shownFor) { before.replaceChildren(); after.replaceChildren(); prompt.say(null); }
        shownFor = lab.built;
      }
    });
  }
}

if (!customElements.get('bp-corpus-generate')) customElements.define('bp-corpus-generate', CorpusGenerate);
