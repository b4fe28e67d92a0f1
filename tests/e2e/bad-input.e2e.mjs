// Bad input never breaks the widget or loses the reader's work (issue 6), in Chromium.
//
//   node tests/e2e/bad-input.e2e.mjs [filter…]     (part of npm run test:e2e; needs npm run build)
//
// A table-driven catalogue: each case does one bad thing through the UI of www/index.html (a
// weight cell, the vocabulary, the input, the model switches, the learning rate, a link, a large
// state…), then checks the message the reader sees and that the state is what it was before
// (getState() compared before and after). The page runs under its own Content-Security-Policy
// (no bypass here): any 'securitypolicyviolation' event fails the run. Large states at the
// contract's limits must be computed in the worker: checked by what reaches the worker and by the
// main thread's wasm memory (harness.mjs installSpy), while their long tasks are reported, not
// asserted. Prints the catalogue with each case's result; screenshots go to tests/e2e/screenshots/.

import { assert, eq, finishSuite, frames, installSpy, launch, recordConsoleProblems, serve, spied, waitReady, prepareSuite, selection } from './harness.mjs';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const WWW = join(ROOT, 'www');
const SHOTS = join(HERE, 'screenshots');
const ONLY = selection();
// The goal is no main-thread task over 100 ms: reported in each large-state case (and measured by
// npm run bench), never asserted, as a task's length on a shared machine is not a test. What is
// asserted is where the work runs: a state at the contract's limits parsed or computed on the main
// thread would grow its wasm memory by its weights alone (about 8 MB), gradients and activations.
const LONG_TASK_GOAL = 100; // ms, reported
const MAIN_WASM_GROWTH = 4 * 1024 * 1024; // bytes the main thread's wasm may grow by meanwhile
const goalMet = (tasks) => `long tasks: ${tasks.length ? tasks.join(', ') : 'none'} ms (goal ≤ ${LONG_TASK_GOAL}: ${Math.max(0, ...tasks) <= LONG_TASK_GOAL ? 'met' : 'missed'})`;

prepareSuite('bad-input');

// ---------- server ----------
const BASE = await serve(WWW);

// ---------- harness ----------
const results = []; // { id, area, what, ok, outcome, err }
const consoleProblems = [];
let browser;
let expectedCspViolations = 0; // the deliberate inline-script probe

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function selected(id) {
  return !ONLY.length || ONLY.some((o) => id.toLowerCase().includes(o.toLowerCase()));
}

/**
 * Run one catalogue case as a node:test test: fn returns the outcome text (what the reader was
 * told / what happened), printed under the case and kept for the catalogue at the end.
 */
function run(id, area, what, fn) {
  return test(`${id} ${what}`, { skip: !selected(`${id} ${area} ${what}`) && 'not selected on the command line' }, async () => {
    try {
      const outcome = await fn();
      results.push({ id, area, what, ok: true, outcome: String(outcome ?? '') });
      console.log(`       ${id} → ${String(outcome ?? '').slice(0, 200)}`);
    } catch (err) {
      results.push({ id, area, what, ok: false, err });
      throw err;
    }
  });
}

async function openPage({ width = 1280, height = 900, path = '/index.html', clear = true } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height } });
  const page = await ctx.newPage();
  recordConsoleProblems(page, consoleProblems);
  await installSpy(page);
  page.on('dialog', (d) => { consoleProblems.push(`dialog opened: ${d.message()}`); d.dismiss().catch(() => {}); });
  // Injected by the browser (not an inline script): collects CSP violations and long tasks.
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    window.__longTasks = [];
    try {
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(Math.round(e.duration)); })
        .observe({ type: 'longtask', buffered: true });
    } catch { /* no longtask support */ }
  });
  await page.goto(`${BASE}${path}`);
  await waitReady(page);
  if (clear) await page.evaluate(() => localStorage.clear());
  return { page, ctx };
}


const W = (stage) => `backprop-widget[stage="${stage}"]`;
const cellInput = (name, r, c) => `${W('forward')} figure[data-name="${name}"] td[data-r="${r}"][data-c="${c}"] input`;

const getState = (page) => page.evaluate(() => document.querySelector('backprop-widget[stage="forward"]').getState());
const setState = (page, state) => page.evaluate((s) => {
  try { document.querySelector('backprop-widget[stage="forward"]').setState(s); return null; } catch (err) { return err.message; }
}, state);

/** The wasm core, imported in the page (module import: allowed by the CSP). */
function core(page, name, ...args) {
  return page.evaluate(async ({ name: n, args: a }) => {
    const mod = await import('./pkg/how_llms_learn.js');
    await mod.default();
    try { return { value: mod[n](...a) }; } catch (err) { return { error: err.message }; }
  }, { name, args });
}

async function text(page, stage, selector) {
  return page.evaluate(({ s, sel }) => {
    const el = document.querySelector(`backprop-widget[stage="${s}"]`).shadowRoot.querySelector(sel);
    return el ? el.textContent.trim() : null;
  }, { s: stage, sel: selector });
}
// The model panel's refusals stand next to the field that caused them (.field-msg); other
// messages at the bottom of the panel.
const modelMsg = async (page) => (await text(page, 'model', '.field-msg')) ?? text(page, 'model', '.panel-msg');
const updateMsg = (page) => text(page, 'update', '.panel-msg');
const cellMsg = (page, name) => text(page, 'forward', `figure[data-name="${name}"] .mat-msg`);
const toolbarNotice = (page) => text(page, 'toolbar', '.toolbar-notice');

