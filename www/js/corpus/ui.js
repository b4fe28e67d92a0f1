// @ts-check
// Small pieces the corpus section's elements share: a labelled field with its error line, and
// reading a number the reader typed (refused in words next to its field).
import { h, uniqueId, setText } from '../dom.js';
import { parseNumber } from '../format.js';

/**
 * A label around `control`, with a hint and an error line tied to it (aria-describedby), so
 * the error appears next to the field it is about.
 */
export function field(label, control, { hint = null, cls = '' } = {}) {
  const error = h('p', { class: 'field-error', id: uniqueId('err'), role: 'status' });
  error.hidden = true;
  const ids = [error.id];
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'field-hint', id: uniqueId('hint'), text: hint });
    ids.unshift(hintEl.id);
  }
  control.setAttribute('aria-describedby', ids.join(' '));
  const el = h('div', { class: `lab-field ${cls}`.trim() },
    h('label', { class: 'lab-label' }, h('span', { class: 'label-text', text: label }), control), hintEl, error);
  return {
    el,
    control,
    /** Show `text` as this field's error (null: none). */
    say(text) {
      error.hidden = !text;
      setText(error, text || '');
      if (text) control.setAttribute('aria-invalid', 'true'); else control.removeAttribute('aria-invalid');
    },
  };
}

/**
 * The number in `input`, or throws a message naming `what`. `integer`: a whole number;
 * `min`/`max`: its range (inclusive).
 */
export function readNumber(input, what, { integer = false, min = -Infinity, max = Infinity, above = null } = {}) {
  const p = parseNumber(input.value);
  if (p.error) throw new FieldError(input, `${what}: ${p.error.replace('(the cell is empty)', '(the field is empty)')}`);
  const v = p.value;
  if (integer && !Number.isInteger(v)) throw new FieldError(input, `${what} must be a whole number; “${input.value.trim()}” is not.`);
  if (above != null && !(v > above)) throw new FieldError(input, `${what} must be greater than ${above}.`);
  if (v < min || v > max) throw new FieldError(input, `${what} must be from ${min} to ${max}.`);
  return v;
}

/** A refused setting, with the input it is about. */
export class FieldError extends Error {
  constructor(input, message) {
    super(message);
    this.input = input;
  }
}
