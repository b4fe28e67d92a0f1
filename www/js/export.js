// @ts-check
// Export: any matrix of the current view as TSV, CSV or a LaTeX bmatrix, the whole state as a
// JSON file; import a JSON state file. Only formatting happens here: every number is one the
// wasm core produced, written at full precision (the shortest text that gives back the float64).
import { WEIGHT_INFO, ACTIVATION_INFO, weightLabels, activationLabels, namesOf } from './labels.js';
import { dLText } from './notation.js';
import { exactJson, unpackText, MAX_STATE_BYTES, ShareError } from './share.js';

// Rows may be arrays or typed-array views (large states computed in the worker).
const isRow = (x) => Array.isArray(x) || ArrayBuffer.isView(x);
const cells = (row) => Array.from(row);

/**
 * Every matrix of a view: { id, group, title, rows, cols, values } with values an array of rows
 * (null for a masked entry). Groups: weights, activations, weight gradients, activation gradients.
 */
export function matrixCatalogue(view) {
  const out = [];
  const { state } = view;
  const add = (id, group, title, labels, values) => {
    if (!values) return;
    // values are copied into plain rows only when asked for (the list is rebuilt on every edit).
    out.push({
      id, group, title, rows: labels.rows, cols: labels.cols,
      get values() { return values.length && isRow(values[0]) ? Array.from(values, cells) : [cells(values)]; },
    });
  };
  const activations = (source, group, prefix, titleOf) => {
    if (!source) return;
    for (const name of namesOf(view, 'activations')) {
      const value = source[name];
      if (!value) continue;
      const labels = activationLabels(name, view);
      if (labels.perHead) {
        value.forEach((head, h) => add(`${prefix}${name}.${h}`, group, `${titleOf(name)}, head ${h}`, labels, head));
      } else {
        add(`${prefix}${name}`, group, titleOf(name), labels, value);
      }
    }
  };
  for (const name of namesOf(view, 'weights')) {
    if (state.weights[name]) add(`w:${name}`, 'Weights', WEIGHT_INFO[name].title, weightLabels(name, view), state.weights[name]);
  }
  activations(view.forward, 'Forward pass', 'a:', (n) => ACTIVATION_INFO[n].title);
  if (view.backward) {
    for (const name of namesOf(view, 'weights')) {
      const g = view.backward.weights?.[name];
      if (g) add(`gw:${name}`, 'Gradients of the weights', dLText(name), weightLabels(name, view), g);
    }
  }
  activations(view.backward?.activations, 'Gradients of the activations', 'ga:', dLText);
  return out;
}

const num = (v) => (v == null ? '' : Object.is(v, -0) ? '-0' : String(v));

// A label that a spreadsheet would read as a formula (=, +, -, @) gets a leading apostrophe.
function spreadsheetText(s) {
  const text = String(s).replace(/[\t\r\n]+/g, ' ');
  return /^[=+\-@]/.test(text) ? `'${text}` : text;
}

function csvField(s) {
  const text = spreadsheetText(s);
  return /[",\s]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Tab-separated values with the row and column labels; numbers at full precision. */
function toTsv(matrix) {
  const m = { ...matrix, values: matrix.values };
  const lines = [['', ...m.cols].map(spreadsheetText).join('\t')];
  m.values.forEach((row, r) => lines.push([spreadsheetText(m.rows[r] ?? ''), ...row.map(num)].join('\t')));
  return `${lines.join('\n')}\n`;
}

/** Comma-separated values (RFC 4180 quoting) with the row and column labels. */
function toCsv(matrix) {
  const m = { ...matrix, values: matrix.values };
  const lines = [['', ...m.cols].map(csvField).join(',')];
  m.values.forEach((row, r) => lines.push([csvField(m.rows[r] ?? ''), ...row.map(num)].join(',')));
  return `${lines.join('\r\n')}\r\n`;
}

const LATEX_SPECIAL = {
  '\\': '\\textbackslash{}', '{': '\\{', '}': '\\}', '$': '\\$', '&': '\\&', '#': '\\#',
  '^': '\\textasciicircum{}', '_': '\\_', '%': '\\%', '~': '\\textasciitilde{}',
};

/** Plain text (a token name) made safe for LaTeX text mode: specials escaped, no line breaks. */
function latexEscape(s) {
  // eslint-disable-next-line no-control-regex
  return String(s).replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/[\\{}$&#^_%~]/g, (c) => LATEX_SPECIAL[c]);
}

/** A number for LaTeX: full precision, exponents as ×10^{n}. */
function latexNumber(v) {
  if (v == null) return '\\cdot';
  const [mant, exp] = num(v).split('e');
  return exp ? `${mant} \\times 10^{${Number(exp)}}` : mant;
}

/** A LaTeX bmatrix (amsmath); the labels go in comments, escaped. */
function toLatex(matrix) {
  const m = { ...matrix, values: matrix.values };
  const lines = [
    `% ${latexEscape(m.title)} (${m.values.length}×${m.values[0]?.length ?? 0})`,
    `% rows: ${m.rows.map(latexEscape).join(', ')}`,
    `% columns: ${m.cols.map(latexEscape).join(', ')}`,
  ];
  if (m.values.some((row) => row.some((v) => v == null))) lines.push('% \\cdot marks a masked entry');
  lines.push('\\begin{bmatrix}');
  m.values.forEach((row, r) => lines.push(`  ${row.map(latexNumber).join(' & ')}${r < m.values.length - 1 ? ' \\\\' : ''}`));
  lines.push('\\end{bmatrix}');
  return `${lines.join('\n')}\n`;
}

export const FORMATS = {
  tsv: { label: 'TSV (spreadsheets)', write: toTsv },
  csv: { label: 'CSV', write: toCsv },
  latex: { label: 'LaTeX bmatrix', write: toLatex },
};

/** Copy text to the clipboard. Resolves true on success, false when the browser refuses. */
export async function copyText(text) {
  try {
    if (!navigator.clipboard?.writeText) return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** The state as a JSON file the reader downloads (the link lives briefly in `parent`, inside the widget). */
export function downloadState(state, parent, filename = 'how-llms-learn-state.json') {
  downloadText(`${exactJson(state, true)}\n`, filename, 'application/json', parent);
}

/** The Python files of the core's exportJax / exportPytorch, by the framework's key. */
export const PYTHON_EXPORTS = {
  pytorch: { label: 'PyTorch', fn: 'exportPytorch', filename: 'how-llms-learn-pytorch.py', install: 'pip install torch' },
  jax: { label: 'JAX', fn: 'exportJax', filename: 'how-llms-learn-jax.py', install: 'pip install jax optax' },
};

/** A text file the reader downloads. */
export function downloadText(text, filename, type, parent) {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  parent.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Read a chosen file into a state the core accepts. Throws ShareError (or WorkerError). */
export async function readStateFile(file) {
  if (!file) throw new ShareError('No file was chosen.');
  if (file.size > MAX_STATE_BYTES) {
    throw new ShareError(`“${file.name}” is too large (${(file.size / 1024 / 1024).toFixed(1)} MB; at most ${MAX_STATE_BYTES / 1024 / 1024} MB).`);
  }
  let text;
  try { text = await file.text(); } catch { throw new ShareError(`“${file.name}” could not be read.`); }
  // Parsed and checked in the worker (share.js): a file of tens of megabytes does not hold the page.
  return (await unpackText(text, `“${file.name}”`)).state;
}