async function typeInCell(page, name, r, c, value, key = 'Enter') {
  await page.click(cellInput(name, r, c));
  await page.keyboard.press('Control+A');
  if (value === '') await page.keyboard.press('Backspace'); else await page.keyboard.type(value);
  await page.keyboard.press(key);
  await frames(page, 2);
}

async function reset(page) {
  await page.click(`${W('toolbar')} button:has-text("Reset")`);
  await frames(page, 2);
}

async function noKatexErrors(page, what) {
  const errors = await page.evaluate(() => [...document.querySelectorAll('backprop-widget')]
    .flatMap((w) => [...w.shadowRoot.querySelectorAll('.katex-error')].map((e) => e.textContent)));
  eq(errors.length, 0, `${what}: KaTeX errors (${errors.join(' | ')})`);
}

async function cspViolations(page) { return page.evaluate(() => window.__csp.slice()); }
async function longTasks(page) { return page.evaluate(() => window.__longTasks.slice()); }

/** A state at the contract's limits (V 512, T = context 256, C 256, 4 heads, F 1024, layer norm). */
function buildLarge(page, { V = 512, T = 256, C = 256, H = 4, F = 1024 } = {}) {
  return page.evaluate(({ V: v, T: t, C: c, H: h, F: f }) => {
    let seed = 7;
    const rnd = () => { seed = (seed * 16807) % 2147483647; return Math.round((seed / 2147483647 - 0.5) * 2000) / 10000; };
    const M = (r, k) => Array.from({ length: r }, () => Array.from({ length: k }, rnd));
    const vec = (n, x) => Array.from({ length: n }, () => x);
    const vocab = Array.from({ length: v }, (_, i) => `tok${i}`);
    window.__large = {
      vocab, eos: null, tokens: Array.from({ length: t }, (_, i) => vocab[(i * 7) % v]),
      config: { dModel: c, nHeads: h, dFf: f, layerNorm: true, activation: 'gelu', context: t },
      weights: {
        embedding: M(v, c), position: M(t, c), wq: M(c, c), wk: M(c, c), wv: M(c, c), wo: M(c, c),
        w1: M(c, f), b1: vec(f, 0), w2: M(f, c), b2: vec(c, 0),
        ln1Gain: vec(c, 1), ln1Bias: vec(c, 0), ln2Gain: vec(c, 1), ln2Bias: vec(c, 0), lnfGain: vec(c, 1), lnfBias: vec(c, 0),
        unembedding: M(c, v),
      },
    };
  }, { V, T, C, H, F });
}

const version = (page) => page.evaluate(() => document.querySelector('backprop-widget[stage="backward"]').dataset.version);
async function waitNewVersion(page, before, timeout = 120000) {
  await page.waitForFunction((v) => document.querySelector('backprop-widget[stage="backward"]').dataset.version !== v, before, { timeout });
  await page.waitForFunction(() => document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('.toolbar-busy')?.hidden !== false, null, { timeout });
}

