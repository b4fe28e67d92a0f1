// The article's symbols for the numbers a derivation names. The core describes each factor as
// data ({ kind, name, index }, see docs/API.md); this module writes it, once as LaTeX for KaTeX
// and once as plain text for titles and labels. Weights and activations take their symbols from
// labels.js, so a symbol changed there changes here too; only the few symbols that are not
// entries of the model (1/N, Y, σ, x̂, the activation functions) are written below.
import { WEIGHT_INFO, ACTIVATION_INFO } from './labels.js';

const info = (kind, name) => (kind === 'weight' ? WEIGHT_INFO[name] : ACTIVATION_INFO[name]);

// A symbol with its own subscript (W_Q, γ₁, X̃₁) goes in parentheses before an index is added:
// (W_Q)_{0,1} rather than the ambiguous W_Q_{0,1}.
const groupTex = (t) => (t.includes('_') ? `(${t})` : t);
const groupText = (t) => (/[_₀-₉^]/.test(t) ? `(${t})` : t);

/** An entry of a weight or activation; scores and attention carry their head as (h), from 0. */
function entry(kind, name, index) {
  const i = info(kind, name);
  if (!i) return { tex: `\\text{?}`, text: '?' };
  if (index.length === 3) {
    const [h, ...rest] = index;
    return { tex: `${i.tex}^{(${h})}_{${rest.join(',')}}`, text: `${i.sym}^{(${h})}_{${rest.join(',')}}` };
  }
  return { tex: `${groupTex(i.tex)}_{${index.join(',')}}`, text: `${groupText(i.sym)}_{${index.join(',')}}` };
}

const partial = (e, display) => ({
  tex: display ? `\\frac{\\partial L}{\\partial ${e.tex}}` : `\\partial L/\\partial ${e.tex}`,
  text: `∂L/∂${e.text}`,
});

const CONSTANTS = {
  invCount: { tex: '\\frac{1}{N}', text: '1/N', words: 'N is the number of positions that have a target' },
  invSqrtHead: { tex: '\\frac{1}{\\sqrt{D}}', text: '1/√D', words: 'D is the number of columns of one head' },
};
const FUNCTIONS = { relu: 'ReLU', gelu: 'GELU' };
const LAYER_NORMS = { ln1: 'layer norm 1', ln2: 'layer norm 2', lnf: 'the final layer norm' };

/**
 * { tex, text, words } for a factor or a reference inside a mean. `display` picks the taller
 * forms (fractions) for the formula; `words` says what a symbol that is not a model entry means.
 */
export function symbol(f, display = false) {
  const idx = f.index || [];
  switch (f.kind) {
    case 'activation': case 'weight': return entry(f.kind, f.name, idx);
    case 'gradient': return partial(entry('activation', f.name, idx), display);
    case 'constant': return CONSTANTS[f.name] ?? { tex: '\\text{?}', text: '?' };
    case 'target': {
      const s = `Y_{${idx.join(',')}}`;
      return { tex: s, text: s, words: `1 when token ${idx[1]} is the target of position ${idx[0]}, otherwise 0` };
    }
    case 'slope': {
      const u = entry('activation', 'u', idx);
      const fn = FUNCTIONS[f.name] ?? f.name;
      return { tex: `\\mathrm{${fn}}'(${u.tex})`, text: `${fn}′(${u.text})`, words: `the slope of ${fn} at ${u.text}` };
    }
    case 'reciprocal': {
      const e = entry('activation', f.name, idx);
      return { tex: display ? `\\frac{1}{${e.tex}}` : `1/${e.tex}`, text: `1/${e.text}` };
    }
    case 'invStd': return {
      tex: display ? `\\frac{1}{\\sigma_{${idx[0]}}}` : `1/\\sigma_{${idx[0]}}`,
      text: `1/σ_{${idx[0]}}`,
      words: `one over the standard deviation of row ${idx[0]} in ${LAYER_NORMS[f.name]}`,
    };
    case 'normalized': return {
      tex: `\\hat{x}_{${idx.join(',')}}`,
      text: `x̂_{${idx.join(',')}}`,
      words: `the input of ${LAYER_NORMS[f.name]} at ${idx.join(',')}, normalised (before its gain and bias)`,
    };
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

/** The cell { group, name, index } a gradient factor names: it has a derivation of its own. */
export function factorCell(f) {
  return f.kind === 'gradient' ? { group: 'activations', name: f.name, index: f.index } : null;
}

/** ∂L/∂(entry) for a cell { group, name, index }. */
export function cellGradient(cell, display = false) {
  return partial(entry(cell.group === 'weights' ? 'weight' : 'activation', cell.name, cell.index), display);
}

/**
 * The chain-rule sum as a formula, written out term by term from the core's factors,
 * `perLine` terms a line (1 keeps it inside a phone's width). A long sum shows its first and
 * last terms.
 */
export function formulaTex(cell, terms, perLine = 2) {
  const lhs = cellGradient(cell, true).tex;
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
