// Every typeset formula on the page, after any edit, is exactly what KaTeX makes of its LaTeX.
//
//   node tests/e2e/formulas.e2e.mjs            (seed 1; FORMULA_SEED=n picks another sequence)
//
// Live formulas are patched in place when only their numbers change (www/js/katex.js); a patch
// that puts a number in the wrong place, drops KaTeX's spacing or leaves a formula stale shows a
// reader a wrong equation while every matrix is right. This suite drives a random sequence of
// reader actions through the UI (every weight kind, tokens, vocabulary, end of sequence, every
// model switch, steps, undo/redo) on the walkthrough and on the embedding example, and after each
// one compares every formula in every widget with a fresh typesetting of the LaTeX it claims to
// show: KaTeX's HTML (structure, classes, spacing; slot ids aside) and its MathML.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, checker, finishSuite, frames, launch, recordConsoleProblems, serve, waitReady, prepareSuite } from './harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const WWW = join(ROOT, 'www');
const SEED = Number(process.env.FORMULA_SEED || 1);
const ACTIONS = Number(process.env.FORMULA_ACTIONS || 60);

prepareSuite('formulas e2e');

// The embedding example loads the widget from the distribution folder, as an author's page does.
const TMP = mkdtempSync(join(tmpdir(), 'bp-formulas-'));
const built = spawnSync(process.execPath, [join(ROOT, '.ci', 'dist.mjs'), '--no-build', '--out', join(TMP, 'dist'), '--example', join(TMP, 'site')],
  { cwd: ROOT, encoding: 'utf8' });
if (built.status !== 0) {
  console.error(`formulas e2e: .ci/dist.mjs failed\n${built.stdout}${built.stderr}`);
  process.exit(1);
}
writeFileSync(join(TMP, 'site', 'favicon.ico'), ''); // (the browser asks for one; an author's site has one)

const results = [];
const consoleProblems = [];
const check = checker(results);
let browser;

/** mulberry32: a small seeded generator, so a failing sequence can be replayed by its seed. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (list) => list[Math.floor(next() * list.length)] };
}

/**
 * In the page: every element showing a formula (data-tex) in the document and in every widget,
 * compared with a fresh typesetting of its data-tex. Formulas still waiting (for KaTeX, for the
 * idle time that typesets formulas out of view, or for their MathML) are counted, not compared.
 */
function compareAll(page) {
  return page.evaluate(async () => {
    // The KaTeX module the page itself loaded: next to the stylesheet it linked (in the document
    // for the article, in a widget's shadow root on an author's page).
    const roots = [document, ...[...document.querySelectorAll('backprop-widget')].map((w) => w.shadowRoot).filter(Boolean)];
    const sheet = roots.map((root) => root.querySelector('link[href$="katex.min.css"]')).find(Boolean);
    if (!sheet) return { compared: 0, waiting: 1, mathWaiting: 0, bad: [] };
    const katex = (await import(new URL('katex.mjs', sheet.href).href)).default;
    const SLOT = /\\htmlData\{n=[0-9]*\}\{([^{}]*)\}/g;
    // Slot markers are ids for the patcher, not part of what is shown.
    const html = (node) => node.outerHTML.replace(/ data-(n|seen)="[^"]*"/g, '');
    const math = (node) => node.innerHTML.replace(SLOT, '$1');
    const out = { compared: 0, patched: 0, waiting: 0, mathWaiting: 0, bad: [] };
    for (const root of roots) {
      for (const el of root.querySelectorAll('[data-tex]')) {
        if ('texWait' in el.dataset || 'texPending' in el.dataset) { out.waiting += 1; continue; }
        const shown = el.querySelector('.katex');
        if (!shown) { out.bad.push({ tex: el.dataset.tex, why: 'not typeset', shown: el.textContent.slice(0, 200) }); continue; }
        if (el.querySelector('.katex-error')) { out.bad.push({ tex: el.dataset.tex, why: 'KaTeX error', shown: el.textContent.slice(0, 200) }); continue; }
        // The same typeset element now showing another formula: it was patched in place.
        if (shown.dataset.seen && shown.dataset.seen !== el.dataset.tex) out.patched += 1;
        shown.dataset.seen = el.dataset.tex;
        const fresh = document.createElement('div');
        katex.render(el.dataset.tex, fresh, {
          displayMode: Boolean(el.querySelector('.katex-display')), output: 'htmlAndMathml',
          throwOnError: false, strict: 'ignore', trust: (c) => c.command === '\\htmlData',
        });
        out.compared += 1;
        const a = html(el.querySelector('.katex-html'));
        const b = html(fresh.querySelector('.katex-html'));
        if (a !== b) {
          let i = 0;
          while (i < a.length && a[i] === b[i]) i += 1;
          out.bad.push({ tex: el.dataset.tex, why: 'HTML differs', shown: a.slice(Math.max(0, i - 120), i + 120), fresh: b.slice(Math.max(0, i - 120), i + 120), text: el.querySelector('.katex-html').textContent, freshText: fresh.querySelector('.katex-html').textContent });
          continue;
        }
        if (math(el.querySelector('.katex-mathml')) !== math(fresh.querySelector('.katex-mathml'))) out.mathWaiting += 1;
      }
    }
    return out;
  });
}

