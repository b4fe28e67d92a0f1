// The article's notation (www/js/notation.js) is the one source of every symbol: no symbol names
// two things, and no other module, the article or the core spells a symbol out by itself.
//
//   node --test tests/notation.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYMBOLS, WEIGHTS, ACTIVATIONS, tx, entry } from '../www/js/notation.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const files = (dir, ext) => readdirSync(join(ROOT, dir), { recursive: true })
  .filter((f) => f.endsWith(ext)).map((f) => join(ROOT, dir, f));
// Comments may name symbols; only code and text shown to the reader are checked.
const code = (src) => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');

test('no symbol names two things: every text and every LaTeX form is used by one entry', () => {
  for (const form of ['text', 'tex']) {
    const seen = new Map();
    for (const [key, s] of Object.entries(SYMBOLS)) {
      const v = s[form].replace(/\s+/g, '');
      assert.ok(!seen.has(v), `${form} "${s[form]}" is both ${seen.get(v)} and ${key}`);
      seen.set(v, key);
    }
  }
});

test('every weight and activation of the core has a symbol, a meaning and a shape', () => {
  const core = files('crate/src', '.rs').map((f) => readFileSync(f, 'utf8')).join('\n');
  for (const key of Object.keys({ ...WEIGHTS, ...ACTIVATIONS })) assert.ok(core.includes(`"${key}"`), `${key} is not a name of the core's JSON`);
  for (const s of Object.values({ ...WEIGHTS, ...ACTIVATIONS })) assert.ok(s.meaning && s.shape && s.text && s.tex);
});

test('tx and entry write symbols from the table', () => {
  assert.equal(tx`@q = @attnIn\,@wq`, 'Q = \\tilde X\\,{W_Q}');
  assert.equal(tx`@x1_t`, '{X_1}_t');
  assert.equal(entry('wq', [0, 1]), '(W_Q)_{0,1}');
  assert.equal(entry('attention', [1, 0], 0), 'A^{(0)}_{1,0}');
  assert.throws(() => tx`@nosuchsymbol`, /no symbol "nosuchsymbol"/);
});

// Multi-character symbols can be searched for without matching ordinary words or single letters.
const distinctive = Object.entries(SYMBOLS).flatMap(([key, s]) => [
  ...(/[_^\\]|[^\x20-\x7e]/.test(s.text) && s.text.length > 1 ? [{ key, form: s.text }] : []),
  ...(/[_\\]/.test(s.tex) && s.tex.length > 2 ? [{ key, form: s.tex.replace(/\\/g, '\\\\') }] : []), // as a JS string spells it
]).filter(({ form }) => !/^[a-z]_t$/.test(form)); // (y_t and the like are also plain index names)

test('no module but notation.js spells out a symbol: captions, formulas and the dialog use the table', () => {
  const hits = [];
  for (const file of files('www/js', '.js')) {
    if (file.endsWith('notation.js')) continue;
    const src = code(readFileSync(file, 'utf8'));
    for (const { key, form } of distinctive) if (src.includes(form)) hits.push(`${relative(ROOT, file)}: "${form}" (use ${key} from notation.js)`);
  }
  assert.deepEqual(hits, []);
});

test('@key placeholders in the panels name symbols that exist', () => {
  const unknown = [];
  for (const file of files('www/js', '.js')) {
    const src = code(readFileSync(file, 'utf8'));
    for (const [, key] of src.matchAll(/`[^`]*?@([A-Za-z][A-Za-z0-9]*)/g)) if (!SYMBOLS[key]) unknown.push(`${relative(ROOT, file)}: @${key}`);
  }
  assert.deepEqual(unknown, []);
});

test('the article writes its symbols with <bp-sym> from the table, never by hand', () => {
  const html = readFileSync(join(ROOT, 'www', 'index.html'), 'utf8');
  for (const [, key] of html.matchAll(/<bp-sym key="([^"]*)"/g)) assert.ok(SYMBOLS[key], `<bp-sym key="${key}"> is not in the table`);
  const text = html.replace(/<!--[\s\S]*?-->/g, '');
  const byHand = [...text.matchAll(/[A-Za-zα-ω]<su[bp]>/g)].map((m) => text.slice(m.index - 20, m.index + 20));
  assert.deepEqual(byHand, [], 'a symbol with a hand-written subscript: use <bp-sym key="…"></bp-sym>');
  for (const { key, form } of distinctive) assert.ok(!text.includes(form), `index.html writes "${form}" by hand: use <bp-sym key="${key}">`);
});

test('the Python exports report each number under the page\'s symbol for it', () => {
  const py = readFileSync(join(ROOT, 'crate/src/pyexport/check.py'), 'utf8');
  const table = py.match(/^SYMBOLS = \{([\s\S]*?)^\}/m);
  assert.ok(table, 'check.py has no SYMBOLS table');
  const pairs = [...table[1].matchAll(/"([A-Za-z0-9]+)": "([^"]*)"/g)];
  assert.ok(pairs.length >= Object.keys({ ...WEIGHTS, ...ACTIVATIONS }).length);
  for (const [, key, text] of pairs) {
    if (key === 'L') assert.equal(text, SYMBOLS.loss.text);
    else if (key !== 'terms') assert.equal(text, SYMBOLS[key]?.text, `check.py names ${key} "${text}", the page "${SYMBOLS[key]?.text}"`);
  }
  for (const key of Object.keys({ ...WEIGHTS, ...ACTIVATIONS })) assert.ok(pairs.some(([, k]) => k === key), `check.py has no symbol for ${key}`);
});

test('the symbol table covers exactly the core\'s registry (schema of a model with every switch on)', async () => {
  const core = await import(join(ROOT, 'www/pkg/how_llms_learn.js'));
  core.initSync({ module: readFileSync(join(ROOT, 'www/pkg/how_llms_learn_bg.wasm')) });
  const base = core.articleExample();
  const all = core.resize(base, { config: { ...base.config, layerNorm: true, dFf: 2 } });
  const schema = core.schema(all);
  // The legend lists symbols in reading order (layer norm 1 before W_Q), the core in its contract's.
  const sorted = (xs) => [...xs].sort();
  assert.deepEqual(sorted(Object.keys(WEIGHTS)), sorted(schema.weights.map((e) => e.name)));
  assert.deepEqual(sorted(Object.keys(ACTIVATIONS)), sorted(schema.activations.map((e) => e.name)));
});