// ---------- the catalogue ----------
async function main() {
  browser = await launch();
  const { page, ctx } = await openPage();
  const article = (await core(page, 'articleExample')).value;

  // ---- Weight cells: W_O[0][1] in the forward panel (article value −0.5) ----
  const cellCases = [
    ['W1', 'text', 'abc', /“abc” is not a number/],
    ['W2', 'empty', '', /cell is empty/],
    ['W3', 'NaN', 'NaN', /“NaN” is not allowed: every weight must be a finite number/],
    ['W4', 'Infinity', 'Infinity', /“Infinity” is not allowed/],
    ['W5', '-Infinity', '-Infinity', /“-Infinity” is not allowed/],
    ['W6', '1e309 (overflows to Infinity)', '1e309', /too large: numbers must be finite/],
    ['W7', 'markup', '<img src=x onerror=alert(1)>', /is not a number/],
    ['W8', 'two numbers', '1 2', /is not a number/],
  ];
  for (const [id, what, value, message] of cellCases) {
    await run(id, 'weight cell', `${what}: “${value}”`, async () => {
      const before = await getState(page);
      await typeInCell(page, 'weight-wo', 0, 1, value);
      const msg = await cellMsg(page, 'weight-wo');
      assert(message.test(msg), `message: ${msg}`);
      assert(/previous value .* is kept/.test(msg), `message does not say the value is kept: ${msg}`);
      const invalid = await page.$eval(cellInput('weight-wo', 0, 1), (el) => el.getAttribute('aria-invalid'));
      eq(invalid, 'true', 'aria-invalid on the cell');
      assert(same(await getState(page), before), 'state changed');
      await page.keyboard.press('Escape'); // cancel: back to the value
      await frames(page, 1);
      const shown = await page.$eval(cellInput('weight-wo', 0, 1), (el) => el.value);
      eq(Number(shown.replace('\u2212', '-')), -0.5, 'cell value after Escape');
      eq(await cellMsg(page, 'weight-wo'), '', 'message after Escape');
      return msg;
    });
  }
  await run('W9', 'weight cell', '1e200 in E[0][0]: a finite number, but the forward pass overflows (the core refuses)', async () => {
    const before = await getState(page);
    await typeInCell(page, 'weight-embedding', 0, 0, '1e200');
    const msg = await cellMsg(page, 'weight-embedding');
    assert(/grow too large for a 64-bit float .*use a smaller number.*previous value .* is kept/.test(msg), msg);
    assert(same(await getState(page), before), 'state changed');
    await page.keyboard.press('Escape');
    await frames(page, 1);
    return msg;
  });
  await run('W9b', 'weight cell', '1e308 in W_O[0][1]: huge but every result stays finite, so it is accepted (undoable)', async () => {
    const before = await getState(page);
    await typeInCell(page, 'weight-wo', 0, 1, '1e308');
    eq((await getState(page)).weights.wo[0][1], 1e308, 'accepted');
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 2);
    assert(same(await getState(page), before), 'undo restores');
    return 'accepted (the core computes finite results); undo restores';
  });
  await run('W10', 'weight cell', 'garbage, then Tab away (blur)', async () => {
    const before = await getState(page);
    await typeInCell(page, 'weight-wo', 0, 1, 'zzz', 'Tab');
    const msg = await cellMsg(page, 'weight-wo');
    assert(/is not a number/.test(msg), msg);
    const shown = await page.$eval(cellInput('weight-wo', 0, 1), (el) => el.value);
    eq(shown, '\u22120.500', 'cell reverted to the previous value');
    assert(same(await getState(page), before), 'state changed');
    return `${msg} (cell shows ${shown})`;
  });
  await run('W11', 'weight cell', 'comma decimal “0,5” is read as 0.5 and says so', async () => {
    const before = await getState(page);
    await typeInCell(page, 'weight-wo', 0, 1, '0,5');
    const msg = await cellMsg(page, 'weight-wo');
    assert(/Read “0,5” as 0\.5/.test(msg), msg);
    const s = await getState(page);
    eq(s.weights.wo[0][1], 0.5, 'wo[0][1]');
    const expected = (await core(page, 'loss', s)).value.value;
    const shownLoss = await page.evaluate(() => document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('.toolbar-loss-value').dataset.value);
    eq(shownLoss, String(expected), 'loss recomputed by the core');
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 2);
    assert(same(await getState(page), before), 'undo restores');
    return `accepted as 0.5: ${msg}`;
  });

  // ---- Vocabulary and input tokens (model panel) ----
  const addVocab = async (name) => {
    await page.fill(`${W('model')} input[aria-label="New vocabulary entry"]`, name);
    await page.click(`${W('model')} button:has-text("Add to vocabulary")`);
    await frames(page, 2);
  };
  const rename = async (n, name) => {
    await page.fill(`${W('model')} input[aria-label="Vocabulary entry ${n}"]`, name);
    await page.press(`${W('model')} input[aria-label="Vocabulary entry ${n}"]`, 'Enter');
    await frames(page, 2);
  };
  const unchangedWith = async (id, what, act, message, after = null) => run(id, 'tokens and vocabulary', what, async () => {
    const before = await getState(page);
    await act();
    const msg = await modelMsg(page);
    assert(message.test(msg), `message: ${msg}`);
    assert(await text(page, 'model', '.field-msg'), 'the message stands next to its field');
    assert(!/vocab\[|tokens\[/.test(msg), `the core's field path reaches the reader: ${msg}`);
    assert(same(await getState(page), before), 'state changed');
    if (after) await after();
    return msg;
  });
  await unchangedWith('T1', 'add an empty vocabulary entry', () => addVocab(''), /^A token needs at least one visible character.*Nothing was changed/);
  await unchangedWith('T2', 'add a blank (spaces only) entry', () => addVocab('   '), /at least one visible character/);
  await unchangedWith('T3', 'add a duplicate (“AI”)', () => addVocab('AI'), /^The vocabulary already has “AI”\. Every token needs a name of its own/);
  await unchangedWith('T4', 'add a 65-character name', () => addVocab('x'.repeat(65)), /^That name has 65 characters; a token may have at most 64/);
  await unchangedWith('T5', 'rename an entry to nothing', () => rename(2, ''), /at least one visible character/, async () => {
    eq(await page.inputValue(`${W('model')} input[aria-label="Vocabulary entry 2"]`), 'rocks', 'entry shows its name again');
  });
  await unchangedWith('T6', 'rename an entry to a duplicate', () => rename(2, 'AI'), /already has “AI”/);
  await unchangedWith('T7', 'rename an entry to 65 characters', () => rename(2, 'y'.repeat(65)), /65 characters/);
  // Names that differ only in what does not show would be two tokens that look the same.
  await unchangedWith('T7a', 'rename an entry to “AI” + a zero-width space', () => rename(2, 'AI\u200B'), /^That name holds an invisible character \(a zero-width space, U\+200B\) at position 3\./);
  await unchangedWith('T7b', 'add a name with a right-to-left override', () => addVocab('a\u202Eb'), /invisible character .*U\+202E/);
  await unchangedWith('T7c', 'add a name of a braille blank only', () => addVocab('\u2800'), /visible character|invisible character/);
  await unchangedWith('T8', 'remove a vocabulary entry the input uses (refused)', async () => {
    await page.click(`${W('model')} button[aria-label="Remove “rocks” from the vocabulary"]`);
    await frames(page, 1);
  }, /“rocks” is used once in the input\. Change or remove those tokens first; nothing was changed/);
  await run('T9', 'tokens and vocabulary', 'remove the last input token (refused)', async () => {
    await page.click(`${W('model')} button[aria-label="Remove position 1 from the input"]`);
    await frames(page, 2);
    const before = await getState(page);
    eq(before.tokens.length, 1, 'one token left');
    await page.click(`${W('model')} button[aria-label="Remove position 0 from the input"]`);
    await frames(page, 1);
    const msg = await modelMsg(page);
    assert(/input needs at least one token.*nothing was changed/.test(msg), msg);
    assert(same(await getState(page), before), 'state changed');
    await reset(page);
    return msg;
  });
  await run('T10', 'tokens and vocabulary', 'input longer than the context (add a 5th token with context 4)', async () => {
    await page.click(`${W('model')} button:has-text("Add a token to the input")`);
    await frames(page, 1);
    await page.click(`${W('model')} button:has-text("Add a token to the input")`);
    await frames(page, 2);
    const before = await getState(page);
    eq(before.tokens.length, 4, 'four tokens');
    await page.click(`${W('model')} button:has-text("Add a token to the input")`);
    await frames(page, 1);
    const msg = await modelMsg(page);
    assert(/context holds 4 tokens.*Nothing was changed/.test(msg), msg);
    assert(same(await getState(page), before), 'state changed');
    const options = await page.$$eval(`${W('model')} label:has-text("Context length") option`, (os) => os.map((o) => Number(o.value)));
    assert(options.every((n) => n >= 4), `context options below the input length: ${options}`);
    await reset(page);
    return msg;
  });
  await run('T11', 'tokens and vocabulary', 'a state whose input is longer than its context (setState)', async () => {
    const before = await getState(page);
    const bad = structuredClone(article);
    bad.tokens = ['AI', 'rocks', 'AI', 'rocks', 'AI'];
    const err = await setState(page, bad);
    assert(/tokens has 5 tokens but config\.context is 4/.test(err || ''), `error: ${err}`);
    assert(same(await getState(page), before), 'state changed');
    return err;
  });
  await run('T12', 'tokens and vocabulary', 'a 513th vocabulary entry', async () => {
    const big = (await core(page, 'resize', article, { vocab: [...article.vocab, ...Array.from({ length: 510 }, (_, i) => `w${i}`)] })).value;
    eq(await setState(page, big), null, 'setState of 512 entries');
    await frames(page, 2);
    const before = await getState(page);
    eq(before.vocab.length, 512, 'vocab size');
    await addVocab('one-too-many');
    const msg = await modelMsg(page);
    assert(/^The vocabulary can hold at most 512 tokens\..*Nothing was changed/.test(msg), msg);
    assert(same(await getState(page), before), 'state changed');
    const pager = await text(page, 'model', '.pager:not([hidden]) .pager-label');
    assert(/Entries 1–64 of 512/.test(pager || ''), `pager: ${pager}`);
    await page.screenshot({ path: join(SHOTS, 'bad-input-vocab-512.png') });
    await reset(page);
    return `${msg} (list shows “${pager}”)`;
  });
  await run('T13', 'tokens and vocabulary', 'markup and LaTeX in a token name stay text (every panel, formulas, dialog)', async () => {
    const evil = '<img src=x onerror=alert(1)>\\href{javascript:alert(2)}{x}$}';
    await rename(2, evil);
    eq((await getState(page)).vocab[1], evil, 'renamed');
    await page.click(`${W('backward')} figure[data-name="grad-unembedding"] td[data-r="0"][data-c="1"] button`);
    await page.waitForSelector(`${W('backward')} dialog.derivation[open]`);
    const found = await page.evaluate((name) => {
      const roots = [document, ...[...document.querySelectorAll('backprop-widget')].map((w) => w.shadowRoot)];
      const count = (sel) => roots.reduce((n, r) => n + r.querySelectorAll(sel).length, 0);
      const inKatex = roots.some((r) => [...r.querySelectorAll('.katex')].some((k) => k.textContent.includes('onerror') || k.textContent.includes('javascript')));
      const asText = roots.reduce((n, r) => n + [...r.querySelectorAll('th, td, option, p, h2, span')].filter((e) => e.textContent.includes(name)).length, 0);
      return { imgs: count('img'), links: count('a[href^="javascript"]'), inKatex, asText };
    }, evil);
    await page.keyboard.press('Escape');
    eq(found.imgs, 0, 'img elements');
    eq(found.links, 0, 'javascript: links');
    eq(found.inKatex, false, 'token name inside a KaTeX formula');
    assert(found.asText >= 5, `shown as text only ${found.asText} times`);
    await noKatexErrors(page, 'evil token name');
    await reset(page);
    return `shown as text in ${found.asText} places, 0 elements created, never inside a formula`;
  });

  // ---- Model switches ----
  await run('M1', 'model switches', 'every d_model × every head count offered: valid state, heads divide d_model', async () => {
    const model = W('model');
    const dModels = await page.$$eval(`${model} label:has-text("d_model") option`, (os) => os.map((o) => o.value));
    let combos = 0;
    for (const d of dModels) {
      await page.selectOption(`${model} label:has-text("d_model") select`, d);
      await frames(page, 1);
      const heads = await page.$$eval(`${model} label:has-text("Attention heads") option`, (os) => os.map((o) => Number(o.value)));
      assert(heads.every((hh) => Number(d) % hh === 0), `d_model ${d}: heads offered ${heads}`);
      for (const hh of heads) {
        await page.selectOption(`${model} label:has-text("Attention heads") select`, String(hh));
        await frames(page, 1);
        const s = await getState(page);
        eq(s.config.dModel, Number(d), 'dModel');
        eq(s.config.nHeads, hh, 'nHeads');
        const v = await core(page, 'validate', s);
        assert(!v.error, `d_model ${d}, ${hh} heads: ${v.error}`);
        combos += 1;
      }
      await noKatexErrors(page, `d_model ${d}`);
    }
    await reset(page);
    return `${combos} combinations, all valid`;
  });
  await run('M2', 'model switches', 'd_model change that the head count does not divide (4 heads → d_model 6)', async () => {
    const model = W('model');
    await page.selectOption(`${model} label:has-text("d_model") select`, '4');
    await page.selectOption(`${model} label:has-text("Attention heads") select`, '4');
    await page.selectOption(`${model} label:has-text("d_model") select`, '6');
    await frames(page, 2);
    const s = await getState(page);
    eq(s.config.nHeads, 1, 'heads after d_model 6');
    const msg = await modelMsg(page);
    assert(/Heads set to 1: 4 heads cannot split 6 dimensions evenly/.test(msg), msg);
    await reset(page);
    return msg;
  });
  await run('M3', 'model switches', 'every feed-forward size × layer norm on/off × activation: valid state', async () => {
    const model = W('model');
    const sizes = await page.$$eval(`${model} label:has-text("Feed-forward size") option`, (os) => os.map((o) => o.value));
    let combos = 0;
    for (const ln of [false, true]) {
      await page.setChecked(`${model} input[type="checkbox"]`, ln);
      for (const f of sizes) {
        await page.selectOption(`${model} label:has-text("Feed-forward size") select`, f);
        for (const act of Number(f) ? ['relu', 'gelu'] : ['relu']) {
          if (Number(f)) await page.selectOption(`${model} label:has-text("Activation") select`, act);
          await frames(page, 1);
          const s = await getState(page);
          eq(s.config.dFf, Number(f), 'dFf');
          eq(s.config.layerNorm, ln, 'layerNorm');
          eq(Boolean(s.weights.w1), Number(f) > 0, 'w1 present');
          eq(Boolean(s.weights.ln2Gain), ln && Number(f) > 0, 'ln2Gain present');
          const v = await core(page, 'validate', s);
          assert(!v.error, `dFf ${f}, layer norm ${ln}: ${v.error}`);
          combos += 1;
        }
      }
      await noKatexErrors(page, `layer norm ${ln}`);
    }
    await reset(page);
    return `${combos} combinations, all valid, no formula errors`;
  });

  // ---- No loss ----
  await run('S1', 'no loss', 'a single token and no end-of-sequence token', async () => {
    await page.click(`${W('model')} button[aria-label="Remove position 1 from the input"]`);
    await frames(page, 2);
    const notes = await page.evaluate(() => ['target', 'loss', 'backward', 'update'].map((s) => {
      const why = document.querySelector(`backprop-widget[stage="${s}"]`).shadowRoot.querySelector('.why:not([hidden])');
      return why ? why.textContent : '';
    }));
    notes.forEach((t, i) => assert(/single token/.test(t), `panel ${['target', 'loss', 'backward', 'update'][i]}: "${t}"`));
    const stale = await page.evaluate(() => {
      const root = document.querySelector('backprop-widget[stage="loss"]').shadowRoot;
      return root.querySelector('table.loss-table').hidden;
    });
    eq(stale, true, 'loss table hidden (no stale numbers)');
    const tb = await text(page, 'toolbar', '.toolbar-loss-value');
    assert(/no position has a target/.test(tb), tb);
    const step = await page.$eval(`${W('update')} button:has-text("Take one step")`, (b) => b.disabled);
    eq(step, true, 'step button disabled');
    await reset(page);
    return notes[1].slice(0, 160);
  });

  // ---- Learning rate and divergence ----
  const lrCase = (id, what, value, message, button = 'Take one step') => run(id, 'training', what, async () => {
    const before = await getState(page);
    await page.fill(`${W('update')} label:has-text("Learning rate") input`, value);
    await page.click(`${W('update')} button:has-text("${button}")`);
    await frames(page, 2);
    const msg = await updateMsg(page);
    assert(message.test(msg), msg);
    assert(same(await getState(page), before), 'state changed');
    await page.fill(`${W('update')} label:has-text("Learning rate") input`, '0.1');
    return msg;
  });
  await lrCase('D1', 'learning rate “abc”', 'abc', /No step was taken: Learning rate: “abc” is not a number/);
  await lrCase('D2', 'learning rate 0', '0', /learningRate is 0; it must be greater than 0/);
  await lrCase('D3', 'learning rate −1', '-1', /learningRate is -1; it must be greater than 0/);
  await lrCase('D4', 'learning rate 1e300 (one step overflows)', '1e300', /No step was taken: .*(finite|too large)/i);
  await run('D5', 'training', 'training with learning rate 1000 diverges: stopped, said, last finite state kept', async () => {
    const start = await getState(page);
    await page.fill(`${W('update')} label:has-text("Learning rate") input`, '1000');
    await page.click(`${W('update')} button:has-text("Play training")`);
    await page.waitForFunction(() => /Training stopped/.test(document.querySelector('backprop-widget[stage="update"]').shadowRoot.querySelector('.panel-msg').textContent), null, { timeout: 30000 });
    const msg = await updateMsg(page);
    assert(/Training stopped after \d+ steps?: .+ The last good state is kept\./.test(msg), msg);
    const playing = await page.$eval(`${W('update')} button[aria-pressed]`, (b) => b.getAttribute('aria-pressed'));
    eq(playing, 'false', 'play button released');
    const s = await getState(page);
    const v = await core(page, 'validate', s);
    assert(!v.error, `state after divergence is invalid: ${v.error}`);
    const l = await core(page, 'loss', s);
    assert(!l.error && Number.isFinite(l.value.value), `loss of the kept state: ${JSON.stringify(l)}`);
    const b = await core(page, 'backward', s);
    assert(!b.error, `the kept state has no finite gradient: ${b.error}`);
    const steps = Number(/after (\d+) step/.exec(msg)[1]);
    if (steps > 0) {
      await page.click(`${W('toolbar')} button:has-text("Undo")`);
      await frames(page, 2);
    }
    assert(same(await getState(page), start), steps ? 'one undo goes back to before the run' : 'state kept');
    await page.fill(`${W('update')} label:has-text("Learning rate") input`, '0.1');
    return `${msg} (kept loss ${l.value.value.toFixed(4)}, finite)`;
  });

  // ---- Imported states and links (issue 5's share.js) ----
  const hasShare = existsSync(join(WWW, 'js', 'share.js'));
  const linkCases = [
    ['I1', 'malformed link (not base64)', '#bp=1.%%%not-base64%%%'],
    ['I2', 'truncated link', null],
    ['I3', 'unknown link version', '#bp=9.AAAA'],
    ['I4', 'a link whose state has markup in a token name and a wrong type', 'evil'],
  ];
  for (const [id, what, fragment] of linkCases) {
    await run(id, 'links and files', what, async () => {
      if (!hasShare) throw new Error('www/js/share.js does not exist');
      let hash = fragment;
      if (fragment === null || fragment === 'evil') {
        const st = structuredClone(article);
        if (fragment === 'evil') { st.vocab[1] = '<script>alert(1)</script>'; st.tokens[1] = st.vocab[1]; st.config.dModel = 'two'; }
        hash = await page.evaluate(async (s) => {
          const { shareUrl } = await import('./js/share.js');
          return new URL(await shareUrl(s)).hash;
        }, st);
        if (fragment === null) hash = hash.slice(0, Math.floor(hash.length / 2));
      }
      // A fresh tab opened at the link, as a reader clicking it would (a hash change on an open
      // page, then a reload, would test the reload of a page whose link was already taken out).
      const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const p2 = await ctx2.newPage();
      recordConsoleProblems(p2, consoleProblems);
      await p2.goto(`${BASE}/index.html${hash}`);
      await waitReady(p2);
      await frames(p2, 3);
      const notice = await toolbarNotice(p2);
      const s = await getState(p2);
      await ctx2.close();
      // The reader must be told: a missing message fails the case.
      assert(notice && /could not be opened|not a valid model/.test(notice), `the reader is not told the link was not used (notice: ${JSON.stringify(notice)})`);
      assert(/Nothing was changed/.test(notice), `the notice does not say nothing was changed: ${notice}`);
      assert(same(s, article), 'state is not the article default');
      return notice;
    });
  }

  // ---- Content-Security-Policy ----
  await run('C1', 'CSP', 'the page runs under its CSP: inline script and string eval are refused', async () => {
    const meta = await page.$eval('meta[http-equiv="Content-Security-Policy"]', (m) => m.content);
    assert(/script-src 'self' 'wasm-unsafe-eval'/.test(meta), meta);
    assert(!/unsafe-inline|'unsafe-eval'/.test(meta), `CSP allows inline code: ${meta}`);
    const ran = await page.evaluate(() => new Promise((res) => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.head.append(s);
      setTimeout('window.__timerRan = true', 0); // string timers are eval
      setTimeout(() => res({ inline: Boolean(window.__inlineRan), timer: Boolean(window.__timerRan) }), 50);
    }));
    eq(ran.inline, false, 'inline script ran');
    eq(ran.timer, false, 'string eval ran');
    const v = await cspViolations(page);
    assert(v.length >= 1, 'no violation reported for the probes');
    expectedCspViolations = v.length;
    return `CSP: ${meta}; probes blocked (${v.length} violation events for them)`;
  });

  // ---- A browser that cannot run the core ----
  await run('B1', 'browser', 'a browser without WebAssembly SIMD gets a plain sentence, not a compile error', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const old = await ctx.newPage();
    const problems = [];
    old.on('pageerror', (err) => problems.push(err.message));
    // What a browser from before simd128 answers for the core's probe module.
    await old.addInitScript(() => { WebAssembly.validate = () => false; });
    await old.goto(`${BASE}/index.html`);
    await old.waitForFunction(() => /cannot run the model/.test(document.querySelector('backprop-widget')?.shadowRoot?.textContent || ''), null, { timeout: 15000 });
    const status = await old.evaluate(() => document.querySelector('backprop-widget').shadowRoot.querySelector('.bp-status').textContent);
    assert(/WebAssembly SIMD/.test(status) && /Safari 16\.4/.test(status), status);
    eq(problems.length, 0, `page errors: ${problems.join(' | ')}`);
    await ctx.close();
    return status;
  });

  // ---- Large states at the contract's limits ----
  // The main thread's wasm memory before the large state arrives (L1 to L5 keep it).
  let mainWasm = null;
  /** Asserts the large-state work since `from` (an index into the spy's ops) went to the worker. */
  async function inWorker(from, op, what) {
    const seen = await spied(page);
    const ops = seen.ops.slice(from);
    assert(ops.some((o) => o.op === op), `${what}: no '${op}' request reached the worker (${ops.map((o) => o.op).join(', ') || 'none'})`);
    const grew = seen.wasmBytes - mainWasm.wasmBytes;
    assert(grew <= MAIN_WASM_GROWTH, `${what}: the main thread's wasm memory grew by ${(grew / 2 ** 20).toFixed(1)} MiB (${mainWasm.wasmModules} → ${seen.wasmModules} modules): the large state was computed there`);
    return ops;
  }
  const opsSoFar = async () => (await spied(page)).ops.length;
  await run('L1', 'large state', 'load a state at the limits (V 512, T 256, C 256, H 4, F 1024, layer norm): computed in the worker', async () => {
    await buildLarge(page);
    await page.waitForTimeout(300);
    mainWasm = await spied(page);
    assert(mainWasm.wasmModules >= 1, 'the spy saw no wasm module on the main thread');
    const from = mainWasm.ops.length;
    await page.evaluate(() => { window.__longTasks = []; });
    const v0 = await version(page);
    const started = Date.now();
    await page.evaluate(() => { document.querySelector('backprop-widget[stage="forward"]').setState(window.__large); });
    const busy = await page.waitForFunction(() => document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('.toolbar-busy')?.hidden === false, null, { timeout: 5000 }).then(() => true, () => false);
    await waitNewVersion(page, v0);
    await page.waitForTimeout(600); // let the visible heatmaps paint
    const ms = Date.now() - started;
    const tasks = await longTasks(page);
    const s = await getState(page);
    eq(s.tokens.length, 256, 'large state adopted');
    const info = await page.evaluate(() => {
      const roots = [...document.querySelectorAll('backprop-widget')].map((w) => w.shadowRoot);
      const cells = roots.reduce((n, r) => n + r.querySelectorAll('table.mat td').length, 0);
      const canvases = roots.reduce((n, r) => n + r.querySelectorAll('canvas.heatmap-canvas').length, 0);
      return { cells, canvases };
    });
    assert(info.canvases >= 40, `only ${info.canvases} heatmaps`);
    assert(info.cells < 5000, `${info.cells} table cells rendered`);
    const worst = Math.max(0, ...tasks);
    await page.evaluate(() => document.querySelector('#forward').scrollIntoView());
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(SHOTS, 'bad-input-large-forward.png') });
    const ops = await inWorker(from, 'load', 'loading');
    assert(ops.some((o) => o.op === 'load' && o.tokens === 256), `the worker was not sent the large state: ${JSON.stringify(ops)}`);
    return `computed in the worker in ${ms} ms (progress shown: ${busy}); ${info.canvases} heatmaps; longest task ${worst} ms; ${goalMet(tasks)}`;
  });
  await run('L2', 'large state', 'heatmap: hover and keyboard read a number; a bad value is refused; a good one is computed in the worker', async () => {
    const fig = `${W('forward')} figure[data-name="weight-wq"]`;
    await page.locator(`${fig} canvas`).scrollIntoViewIfNeeded();
    const box = await page.locator(`${fig} canvas`).boundingBox();
    await page.mouse.move(box.x + 3, box.y + 3);
    const hover = await page.$eval(`${fig} .heat-readout`, (e) => e.textContent);
    assert(/row .*column .*: -?\d/.test(hover), `hover readout: ${hover}`);
    await page.focus(`${fig} canvas`);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    const read = await page.$eval(`${fig} .heat-readout`, (e) => ({ text: e.textContent, r: e.dataset.r, c: e.dataset.c, value: e.dataset.value }));
    eq(`${read.r},${read.c}`, '1,1', 'keyboard cursor');
    const before = await getState(page);
    eq(read.value, String(before.weights.wq[1][1]), 'readout value');
    await page.evaluate(() => { window.__longTasks = []; });
    const from = await opsSoFar();
    await page.keyboard.press('Enter'); // to the edit box
    await page.keyboard.press('Control+A');
    await page.keyboard.type('NaN');
    await page.keyboard.press('Enter');
    await frames(page, 1);
    const msg = await page.$eval(`${fig} .mat-msg`, (e) => e.textContent);
    assert(/not allowed: every weight must be a finite number.*previous value .* is kept/.test(msg), msg);
    assert(same(await getState(page), before), 'state changed by NaN');
    const v0 = await version(page);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('0.125');
    await page.keyboard.press('Enter');
    await waitNewVersion(page, v0);
    const s = await getState(page);
    eq(s.weights.wq[1][1], 0.125, 'edited entry');
    const tasks = await longTasks(page);
    await inWorker(from, 'edit', 'editing');
    await page.screenshot({ path: join(SHOTS, 'bad-input-large-heatmap.png') });
    return `hover: “${hover}”; NaN: “${msg}”; 0.125 accepted in the worker; ${goalMet(tasks)}`;
  });
  await run('L3', 'large state', 'train the large model in the background: progress shown, trained in the worker', async () => {
    await page.fill(`${W('update')} label:has-text("Learning rate") input`, '0.01');
    await page.evaluate(() => { window.__longTasks = []; });
    const from = await opsSoFar();
    await page.click(`${W('update')} button:has-text("Play training")`);
    // The progress line of this run (the step counter may still show an earlier run's count).
    await page.waitForFunction(() => {
      const m = /Training in the background… (\d+) step/.exec(document.querySelector('backprop-widget[stage="update"]').shadowRoot.querySelector('.panel-msg').textContent);
      return m && Number(m[1]) >= 4;
    }, null, { timeout: 120000 });
    const progress = await updateMsg(page);
    await page.click(`${W('update')} button:has-text("Pause training")`);
    await page.waitForFunction(() => document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('.toolbar-busy').hidden, null, { timeout: 60000 });
    await frames(page, 2);
    const steps = Number(await text(page, 'update', '[data-testid="step-counter"]'));
    const tasks = await longTasks(page);
    assert(/Training in the background… \d+ steps?/.test(progress) || /Paused/.test(progress), progress);
    await inWorker(from, 'train', 'training');
    await page.locator('#update').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'bad-input-large-training.png') });
    return `${steps} steps in the worker; progress line “${progress}”; ${goalMet(tasks)}`;
  });
  await run('L5', 'large state', 'a model switch (attention heads) on the large model runs in the worker', async () => {
    await page.evaluate(() => { window.__longTasks = []; });
    const from = await opsSoFar();
    await page.selectOption(`${W('model')} label:has-text("Attention heads") select`, '2');
    await page.waitForFunction(() => document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('.toolbar-busy').hidden, null, { timeout: 120000 });
    await frames(page, 2);
    const heads = await page.evaluate(() => document.querySelector('backprop-widget[stage="forward"]').getState().config.nHeads);
    eq(heads, 2, 'config.nHeads after the switch');
    const tasks = await longTasks(page);
    await inWorker(from, 'resize', 'the switch');
    return `heads 4 → 2 computed in the worker; ${goalMet(tasks)}`;
  });
  await run('L4', 'large state', 'undo back to the article example, then the small page works as before', async () => {
    for (let i = 0; i < 5; i += 1) {
      const s = await getState(page);
      if (s.tokens.length !== 256) break;
      await page.click(`${W('toolbar')} button:has-text("Undo")`);
      await page.waitForTimeout(300);
    }
    await reset(page);
    assert(same(await getState(page), article), 'back to the article');
    const cells = await page.evaluate(() => document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelectorAll('figure[data-name="weight-wo"] td input').length);
    eq(cells, 4, 'W_O is a table of 4 editable cells again');
    return 'article example restored; tables again';
  });

  await run('C2', 'CSP', 'no CSP violation and no console error anywhere in the run', async () => {
    const v = await cspViolations(page);
    assert(v.length === expectedCspViolations, `CSP violations: ${v.slice(expectedCspViolations).join(' | ')}`);
    const problems = consoleProblems.filter((p) => !/Content Security Policy|Refused to/.test(p) || !/inline|string/.test(p));
    const unexpected = problems.filter((p) => !/__inlineRan|__timerRan|inline script|Evaluating a string/.test(p));
    assert(unexpected.length === 0, `console:\n       ${unexpected.slice(0, 8).join('\n       ')}`);
    return `0 unexpected violations, ${consoleProblems.length - unexpected.length} expected probe messages`;
  });
  await ctx.close();
}

await finishSuite('bad-input', main, {
  browser: () => browser,
  results,
  noun: 'cases',
  report: () => {
    console.log('\nCatalogue:');
    for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.id.padEnd(4)} ${r.area} — ${r.what}${r.ok ? `\n         ${r.outcome.slice(0, 240)}` : ''}`);
  },
});