/**
 * Waits until nothing is waiting and every MathML has caught up (it follows in idle time after a
 * pause), then returns the comparison. HTML differences are final at once: they fail.
 */
async function settledComparison(page, what) {
  let r = await compareAll(page);
  let { patched } = r;
  for (let i = 0; i < 60 && !r.bad.length && (r.waiting || r.mathWaiting); i += 1) {
    await page.waitForTimeout(100);
    r = await compareAll(page);
    patched += r.patched;
  }
  r.patched = patched;
  const detail = r.bad.slice(0, 2).map((b) => `${b.why}: ${b.tex}\n         shown: ${b.text ?? b.shown}\n         fresh: ${b.freshText ?? ''}\n         html shown: …${b.shown}…\n         html fresh: …${b.fresh}…`).join('\n       ');
  assert(!r.bad.length, `${what}: ${r.bad.length} of ${r.compared + r.bad.length} formulas differ from a fresh typesetting\n       ${detail}`);
  assert(!r.waiting, `${what}: ${r.waiting} formulas still wait to be typeset after 6 s`);
  assert(!r.mathWaiting, `${what}: ${r.mathWaiting} formulas' MathML differs from a fresh typesetting after 6 s`);
  return r;
}

const inWidget = (stage) => `backprop-widget[stage~="${stage}"]`;

/** Reader actions, each through the page's own controls. Returns a description, or null if it did not apply. */
function actions(page, r) {
  const model = inWidget('model');
  const sel = async (selector) => ((await page.$(selector)) ? selector : null);
  const choose = async (selector, values) => {
    if (!(await sel(selector))) return null;
    const options = await page.$$eval(`${selector} option`, (os) => os.filter((o) => !o.selected).map((o) => o.value));
    const pool = values ? options.filter((o) => values.includes(o)) : options;
    if (!pool.length) return null;
    const v = r.pick(pool);
    await page.selectOption(selector, v);
    return v;
  };
  const weightKinds = async (stage) => page.$$eval(`${inWidget(stage)}`, (ws) => ws.flatMap((w) => [...w.shadowRoot.querySelectorAll('figure[data-name^="weight-"]')]
    .filter((f) => !f.closest('[hidden]') && f.querySelector('td input'))
    .map((f) => f.dataset.name)));
  let kindQueue = [];
  return {
    async weight(stage = 'forward') {
      // Every weight kind in turn (shuffled), so a sequence edits each kind the model has.
      const kinds = await weightKinds(stage);
      if (!kinds.length) return null;
      kindQueue = kindQueue.filter((k) => kinds.includes(k));
      if (!kindQueue.length) kindQueue = [...kinds].sort(() => r.next() - 0.5);
      const kind = kindQueue.shift();
      const cells = await page.$$(`${inWidget(stage)} figure[data-name="${kind}"] td input`);
      const cell = r.pick(cells);
      // Signs flip often: a patched formula must follow a number that changes sign.
      const value = ((r.next() - 0.45) * 3).toFixed(r.int(4) + 1);
      await cell.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.type(value);
      await page.keyboard.press('Enter');
      return `${kind} := ${value}`;
    },
    async token() {
      const selects = await page.$$(`${model} select[aria-label^="Input token at position"]`);
      if (!selects.length) return null;
      const s = r.pick(selects);
      const options = await s.$$eval('option', (os) => os.filter((o) => !o.selected).map((o) => o.value));
      if (!options.length) return null;
      await s.selectOption(r.pick(options));
      return 'token changed';
    },
    async addToken() {
      await page.click(`${model} button:has-text("Add a token to the input")`);
      return 'token added';
    },
    async removeToken() {
      const buttons = await page.$$(`${model} button[aria-label^="Remove position"]`);
      if (buttons.length < 2) return null;
      await r.pick(buttons).click();
      return 'token removed';
    },
    async vocab() {
      const choice = r.int(3);
      if (choice === 0) {
        const name = `w${r.int(1000)}`;
        await page.fill(`${model} input[aria-label="New vocabulary entry"]`, name);
        await page.click(`${model} button:has-text("Add to vocabulary")`);
        return `vocabulary + ${name}`;
      }
      const entries = await page.$$(`${model} input[aria-label^="Vocabulary entry"]`);
      if (choice === 1) {
        const e = r.pick(entries);
        const name = `v${r.int(1000)}`;
        await e.fill(name);
        await e.press('Enter');
        return `renamed to ${name}`;
      }
      const removes = await page.$$(`${model} button[aria-label^="Remove “"]`);
      await r.pick(removes).click(); // refused (with a message) when the input uses it
      return 'vocabulary entry removed';
    },
    async eos() {
      const v = await choose(`${model} fieldset:has(legend:text("End of sequence")) select`);
      return v == null ? null : `eos option ${v}`;
    },
    async layerNorm() {
      await page.click(`${model} input[type="checkbox"]`);
      return 'layer norm toggled';
    },
    async dModel() {
      const v = await choose(`${model} label:has-text("d_model") select`, ['1', '2', '3', '4']);
      return v == null ? null : `d_model ${v}`;
    },
    async heads() {
      const v = await choose(`${model} label:has-text("Attention heads") select`);
      return v == null ? null : `heads ${v}`;
    },
    async dFf() {
      const v = await choose(`${model} label:has-text("Feed-forward size") select`, ['0', '1', '2', '3', '4']);
      return v == null ? null : `d_ff ${v}`;
    },
    async activation() {
      if (await page.$eval(`${model} label:has-text("Activation") select`, (s) => s.disabled)) return null;
      const v = await choose(`${model} label:has-text("Activation") select`);
      return v == null ? null : `activation ${v}`;
    },
    async optimiser() {
      const radios = await page.$$(`${inWidget('update')} input[type="radio"]:not(:checked)`);
      if (!radios.length) return null;
      await radios[0].click();
      return 'optimiser switched';
    },
    async step() {
      const b = await page.$(`${inWidget('update')} button:has-text("Take one step"):not([disabled])`);
      if (!b) return null;
      await b.click();
      return 'one step';
    },
    async undo() {
      const b = await page.$(`${inWidget('toolbar')} button:has-text("Undo"):not([disabled])`);
      if (!b) return null;
      await b.click();
      return 'undo';
    },
    async redo() {
      const b = await page.$(`${inWidget('toolbar')} button:has-text("Redo"):not([disabled])`);
      if (!b) return null;
      await b.click();
      return 'redo';
    },
  };
}

