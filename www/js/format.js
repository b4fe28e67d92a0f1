// @ts-check
// Number formatting for display. No maths on model values happens here — only
// turning numbers that the wasm core produced into text.

const DIGITS = 3;
const MINUS = '\u2212';

/** Fixed-precision text with a real minus sign; "+" prefix when signed. */
export function fmt(value, digits = DIGITS, signed = false) {
  if (value == null) return '—';
  if (typeof value !== 'number') return String(value);
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : `${MINUS}∞`;
  let text = value.toFixed(digits);
  const isNegZero = /^-0\.?0*$/.test(text);
  if (isNegZero) text = text.slice(1);
  if (text.startsWith('-')) return MINUS + text.slice(1);
  if (signed && !/^0\.?0*$/.test(text)) return `+${text}`;
  return text;
}

/** Full precision: the shortest text that round-trips to the same float64. */
export function full(value) {
  if (value == null) return 'masked';
  return String(value);
}

/**
 * Number for a LaTeX formula: plain digits, negative values in parentheses when asked. The
 * digits are marked as a slot (`\\htmlData{n=}{…}`), so a typeset formula whose next version
 * differs only in its numbers is patched in place instead of typeset again (katex.js).
 */
export function tex(value, digits = DIGITS, parens = false) {
  if (value == null) return '\\text{masked}';
  if (!Number.isFinite(value)) return value > 0 ? '\\infty' : '-\\infty';
  let text = value.toFixed(digits);
  if (/^-0\.?0*$/.test(text)) text = text.slice(1);
  if (parens && text.startsWith('-')) return `(${texSlot(text)})`;
  return texSlot(text);
}

/** A number in a formula, marked so that it can be replaced without typesetting again. */
export const texSlot = (digits) => `\\htmlData{n=}{${digits}}`;
/** Every slot of a formula; group 1 is its digits. */
export const TEX_SLOTS = /\\htmlData\{n=\}\{([^{}]*)\}/g;

/** Parse what a reader typed into a weight cell. Returns { value } or { error }. */
export function parseNumber(raw) {
  const text = String(raw ?? '').trim().replace(/\u2212/g, '-');
  if (text === '') return { error: 'Type a number (the cell is empty).' };
  if (/^[+-]?(nan|inf|infinity|∞)$/i.test(text)) {
    return { error: `“${text}” is not allowed: every weight must be a finite number.` };
  }
  let normalised = text;
  let commaNote = false;
  if (/^[+-]?\d*,\d+$/.test(text)) { normalised = text.replace(',', '.'); commaNote = true; }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(normalised)) {
    return { error: `“${text.slice(0, 24)}” is not a number. Use digits, a point for decimals, e.g. 0.25 or -1.5e-2.` };
  }
  const value = Number(normalised);
  if (!Number.isFinite(value)) return { error: `“${text.slice(0, 24)}” is too large: numbers must be finite.` };
  return { value, note: commaNote ? `Read “${text}” as ${normalised}.` : null };
}

/**
 * Below this magnitude a number prints as 0.000 (with `digits` decimals), so it gets no colour:
 * a cell must never look saturated beside a printed zero (1e-40 is not "a lot").
 */
export const colourFloor = (digits = DIGITS) => 0.5 * 10 ** -digits;

/**
 * Relative magnitude 0…1 of v against the largest magnitude in a matrix; 0 (neutral) below
 * `floor`, and for every entry when the largest one is itself below it.
 */
export function magnitude(value, maxAbs, floor = 0) {
  if (value == null || !Number.isFinite(value) || !(maxAbs > 0)) return 0;
  const a = Math.abs(value);
  if (a < floor || maxAbs < floor) return 0;
  return Math.min(1, a / maxAbs);
}
