// @ts-check
// The derivation dialog's factors, written in the article's notation. The core describes each
// factor as data ({ kind, name, index }, see docs/API.md); this module writes it once as LaTeX
// for KaTeX and once as plain text for titles and labels. Every symbol comes from notation.js,
// so the dialog names a number exactly as the panels' captions and formulas do.
import { SYMBOLS, sym, symText } from './notation.js';

// A symbol with its own subscript (W_Q, γ₁, X̃₁) goes in parentheses before an index is added:
// (W_Q)_{0,1} rather than the ambiguous W_Q_{0,1}.
const groupTex = (t) => (/[_^]/.test(t) ? `(${t})` : t);
const groupText = (t) => (/[_₀-₉^]/.test(t) ? `(${t})` : t);

/** An entry of a weight or activation; scores and attention carry their head as (h), from 0. */
function entry(name, index) {
  if (!SYMBOLS[name]) return { tex: '\\text{?}', text: '?' };
  const tex = sym(name);
  const text = symText(name);
  if (index.length === 3) {
    const [h, ...rest] = index;
    return { tex: `${tex}^{(${h})}_{${rest.join(',')}}`, text: `${text}^{(${h})}_{${rest.join(',')}}` };
  }
  return { tex: `${groupTex(tex)}_{${index.join(',')}}`, text: `${groupText(text)}_{${index.join(',')}}` };
}

const L = () => ({ tex: sym('loss'), text: symText('loss') });
const partial = (e, display) => ({
  tex: display ? `\\frac{\\partial ${L().tex}}{\\partial ${e.tex}}` : `\\partial ${L().tex}/\\partial ${e.tex}`,
  text: `∂${L().text}/∂${e.text}`,
});

const CONSTANTS = {
  invCount: () => ({
    tex: `\\frac{1}{${sym('count')}}`, text: `1/${symText('count')}`,
    words: `${symText('count')} is the number of positions that have a target`,
  }),
  invSqrtHead: () => ({
    tex: `\\frac{1}{\\sqrt{${sym('headSize')}}}`, text: `1/√${symText('headSize')}`,
    words: `${symText('headSize')} is the number of columns of one head`,
  }),
};
const FUNCTIONS = { relu: 'ReLU', gelu: 'GELU' };
const LAYER_NORMS = { ln1: 'layer norm 1', ln2: 'layer norm 2', lnf: 'the final layer norm' };
// σ_t and x̂_t from the table, with the row (and column) put in place of its t.
const rowOf = (key, idx) => sym(key).replace(/_t$/, `_{${idx.join(',')}}`);
const rowText = (key, idx) => symText(key).replace(/_t$/, `_{${idx.join(',')}}`);

/**
 * { tex, text, words } for a factor or a reference inside a mean. `display` picks the taller
 * forms (fractions) for the formula; `words` says what a symbol that is not a model entry means.
 */