/** Runs `count` random actions (weighted by `weights`), comparing every formula after each. */
async function randomWalk(page, r, weights, count, what) {
  const act = actions(page, r);
  const bag = Object.entries(weights).flatMap(([name, w]) => Array(w).fill(name));
  const done = [];
  let compared = 0;
  let patched = 0;
  for (let i = 0; i < count; i += 1) {
    const name = r.pick(bag);
    const did = await act[name]();
    if (!did) continue;
    done.push(did);
    await frames(page, 2);
    const c = await settledComparison(page, `${what}, action ${i} (${did}; seed ${SEED}; before: ${done.slice(-6, -1).join(' | ')})`);
    compared += c.compared;
    patched += c.patched;
  }
  // A walk in which every formula was typeset afresh would not test the patching at all.
  assert(patched >= done.length, `${what}: only ${patched} formulas were patched in place in ${done.length} actions`);
  return { done, compared, patched };
}

async function open(url, width) {
  const ctx = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await ctx.newPage();
  recordConsoleProblems(page, consoleProblems);
  await page.goto(url);
  await waitReady(page);
  // Every formula typeset, not only those near the first screen.
  await page.evaluate(() => document.querySelector('#forward, backprop-widget[stage~="forward"]')?.scrollIntoView());
  await frames(page, 2);
  return { ctx, page };
}

async function main() {
  browser = await launch();
  const site = await serve(join(TMP, 'site'));
  const base = await serve(WWW);

  await check(`walkthrough at 1280 px: every formula equals a fresh typesetting after each of ${ACTIONS} random edits (seed ${SEED})`, async () => {
    const { ctx, page } = await open(`${base}/index.html`, 1280);
    const r = rng(SEED);
    await settledComparison(page, 'at load');
    const { done, compared, patched } = await randomWalk(page, r, {
      weight: 10, token: 2, addToken: 1, removeToken: 1, vocab: 2, eos: 2, layerNorm: 2, dModel: 1, heads: 2,
      dFf: 1, activation: 1, optimiser: 1, step: 3, undo: 3, redo: 2,
    }, ACTIONS, 'walkthrough');
    const kinds = new Set(done.filter((d) => d.startsWith('weight-')).map((d) => d.split(' ')[0]));
    assert(kinds.size >= 8, `only ${kinds.size} weight kinds edited: ${[...kinds].join(', ')}`);
    await ctx.close();
    console.log(`       ${done.length} actions, ${compared} formula comparisons (${patched} patched in place), weight kinds: ${kinds.size}`);
  });

  await check('walkthrough at 390 px: the same for a shorter sequence', async () => {
    const { ctx, page } = await open(`${base}/index.html`, 390);
    const { done } = await randomWalk(page, rng(SEED + 1), { weight: 6, eos: 1, layerNorm: 1, heads: 1, step: 2, undo: 2, redo: 1 }, 20, '390 px');
    await ctx.close();
    assert(done.length >= 10, `only ${done.length} actions applied`);
  });

  await check('embedding example (the widget from dist): every formula equals a fresh typesetting after random edits', async () => {
    const { ctx, page } = await open(`${site}/embed-example.html`, 1280);
    const { done } = await randomWalk(page, rng(SEED + 2), { weight: 6, step: 2, undo: 2, redo: 1 }, 20, 'embedded widgets');
    await ctx.close();
    assert(done.length >= 10, `only ${done.length} actions applied`);
  });

  await check('no console errors or warnings', async () => {
    assert(!consoleProblems.length, consoleProblems.slice(0, 8).join('\n       '));
  });
}

finishSuite('formulas e2e', main, { browser: () => browser, results, cleanup: () => rmSync(TMP, { recursive: true, force: true }) });
