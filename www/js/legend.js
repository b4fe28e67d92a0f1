// @ts-check
// The article's notation for the reader: <bp-sym key="wo"> writes one symbol in running text
// (its meaning on hover), and <bp-notation> lists every symbol of notation.js, the same table
// the formulas, captions and the derivation dialog are written from.
import { h } from './dom.js';
import { WEIGHTS, ACTIVATIONS, OTHERS } from './notation.js';

const ALL = { ...WEIGHTS, ...ACTIVATIONS, ...OTHERS };

/** A symbol's text as nodes: "W_Q" -> W<sub>Q</sub>, "X_f" -> X<sub>f</sub>; others as they are. */
function symbolNodes(text) {
  const m = /^(.+?)_(.+)$/.exec(text);
  return m ? [m[1], h('sub', { text: m[2] })] : [text];
}

// "n_vocab × d_model" with its sizes subscripted like the symbols.
const shapeNodes = (shape) => shape.split(' × ').flatMap((part, i) => [i ? ' × ' : null, ...symbolNodes(part)]).filter((x) => x != null);

// Weight, activation and size symbols with a subscript ("W_Q", "X_f", "d_model"), longest first.
const SUBSCRIPTED = [...Object.values(WEIGHTS), ...Object.values(ACTIVATIONS), OTHERS.dModel, OTHERS.dFf, OTHERS.vocabSize, OTHERS.context]
  .map((s) => s.text).filter((t) => t.includes('_')).sort((a, b) => b.length - a.length);
const SUBSCRIPTED_RE = new RegExp(`(${SUBSCRIPTED.join('|')})`);

/** A caption (our own text, never the reader's) with its symbols subscripted: "∂L/∂W_Q" -> ∂L/∂W<sub>Q</sub>. */
export function captionNodes(text) {
  return text.split(SUBSCRIPTED_RE).filter(Boolean)
    .map((part) => (SUBSCRIPTED.includes(part) ? h('span', { class: 'sym' }, ...symbolNodes(part)) : part));
}

/**
 * Text with @key placeholders as nodes, each symbol written as in the legend (with its meaning
 * on hover): richText('Widen @mlpIn with @w1') for a caption or a step's prose.
 */
export function richText(text) {
  return text.split(/(@[A-Za-z][A-Za-z0-9]*)/).filter(Boolean).map((part) => {
    const s = part.startsWith('@') ? ALL[part.slice(1)] : null;
    if (!s) return part;
    return h('span', { class: 'sym', title: s.meaning }, ...symbolNodes(s.text));
  });
}

class BpSym extends HTMLElement {
  connectedCallback() {
    const s = ALL[this.getAttribute('key')];
    if (!s) { this.textContent = '?'; return; }
    this.replaceChildren(...symbolNodes(s.text));
    this.title = s.meaning;
  }
}

const GROUPS = [
  ['Weights (what training changes)', WEIGHTS],
  ['Activations (what the forward pass computes)', ACTIVATIONS],
  ['Other symbols', OTHERS],
];

class BpNotation extends HTMLElement {
  connectedCallback() {
    if (this.childElementCount) return;
    this.append(...GROUPS.map(([title, table]) => h('table', { class: 'notation-table' },
      h('caption', { text: title }),
      h('thead', null, h('tr', null, h('th', { scope: 'col', text: 'Symbol' }), h('th', { scope: 'col', text: 'Meaning' }),
        table === OTHERS ? null : h('th', { scope: 'col', text: 'Shape' }))),
      h('tbody', null, Object.entries(table).map(([key, s]) => h('tr', { dataset: { key } },
        h('th', { scope: 'row', class: 'notation-sym' }, ...symbolNodes(s.text)),
        h('td', { text: s.meaning }),
        table === OTHERS ? null : h('td', { class: 'notation-shape' }, ...shapeNodes(s.shape))))))));
  }
}

if (!customElements.get('bp-sym')) customElements.define('bp-sym', BpSym);
if (!customElements.get('bp-notation')) customElements.define('bp-notation', BpNotation);