export function symbol(f, display = false) {
  const idx = f.index || [];
  switch (f.kind) {
    case 'activation': case 'weight': return entry(f.name, idx);
    case 'gradient': return partial(entry(f.name, idx), display);
    case 'constant': return CONSTANTS[f.name]?.() ?? { tex: '\\text{?}', text: '?' };
    case 'target': {
      const base = sym('target');
      return { tex: `${base}_{${idx.join(',')}}`, text: `${symText('target')}_{${idx.join(',')}}`, words: `1 when token ${idx[1]} is the target of position ${idx[0]}, otherwise 0` };
    }
    case 'slope': {
      const u = entry('u', idx);
      const fn = FUNCTIONS[f.name] ?? f.name;
      return { tex: `\\mathrm{${fn}}'(${u.tex})`, text: `${fn}′(${u.text})`, words: `the slope of ${fn} at ${u.text}` };
    }
    case 'reciprocal': {
      const e = entry(f.name, idx);
      return { tex: display ? `\\frac{1}{${e.tex}}` : `1/${e.tex}`, text: `1/${e.text}` };
    }
    case 'invStd': {
      const s = rowOf('std', [idx[0]]);
      return {
        tex: display ? `\\frac{1}{${s}}` : `1/${s}`,
        text: `1/${rowText('std', [idx[0]])}`,
        words: `one over the standard deviation of row ${idx[0]} in ${LAYER_NORMS[f.name]}`,
      };
    }
    case 'normalized': return {
      tex: rowOf('normalised', idx),
      text: rowText('normalised', idx),
      words: `the input of ${LAYER_NORMS[f.name]} at ${idx.join(',')}, normalised (before its gain and bias)`,
    };
    case 'exp': {
      const e = entry(f.name, idx);
      return { tex: `e^{${e.tex} - m}`, text: `e^(${e.text} − m)`, words: `e to the power of ${e.text} minus m, the largest entry of its row that the softmax reads` };
    }
    case 'invSumExp': {
      // The row's entries r, written like the entry itself with r in place of its column.
      const e = entry(f.name, [...idx, 'r']);
      const sum = `\\sum_r e^{${e.tex} - m}`;
      return { tex: display ? `\\frac{1}{${sum}}` : `1/${sum}`, text: `1/Σ_r e^(${e.text} − m)`, words: 'one over the sum of the exponentials of the row' };
    }
    case 'activated': {
      const u = entry('u', idx);
      const fn = FUNCTIONS[f.name] ?? f.name;
      return { tex: `\\mathrm{${fn}}(${u.tex})`, text: `${fn}(${u.text})`, words: `${fn} applied to ${u.text}` };
    }
    case 'mean': {
      const parts = (f.of || []).map((r) => symbol(r, false));
      return {
        tex: `\\operatorname{mean}_k\\big(${parts.map((p) => p.tex).join('\\,')}\\big)`,
        text: `mean_k(${parts.map((p) => p.text).join(' · ')})`,
        words: `the mean over the columns k of row ${idx[0]} in ${LAYER_NORMS[f.name]}`,
      };
    }
    default: return { tex: '\\text{?}', text: '?' };
  }
}

/** Plain text for a screen reader: "∂L/∂S^{(0)}_{1,0}" becomes "∂L/∂S head 0 at 1,0". */
export function spoken(text) {
  return text.replace(/\^\{\((\d+)\)\}/g, ' head $1').replace(/_\{([^}]*)\}/g, ' at $1');
}

/**
 * The cell { group, name, index } a factor names when it has an explanation of its own: a
 * gradient entry its derivation; in a forward explanation (`forward`), an activation entry the
 * way the forward pass computed it.
 */
export function factorCell(f, forward = false) {
  if (f.kind === 'gradient') return { group: 'activations', name: f.name, index: f.index };
  if (forward && f.kind === 'activation') return { group: 'forward', name: f.name, index: f.index };
  return null;
}

/** What a cell's dialog explains: ∂L/∂(entry) for a gradient cell, the entry itself for a forward one. */
export function cellSymbol(cell, display = false) {
  const e = entry(cell.name, cell.index);
  return cell.group === 'forward' ? e : partial(e, display);
}

/**
 * The sum (chain rule, or forward computation) as a formula, written out term by term from the core's factors,
 * `perLine` terms a line (1 keeps it inside a phone's width). A long sum shows its first and
 * last terms.
 */
export function formulaTex(cell, terms, perLine = 2) {
  const lhs = cellSymbol(cell, true).tex;
  if (!terms.length) return `${lhs} = 0`;
  const shown = terms.length > 7 ? [...terms.slice(0, 4), null, terms[terms.length - 1]] : terms;
  const parts = shown.map((t, k) => {
    if (!t) return '+ \\cdots';
    const sign = t.sign < 0 ? '-' : k ? '+' : '';
    return `${sign} ${t.factors.map((f) => symbol(f, true).tex).join('\\,')}`;
  });
  const lines = [];
  for (let k = 0; k < parts.length; k += perLine) lines.push(parts.slice(k, k + perLine).join(' '));
  return `\\begin{aligned}${lhs} &= ${lines.join('\\\\ &\\quad ')}\\end{aligned}`;
}
