// End-to-end tests of the walkthrough page (www/index.html) in Chromium.
//
//   npm run test:e2e          (needs the wasm built into www/pkg: npm run build)
//
// Serves www/ with http-server on a free port, drives /usr/bin/chromium with playwright-core and
// checks what the reader sees against the wasm core itself (imported into the page). Prints one
// line per check and a count; exits non-zero when any check fails. Screenshots go to
// tests/e2e/screenshots/ (git-ignored).

import { assert, checker, eq, finishSuite, frames, launch, recordConsoleProblems, serve, typesetFormulas, waitReady, prepareSuite, scrollChecksDone, selection } from './harness.mjs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const WWW = join(ROOT, 'www');
const SHOTS = join(HERE, 'screenshots');
const AXE = require.resolve('axe-core/axe.min.js');
const ONLY = selection();

prepareSuite('e2e');

// ---------- server ----------
const BASE = await serve(WWW);

// ---------- harness ----------
const results = [];
const consoleProblems = [];
let browser;

function close(a, b, tol, what) {
  assert(Math.abs(a - b) <= tol, `${what}: ${a} and ${b} differ by ${Math.abs(a - b)} (> ${tol})`);
}

const check = checker(results, ONLY);

/** A fresh page (own storage) on the article, widgets rendered. */
async function openPage({ width = 1280, height = 900, path = '/index.html', context = null } = {}) {
  // bypassCSP: these checks inject axe-core and helper code; the CSP itself is tested in bad-input.e2e.mjs.
  const ctx = context || await browser.newContext({ viewport: { width, height }, bypassCSP: true });
  const page = await ctx.newPage();
  recordConsoleProblems(page, consoleProblems);
  await page.goto(`${BASE}${path}`);
  await waitReady(page, { timeout: 15000 });
  return { page, ctx };
}


/** Run fn(core, fmt, args) in the page with the wasm core and the page's formatter. */
function inPage(page, fn, args = null) {
  return page.evaluate(async ({ src, args: a }) => {
    const core = await import('./pkg/how_llms_learn.js');
    await core.default();
    const { fmt, full } = await import('./js/format.js');
    const f = new Function('core', 'fmt', 'full', 'args', `return (${src})(core, fmt, full, args);`);
    return f(core, fmt, full, a);
  }, { src: fn.toString(), args });
}

const W = (stage) => `backprop-widget[stage="${stage}"]`;
const cellSel = (stage, name, r, c) => `${W(stage)} figure[data-name="${name}"] td[data-r="${r}"][data-c="${c}"]`;

/** Values (data-value) of every cell of a matrix figure, as a 2-D array of strings. */
function readMatrix(page, stage, name) {
  return page.evaluate(({ stage: s, name: n }) => {
    const widget = document.querySelector(`backprop-widget[stage="${s}"]`);
    const fig = widget.shadowRoot.querySelector(`figure[data-name="${n}"]`);
    if (!fig || fig.hidden || fig.closest('[hidden]')) return null;
    return [...fig.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => ({
      value: td.dataset.value,
      text: (td.querySelector('input') ? td.querySelector('input').value : td.textContent).trim(),
      masked: td.classList.contains('masked'),
    })));
  }, { stage, name });
}

function getState(page) {
  return page.evaluate(() => document.querySelector('backprop-widget[stage="forward"]').getState());
}

/** Compare a displayed matrix with the core's numbers: exact value, and the formatted text. */
async function expectMatrix(page, stage, name, expected, { signed = true, digits = 3, what = name } = {}) {
  const shown = await readMatrix(page, stage, name);
  assert(shown, `${what}: matrix ${name} is not shown in ${stage}`);
  const texts = await page.evaluate(async ({ m, signed: sg, digits: d }) => {
    const { fmt } = await import('./js/format.js');
    return m.map((row) => row.map((v) => (v == null ? 'masked' : fmt(v, d, sg))));
  }, { m: expected, signed, digits });
  eq(shown.length, expected.length, `${what}: rows`);
  expected.forEach((row, r) => {
    eq(shown[r].length, row.length, `${what}: columns of row ${r}`);
    row.forEach((v, c) => {
      if (v == null) { assert(shown[r][c].masked, `${what}[${r}][${c}] should be masked`); return; }
      eq(shown[r][c].value, String(v), `${what}[${r}][${c}] full value`);
      eq(shown[r][c].text, texts[r][c], `${what}[${r}][${c}] text`);
    });
  });
}

async function noKatexErrors(page, what) {
  const errors = await page.evaluate(() => [...document.querySelectorAll('backprop-widget')]
    .flatMap((w) => [...w.shadowRoot.querySelectorAll('.katex-error')].map((e) => e.textContent)));
  eq(errors.length, 0, `${what}: KaTeX errors (${errors.join(' | ')})`);
}

async function toolbarLoss(page) {
  return page.evaluate(() => {
    const out = document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('.toolbar-loss-value');
    return { value: out.dataset.value, text: out.textContent };
  });
}

/** The deepest focused element (through shadow roots): a short description. */
function focused(page) {
  return page.evaluate(() => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    if (!el) return null;
    const fig = el.closest && el.closest('figure');
    const td = el.closest && el.closest('td');
    return {
      tag: el.tagName, cls: el.className, figure: fig ? fig.dataset.name : null,
      r: td ? Number(td.dataset.r) : null, c: td ? Number(td.dataset.c) : null, value: el.value ?? null,
    };
  });
}

async function runAxe(page, what) {
  await scrollChecksDone(page);
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    return {
      violations: r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => `${JSON.stringify(n.target)} ${n.failureSummary}`),
      })),
      passes: r.passes.length,
    };
  });
  const detail = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n         ${v.nodes.join('\n         ')}`).join('\n       ');
  assert(result.violations.length === 0, `${what}: ${result.violations.length} axe violation(s):\n       ${detail}`);
  return result;
}

// ---------- checks ----------
async function main() {
  browser = await launch();

  const { page, ctx } = await openPage();
  const article = await inPage(page, (core) => {
    const s = core.articleExample();
    return { state: s, forward: core.forward(s), loss: core.loss(s), backward: core.backward(s) };
  });

  await check('KaTeX is fetched only when a formula comes near the viewport; the live loss shows without it', async () => {
    const c = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await c.newPage();
    const requests = [];
    p.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await p.goto(`${BASE}/index.html`);
    await p.waitForFunction(() => /L\s*=\s*[0-9]/.test(document.querySelector('backprop-widget[stage="toolbar"]')?.shadowRoot?.textContent || ''), null, { timeout: 15000 });
    await p.waitForTimeout(500);
    const early = requests.filter((u) => /katex/.test(u));
    eq(early.length, 0, `KaTeX requests on the first screen (${early.join(', ')})`);
    const waitingBefore = await p.evaluate(() => [...document.querySelectorAll('backprop-widget')]
      .reduce((n, w) => n + w.shadowRoot.querySelectorAll('[data-tex-wait]').length, 0));
    assert(waitingBefore > 0, 'no formula waits for KaTeX');
    await p.evaluate(() => document.querySelector('#forward').scrollIntoView());
    await p.waitForFunction(() => document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelector('.formula .katex'), null, { timeout: 15000 });
    assert(requests.some((u) => u.endsWith('/vendor/katex/katex.mjs')), 'katex.mjs fetched after scrolling');
    await typesetFormulas(p);
    await c.close();
  });

  await check('every stage renders, with KaTeX formulas', async () => {
    const stages = await page.evaluate(() => [...document.querySelectorAll('backprop-widget')].map((w) => w.getAttribute('stage')));
    for (const s of ['toolbar', 'model', 'forward', 'target', 'loss', 'backward', 'update']) assert(stages.includes(s), `no ${s} widget`);
    const katexCount = await page.evaluate(() => [...document.querySelectorAll('backprop-widget')]
      .reduce((n, w) => n + w.shadowRoot.querySelectorAll('.katex').length, 0));
    assert(katexCount >= 20, `only ${katexCount} KaTeX formulas rendered`);
    await noKatexErrors(page, 'article example');
  });

  await check('the loss shown equals the core loss for the article example', async () => {
    const L = article.loss.value;
    const tb = await toolbarLoss(page);
    eq(tb.value, String(L), 'toolbar loss');
    const panel = await page.evaluate(() => {
      const td = document.querySelector('backprop-widget[stage="loss"]').shadowRoot.querySelector('td.loss-value');
      return { value: td.dataset.value, text: td.textContent };
    });
    eq(panel.value, String(L), 'loss panel value');
    const expectText = await page.evaluate(async (v) => (await import('./js/format.js')).fmt(v, 4), L);
    eq(panel.text, expectText, 'loss panel text');
    const span = await page.evaluate(() => document.querySelector('bp-value[key="loss.value"]').dataset.value);
    eq(span, String(L), 'live span in the article text');
    // Each term of the loss table, too.
    const terms = await page.evaluate(() => [...document.querySelector('backprop-widget[stage="loss"]').shadowRoot
      .querySelectorAll('td.term')].map((td) => td.dataset.value));
    const expected = article.loss.terms.filter((t) => t != null).map(String);
    eq(JSON.stringify(terms), JSON.stringify(expected), 'loss terms');
  });

  await check('forward panel shows the core\'s activations; masked attention entries are marked', async () => {
    await expectMatrix(page, 'forward', 'act-probs', article.forward.probs, { signed: false, what: 'probabilities' });
    await expectMatrix(page, 'forward', 'act-x', article.forward.x, { what: 'x' });
    await expectMatrix(page, 'forward', 'act-scores-h0', article.forward.scores[0], { what: 'scores head 1' });
    await expectMatrix(page, 'forward', 'act-attention-h0', article.forward.attention[0].map((row, t) => row.map((v, s) => (s > t ? null : v))),
      { signed: false, what: 'attention head 1' });
    const masked = await readMatrix(page, 'forward', 'act-scores-h0');
    assert(masked[0][1].masked && /masked/.test(masked[0][1].text), 'scores[0][1] is not visibly masked');
    await expectMatrix(page, 'backward', 'grad-wq', article.backward.weights.wq, { what: '∂L/∂W_Q' });
    await expectMatrix(page, 'backward', 'grad-logits', article.backward.activations.logits, { what: '∂L/∂logits' });
  });

  await check('the target panel shows the skipped last position and explains it', async () => {
    const info = await page.evaluate(() => {
      const root = document.querySelector('backprop-widget[stage="target"]').shadowRoot;
      return {
        skipped: [...root.querySelectorAll('[data-testid="skipped"]')].map((e) => e.textContent),
        explain: root.querySelector('[data-testid="skip-explanation"]').textContent,
        targets: [...root.querySelectorAll('td[data-target]')].map((e) => e.textContent),
      };
    });
    eq(info.skipped.length, 1, 'number of skipped positions');
    assert(/skipped/.test(info.skipped[0]), 'skipped cell says so');
    assert(/Position 1 \(“rocks”\) is the last/.test(info.explain) && /no end-of-sequence token/.test(info.explain), `explanation: ${info.explain}`);
    eq(JSON.stringify(info.targets), JSON.stringify(['rocks']), 'targets shown');
    const y = await readMatrix(page, 'target', 'target-y');
    assert(y[1][0].masked && y[1][1].masked && /no target/.test(y[1][0].text), 'row 1 of Y is marked as having no target');
    eq(y[0][1].value, '1', 'Y[0][rocks]');
    eq(y[0][0].value, '0', 'Y[0][AI]');
  });

  await check('editing a weight cell updates loss, probabilities and gradients to exactly the core\'s values, within one frame', async () => {
    const before = await toolbarLoss(page);
    await page.click(`${cellSel('forward', 'weight-wo', 0, 1)} input`);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('0.75');
    await page.keyboard.press('Enter');
    await frames(page, 1); // the repaint is scheduled for the next frame
    const expected = await inPage(page, (core) => {
      const s = core.articleExample();
      s.weights.wo[0][1] = 0.75;
      return { forward: core.forward(s), loss: core.loss(s), backward: core.backward(s) };
    });
    const tb = await toolbarLoss(page);
    eq(tb.value, String(expected.loss.value), 'toolbar loss after the edit');
    assert(tb.value !== before.value, 'loss did not change');
    const state = await getState(page);
    eq(state.weights.wo[0][1], 0.75, 'state.weights.wo[0][1]');
    await expectMatrix(page, 'forward', 'act-probs', expected.forward.probs, { signed: false, what: 'probabilities' });
    await expectMatrix(page, 'forward', 'act-attnOut', expected.forward.attnOut, { what: 'attention output' });
    await expectMatrix(page, 'forward', 'act-logits', expected.forward.logits, { what: 'logits' });
    for (const w of ['wq', 'wk', 'wv', 'wo', 'w1', 'unembedding', 'embedding']) {
      await expectMatrix(page, 'backward', `grad-${w}`, expected.backward.weights[w], { what: `∂L/∂${w}` });
    }
    await expectMatrix(page, 'backward', 'grad-scores-h0', expected.backward.activations.scores[0]
      .map((row, t) => row.map((v, s) => (s > t ? null : v))), { what: '∂L/∂scores' });
    const span = await page.evaluate(() => document.querySelector('bp-value[key="derived.targetProbs.0"]').dataset.value);
    eq(span, String(expected.forward.probs[0][1]), 'live probability span');
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 1);
    eq((await toolbarLoss(page)).value, String(article.loss.value), 'loss after undo');
  });

  await check('live formulas: numbers patched into a typeset formula read exactly like a fresh typesetting, MathML included', async () => {
    // Mark each typeset formula: a formula still holding its mark after the edit was patched.
    const liveFormulas = () => [...document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelectorAll('.formula.live')];
    await page.waitForFunction(`(${liveFormulas})().filter((el) => el.querySelector('.katex')).length >= 3`);
    const marked = await page.evaluate(`(${liveFormulas})().map((el) => { const k = el.querySelector('.katex'); if (k) k.dataset.mark = el.dataset.tex; return Boolean(k); }).filter(Boolean).length`);
    await page.click(`${cellSel('forward', 'weight-wo', 0, 0)} input`);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('0.9'); // every sign stays: only numbers change
    await page.keyboard.press('Enter');
    await frames(page, 2);
    const patched = await page.evaluate(`(${liveFormulas})().filter((el) => { const k = el.querySelector('.katex'); return k && k.dataset.mark && k.dataset.mark !== el.dataset.tex; }).length`);
    assert(patched >= 1, `no live formula was patched in place (${marked} typeset before the edit)`);
    const compare = () => page.evaluate(async () => {
      const katex = await (await import('./js/katex.js')).loadKatex();
      const norm = (t) => t.replace(/[\u200b\s]/g, '');
      return [...document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelectorAll('.formula.live')]
        .filter((el) => !el.hidden && el.querySelector('.katex'))
        .map((el) => {
          const fresh = document.createElement('div');
          katex.render(el.dataset.tex, fresh, { displayMode: true, throwOnError: false, strict: 'ignore', trust: (c) => c.command === '\\htmlData' });
          return {
            shown: norm(el.querySelector('.katex-html').textContent),
            fresh: norm(fresh.querySelector('.katex-html').textContent),
            shownMath: norm(el.querySelector('math').textContent.replace(/\\htmlData\{n=\}\{([^{}]*)\}/g, '$1')),
            freshMath: norm(fresh.querySelector('math').textContent.replace(/\\htmlData\{n=\}\{([^{}]*)\}/g, '$1')),
          };
        });
    });
    const now = await compare();
    assert(now.length >= 3, `only ${now.length} live formulas typeset`);
    now.forEach((f, i) => eq(f.shown, f.fresh, `live formula ${i} right after the edit`));
    // The MathML follows once edits pause, in idle time.
    let later = await compare();
    for (let i = 0; i < 50 && later.some((f) => f.shownMath !== f.freshMath); i += 1) {
      await page.waitForTimeout(100);
      later = await compare();
    }
    later.forEach((f, i) => eq(f.shownMath, f.freshMath, `live formula ${i}: MathML after the pause`));
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 1);
    eq((await toolbarLoss(page)).value, String(article.loss.value), 'loss after undo');
    return `${now.length} live formulas, ${patched} patched in place`;
  });

  await check('a derivation popover\'s sum equals the displayed gradient and its finite difference agrees', async () => {
    for (const [name, r, c] of [['grad-wq', 0, 0], ['grad-unembedding', 1, 0], ['grad-w1', 0, 1], ['grad-attention-h0', 1, 0], ['grad-embedding', 0, 1]]) {
      const cell = cellSel('backward', name, r, c);
      const shown = await page.$eval(cell, (td) => ({ value: td.dataset.value, text: td.textContent.trim() }));
      await page.click(`${cell} button`);
      await page.waitForSelector(`${W('backward')} dialog.derivation[open]`);
      const d = await page.evaluate(() => {
        const root = document.querySelector('backprop-widget[stage="backward"]').shadowRoot;
        const get = (sel) => root.querySelector(`dialog ${sel}`)?.dataset.value;
        return {
          total: Number(get('.deriv-total')), shownInDialog: get('.deriv-shown'),
          numeric: Number(get('.fd-numeric')), analytic: Number(get('.fd-analytic')), difference: Number(get('.fd-difference')),
          terms: root.querySelectorAll('dialog table.terms tbody tr').length,
          verdict: root.querySelector('dialog .fd-verdict')?.textContent || '',
          errors: root.querySelectorAll('dialog .error').length,
          katex: root.querySelectorAll('dialog .katex').length,
        };
      });
      eq(d.errors, 0, `${name}: errors in the dialog`);
      eq(d.shownInDialog, shown.value, `${name}: gradient quoted in the dialog`);
      const g = Number(shown.value);
      close(d.total, g, 1e-12 * Math.max(1, Math.abs(g)), `${name}: sum of terms vs displayed gradient`);
      const totalText = await page.evaluate(async ({ v, t }) => (await import('./js/format.js')).fmt(v, 3, true) === t, { v: d.total, t: shown.text });
      assert(totalText, `${name}: the sum rounds to a different text than the cell shows (${shown.text})`);
      eq(d.analytic, g, `${name}: finite-difference analytic value`);
      close(d.numeric, g, 1e-6, `${name}: finite difference vs gradient`);
      assert(/agree/.test(d.verdict), `${name}: verdict "${d.verdict}"`);
      assert(d.katex >= 1, `${name}: no formula in the dialog`);
      if (name === 'grad-wq') {
        await page.screenshot({ path: join(SHOTS, 'derivation-1280.png') });
      }
      await page.keyboard.press('Escape');
      await page.waitForSelector(`${W('backward')} dialog.derivation[open]`, { state: 'detached', timeout: 500 }).catch(() => {});
      const open = await page.evaluate(() => document.querySelector('backprop-widget[stage="backward"]').shadowRoot.querySelector('dialog').open);
      eq(open, false, `${name}: dialog closes with Escape`);
      const f = await focused(page);
      eq(f.figure, name, `${name}: focus returns to the cell`);
    }
  });

  await check('derivation links: from ∂L/∂W_Q[0][0] factor by factor to ∂L/∂logits, each sum equals the panel\'s gradient, no code names, Back returns', async () => {
    const dlg = `${W('backward')} dialog.derivation`;
    await page.selectOption(`${W('model')} fieldset:has(legend:text("End of sequence")) select`, { label: 'rocks' });
    await frames(page, 2);
    // Nearer the loss first: following the best-ranked link always ends at the logits.
    const ORDER = ['logits', 'xf', 'x2', 'mlpOut', 'hidden', 'u', 'mlpIn', 'x1', 'attnOut', 'z', 'attention', 'scores', 'q', 'k', 'v', 'attnIn', 'x'];
    // Code names, also when KaTeX runs a subscript into them ("wq0,0").
    const CODE = /[a-z]+\[\d|(?<![A-Za-z])(attnIn|attnOut|mlpIn|mlpOut|xf|probs|wq|wk|wv|wo|w1|w2|b1|b2|ln[12f](Gain|Bias)?|unembedding\d)(?![A-Za-z])/;
    const read = () => page.evaluate(() => {
      const root = document.querySelector('backprop-widget[stage="backward"]').shadowRoot;
      const d = root.querySelector('dialog.derivation');
      const cell = { group: d.dataset.group, name: d.dataset.name, index: d.dataset.index.split(',').map(Number) };
      const fig = cell.group === 'weights' ? `grad-${cell.name}` : cell.index.length === 3 ? `grad-${cell.name}-h${cell.index[0]}` : `grad-${cell.name}`;
      const [r, c] = cell.index.length === 3 ? cell.index.slice(1) : cell.index;
      const td = root.querySelector(`figure[data-name="${fig}"] td[data-r="${r}"][data-c="${c}"]`);
      // The text a reader sees, without KaTeX's hidden MathML copy (its LaTeX source).
      const copy = d.cloneNode(true);
      copy.querySelectorAll('.katex-mathml').forEach((m) => m.remove());
      return {
        cell, panel: td ? td.dataset.value : null,
        total: d.querySelector('.deriv-total')?.dataset.value, shown: d.querySelector('.deriv-shown')?.dataset.value,
        text: copy.textContent, errors: d.querySelectorAll('.error, .katex-error').length,
        title: d.querySelector('.deriv-title').textContent,
        links: [...d.querySelectorAll('button.factor-link')].map((b) => ({ key: b.dataset.key, name: b.dataset.name, size: Math.abs(Number(b.dataset.value)) })),
        back: !d.querySelector('.deriv-back').hidden,
      };
    });
    const where = (d) => `${d.cell.name}[${d.cell.index.join('][')}]`;
    await page.click(`${cellSel('backward', 'grad-wq', 0, 0)} button`);
    await page.waitForSelector(`${dlg}[open]`);
    const path = [];
    for (let steps = 0; steps < 20; steps += 1) {
      const d = await read();
      const at = where(d);
      path.push(d);
      eq(d.errors, 0, `${at}: errors in the dialog`);
      assert(d.panel != null, `${at}: no such cell in the back-propagation panel`);
      eq(d.shown, d.panel, `${at}: gradient quoted in the dialog vs the panel`);
      const g = Number(d.panel);
      close(Number(d.total), g, 1e-9 * Math.abs(g) + 1e-14, `${at}: sum of terms vs the panel's gradient`);
      const code = d.text.match(CODE);
      assert(!code, `${at}: code name "${code?.[0]}" in the dialog: …${d.text.slice(Math.max(0, (code?.index ?? 0) - 60), (code?.index ?? 0) + 40)}…`);
      eq(d.back, steps > 0, `${at}: Back shown`);
      if (d.cell.name === 'logits') break;
      assert(d.links.length > 0, `${at}: no factor links`);
      const rank = (l) => ORDER.indexOf(l.name) - l.size / (1 + l.size); // a larger gradient breaks a tie
      const next = d.links.reduce((best, l) => (rank(l) < rank(best) ? l : best));
      await page.click(`${dlg} button.factor-link[data-key="${next.key}"]`);
      await page.waitForFunction((key) => {
        const d = document.querySelector('backprop-widget[stage="backward"]').shadowRoot.querySelector('dialog.derivation');
        return `${d.dataset.group}:${d.dataset.name}:${d.dataset.index}` === key;
      }, next.key, { timeout: 2000 });
      eq((await focused(page)).cls, 'deriv-title', `after following ${next.key}: focus on the new title`);
    }
    const last = path[path.length - 1];
    eq(last.cell.name, 'logits', `the walk ends at ∂L/∂logits (walked ${path.map(where).join(' → ')})`);
    await runAxe(page, 'derivation dialog with Back and the trail');
    assert(path.length >= 6, `walk too short: ${path.map(where).join(' → ')}`);
    eq(path[0].cell.name, 'wq', 'the walk starts at W_Q');
    // Back, with the keyboard: each press returns one derivation and focuses the link followed.
    for (let k = path.length - 2; k >= 0; k -= 1) {
      await page.focus(`${dlg} .deriv-back`);
      await page.keyboard.press('Enter');
      const d = await read();
      eq(where(d), where(path[k]), `Back from ${where(path[k + 1])}`);
      eq(d.total, path[k].total, `${where(d)}: same sum after Back`);
      const f = await page.evaluate(() => {
        let el = document.activeElement;
        while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
        return el?.dataset?.key ?? el?.className;
      });
      const c = path[k + 1].cell;
      eq(f, `${c.group}:${c.name}:${c.index.join(',')}`, `${where(d)}: focus on the link that was followed`);
    }
    const home = await read();
    eq(where(home), 'wq[0][0]', 'Back ends at ∂L/∂W_Q[0][0]');
    eq(home.back, false, 'no Back at the first derivation');
    await page.keyboard.press('Escape');
    await page.click(`${W('toolbar')} button:has-text("Reset")`);
    await frames(page, 1);
    eq(JSON.stringify(await getState(page)), JSON.stringify(article.state), 'state after reset');
    console.log(`       walked ${path.map(where).join(' → ')}`);
  });

  await check('one step lowers the loss; undo restores the previous state; redo and Ctrl+Z work', async () => {
    const start = await getState(page);
    await page.click(`${W('update')} button:has-text("Take one step")`);
    await frames(page, 1);
    const shown = await page.evaluate(() => {
      const root = document.querySelector('backprop-widget[stage="update"]').shadowRoot;
      return { before: root.querySelector('.loss-before')?.dataset.value, after: root.querySelector('.loss-after')?.dataset.value };
    });
    const expected = await inPage(page, (core, fmt, full, s) => core.step(s, { optimizer: 'sgd', learningRate: 0.1 }), start);
    eq(shown.before, String(expected.lossBefore), 'loss before');
    eq(shown.after, String(expected.lossAfter), 'loss after');
    assert(expected.lossAfter < expected.lossBefore, `the step did not lower the loss (${expected.lossBefore} → ${expected.lossAfter})`);
    eq((await toolbarLoss(page)).value, String(expected.lossAfter), 'toolbar loss after the step');
    const stepped = await getState(page);
    eq(JSON.stringify(stepped.weights), JSON.stringify(expected.state.weights), 'weights after the step');
    await expectMatrix(page, 'update', 'upd-after', expected.state.weights.unembedding, { what: 'W′ shown' });
    await expectMatrix(page, 'update', 'upd-grad', article.backward.weights.unembedding, { what: '∇W shown' });
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 1);
    eq(JSON.stringify(await getState(page)), JSON.stringify(start), 'state after undo');
    eq((await toolbarLoss(page)).value, String(article.loss.value), 'loss after undo');
    await page.click(`${W('toolbar')} button:has-text("Redo")`);
    await frames(page, 1);
    eq((await toolbarLoss(page)).value, String(expected.lossAfter), 'loss after redo');
    await page.focus(`${W('update')} button:has-text("Take one step")`);
    await page.keyboard.press('Control+Z');
    await frames(page, 1);
    eq(JSON.stringify(await getState(page)), JSON.stringify(start), 'state after Ctrl+Z');
    await page.keyboard.press('Control+Shift+Z');
    await frames(page, 1);
    eq((await toolbarLoss(page)).value, String(expected.lossAfter), 'loss after Ctrl+Shift+Z');
    await page.keyboard.press('Control+Z');
    await frames(page, 1);
  });

  await check('keyboard only: Tab to a weight, arrows move, Enter commits, Escape cancels, invalid input is refused', async () => {
    await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
    await page.focus('body');
    let f = null;
    for (let i = 0; i < 120; i += 1) {
      await page.keyboard.press('Tab');
      f = await focused(page);
      if (f && f.cls === 'cell-input') break;
    }
    assert(f && f.cls === 'cell-input', 'Tab never reached a weight cell');
    eq(f.figure, 'weight-embedding', 'first weight cell reached by Tab');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    f = await focused(page);
    eq(`${f.figure}[${f.r}][${f.c}]`, 'weight-embedding[1][1]', 'arrow keys moved to');
    eq(f.value, '1', 'focused cell shows its full-precision value');
    await page.keyboard.type('2.5');
    await page.keyboard.press('Enter');
    await frames(page, 1);
    let s = await getState(page);
    eq(s.weights.embedding[1][1], 2.5, 'embedding[1][1] after Enter');
    const expected = await inPage(page, (core, fmt, full, st) => core.loss(st).value, s);
    eq((await toolbarLoss(page)).value, String(expected), 'loss after keyboard edit');
    // Escape cancels an edit in progress.
    await page.keyboard.type('9');
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowUp');
    await frames(page, 1);
    s = await getState(page);
    eq(s.weights.embedding[1][1], 2.5, 'Escape kept the value');
    f = await focused(page);
    eq(`${f.figure}[${f.r}][${f.c}]`, 'weight-embedding[0][1]', 'ArrowUp after Escape moved to');
    // Alt+ArrowUp nudges by 0.01.
    await page.keyboard.press('Alt+ArrowUp');
    await frames(page, 1);
    s = await getState(page);
    eq(s.weights.embedding[0][1], 0.01, 'Alt+ArrowUp nudge');
    // Invalid input: message, previous value kept.
    for (const bad of ['abc', 'NaN', 'Infinity', '1e309', '']) {
      await page.keyboard.press('Control+A');
      await page.keyboard.type(bad === '' ? ' ' : bad);
      await page.keyboard.press('Enter');
      await frames(page, 1);
      const msg = await page.evaluate(() => {
        const fig = document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelector('figure[data-name="weight-embedding"]');
        return { text: fig.querySelector('.mat-msg').textContent, invalid: fig.querySelector('td[data-r="0"][data-c="1"] input').getAttribute('aria-invalid') };
      });
      assert(/previous value/.test(msg.text), `no message for "${bad}": ${msg.text}`);
      eq(msg.invalid, 'true', `aria-invalid for "${bad}"`);
      eq((await getState(page)).weights.embedding[0][1], 0.01, `value kept after "${bad}"`);
      await page.keyboard.press('Escape');
    }
    // A comma decimal is read as a point, and said so.
    await page.keyboard.press('Control+A');
    await page.keyboard.type('0,5');
    await page.keyboard.press('Enter');
    await frames(page, 1);
    eq((await getState(page)).weights.embedding[0][1], 0.5, 'comma decimal');
    // Ctrl+Z from the cell undoes the app state.
    for (let i = 0; i < 3; i += 1) { await page.keyboard.press('Control+Z'); await frames(page, 1); }
    s = await getState(page);
    eq(JSON.stringify(s.weights.embedding), JSON.stringify(article.state.weights.embedding), 'embedding after three undos');
  });

  await check('pointer: dragging a weight sideways nudges it (one undo), the wheel nudges a focused cell', async () => {
    const start = await getState(page);
    const handle = page.locator(`${cellSel('forward', 'weight-w2', 1, 0)} input`);
    await handle.scrollIntoViewIfNeeded();
    const box = await handle.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 8; i += 1) await page.mouse.move(box.x + box.width / 2 + i * 5, box.y + box.height / 2);
    await page.mouse.up();
    await frames(page, 1);
    let s = await getState(page);
    eq(s.weights.w2[1][0], Math.round((start.weights.w2[1][0] + 40 * 0.005) * 1000) / 1000, 'w2[1][0] after a 40 px drag');
    const expected = await inPage(page, (core, fmt, full, st) => core.loss(st).value, s);
    eq((await toolbarLoss(page)).value, String(expected), 'loss after the drag');
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 1);
    eq(JSON.stringify(await getState(page)), JSON.stringify(start), 'one undo undoes the whole drag');
    await page.focus(`${cellSel('forward', 'weight-w2', 1, 0)} input`);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -100);
    await page.mouse.wheel(0, -100);
    await frames(page, 2);
    s = await getState(page);
    eq(s.weights.w2[1][0], Math.round((start.weights.w2[1][0] + 0.02) * 1000) / 1000, 'w2[1][0] after two wheel notches');
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 1);
    eq(JSON.stringify(await getState(page)), JSON.stringify(start), 'one undo undoes the wheel nudges');
  });

  await check('an Adam step matches the core and carries the optimiser state', async () => {
    const start = await getState(page);
    await page.check(`${W('update')} input[value="adam"]`);
    await page.fill(`${W('update')} label:has-text("Learning rate") input`, '0.05');
    await page.click(`${W('update')} button:has-text("Take one step")`);
    await frames(page, 1);
    const expected = await inPage(page, (core, fmt, full, st) => core.step(st, { optimizer: 'adam', learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }), start);
    const s = await getState(page);
    eq(JSON.stringify(s.weights), JSON.stringify(expected.state.weights), 'weights after the Adam step');
    eq(s.optimizer.step, 1, 'optimizer.step');
    assert(expected.lossAfter < expected.lossBefore, 'Adam step lowered the loss');
    await noKatexErrors(page, 'Adam step');
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await page.check(`${W('update')} input[value="sgd"]`);
    await page.fill(`${W('update')} label:has-text("Learning rate") input`, '0.1');
    await frames(page, 1);
    eq(JSON.stringify(await getState(page)), JSON.stringify(start), 'state after undo');
  });

  await check('token names are text: markup in a token name is shown, never run', async () => {
    let dialogs = 0;
    page.on('dialog', (d) => { dialogs += 1; d.dismiss().catch(() => {}); });
    const evil = '<img src=x onerror=alert(1)>';
    await page.fill(`${W('model')} input[aria-label="Vocabulary entry 2"]`, evil);
    await page.press(`${W('model')} input[aria-label="Vocabulary entry 2"]`, 'Enter');
    await frames(page, 2);
    eq((await getState(page)).vocab[1], evil, 'renamed token');
    const found = await page.evaluate((name) => {
      const roots = [document, ...[...document.querySelectorAll('backprop-widget')].map((w) => w.shadowRoot)];
      const imgs = roots.reduce((n, r) => n + r.querySelectorAll('img').length, 0);
      const asText = roots.reduce((n, r) => n + [...r.querySelectorAll('th, td, option')].filter((e) => e.textContent.includes(name)).length, 0);
      return { imgs, asText };
    }, evil);
    eq(found.imgs, 0, 'img elements created');
    assert(found.asText >= 5, `token name shown as text only ${found.asText} times`);
    await page.click(`${cellSel('backward', 'grad-unembedding', 0, 1)} button`);
    await page.waitForSelector(`${W('backward')} dialog.derivation[open]`);
    const title = await page.$eval(`${W('backward')} dialog .deriv-title`, (e) => e.textContent);
    assert(title.includes(evil), `dialog title: ${title}`);
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
    eq(dialogs, 0, 'alert dialogs');
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 1);
    eq((await getState(page)).vocab[1], 'rocks', 'name after undo');
  });

  await check('the model panel: end-of-sequence token, vocabulary and size changes keep a valid state', async () => {
    const model = W('model');
    await page.selectOption(`${model} fieldset:has(legend:text("End of sequence")) select`, { label: 'rocks' });
    await frames(page, 1);
    let s = await getState(page);
    eq(s.eos, 'rocks', 'eos');
    const targetInfo = await page.evaluate(() => {
      const root = document.querySelector('backprop-widget[stage="target"]').shadowRoot;
      return { skipped: root.querySelectorAll('[data-testid="skipped"]').length, eos: root.querySelectorAll('td.eos').length };
    });
    eq(targetInfo.skipped, 0, 'no skipped position with an eos token');
    eq(targetInfo.eos, 1, 'eos target shown');
    const lossEos = await inPage(page, (core, fmt, full, st) => core.loss(st), s);
    eq(lossEos.count, 2, 'N with eos');
    eq((await toolbarLoss(page)).value, String(lossEos.value), 'loss with eos');
    // d_model 4, 2 heads: heads offered are divisors only.
    await page.selectOption(`${model} label:has-text("d_model") select`, '4');
    await frames(page, 1);
    const heads = await page.$$eval(`${model} label:has-text("Attention heads") option`, (os) => os.map((o) => o.value));
    eq(JSON.stringify(heads), JSON.stringify(['1', '2', '4']), 'head options for d_model 4');
    await page.selectOption(`${model} label:has-text("Attention heads") select`, '2');
    await frames(page, 1);
    s = await getState(page);
    eq(s.config.dModel, 4, 'dModel');
    eq(s.config.nHeads, 2, 'nHeads');
    eq(s.weights.wq.length, 4, 'wq rows');
    const fw = await inPage(page, (core, fmt, full, st) => core.forward(st), s);
    await expectMatrix(page, 'forward', 'act-probs', fw.probs, { signed: false, what: 'probabilities at d_model 4' });
    await expectMatrix(page, 'forward', 'act-attention-h1', fw.attention[1].map((row, t) => row.map((v, c) => (c > t ? null : v))), { signed: false, what: 'head 2 attention' });
    // Layer norm on.
    await page.check(`${model} input[type="checkbox"]`);
    await frames(page, 1);
    s = await getState(page);
    assert(s.config.layerNorm && s.weights.ln1Gain, 'layer norm weights exist');
    await noKatexErrors(page, 'layer norm, 2 heads, d_model 4');
    await page.selectOption(`${model} label:has-text("Feed-forward size") select`, '0');
    await frames(page, 1);
    assert(!(await getState(page)).weights.w1, 'no feed-forward weights with dFf 0');
    await noKatexErrors(page, 'no feed-forward block');
    await page.selectOption(`${model} label:has-text("Feed-forward size") select`, '4');
    await page.selectOption(`${model} label:has-text("Activation") select`, 'gelu');
    await frames(page, 1);
    eq((await getState(page)).config.activation, 'gelu', 'activation');
    await noKatexErrors(page, 'gelu');
    // Add a vocabulary entry and use it.
    await page.fill(`${model} input[aria-label="New vocabulary entry"]`, 'learn');
    await page.click(`${model} button:has-text("Add to vocabulary")`);
    await frames(page, 1);
    s = await getState(page);
    eq(JSON.stringify(s.vocab), JSON.stringify(['AI', 'rocks', 'learn']), 'vocab after add');
    // Refuse to remove a token the input uses.
    await page.click(`${model} button[aria-label="Remove “AI” from the vocabulary"]`);
    await frames(page, 1);
    // The message stands next to the entry that caused it.
    const msg = await page.$eval(`${model} li.chip:has(button[aria-label="Remove “AI” from the vocabulary"]) .field-msg`, (e) => e.textContent);
    assert(/used once in the input/.test(msg), `message: ${msg}`);
    eq((await getState(page)).vocab.length, 3, 'vocab unchanged');
    // Rename a token: the input follows.
    await page.fill(`${model} input[aria-label="Vocabulary entry 1"]`, 'AI!');
    await page.press(`${model} input[aria-label="Vocabulary entry 1"]`, 'Enter');
    await frames(page, 1);
    s = await getState(page);
    eq(s.tokens[0], 'AI!', 'renamed input token');
    // Reset to the article's values.
    await page.click(`${W('toolbar')} button:has-text("Reset")`);
    await frames(page, 1);
    eq(JSON.stringify(await getState(page)), JSON.stringify(article.state), 'state after reset');
  });

  await check('a single token without end-of-sequence token: every panel says why there is no loss, weights stay editable', async () => {
    await page.click(`${W('model')} button[aria-label="Remove position 1 from the input"]`);
    await frames(page, 1);
    const notes = await page.evaluate(() => ['target', 'loss', 'backward', 'update'].map((s) => {
      const why = document.querySelector(`backprop-widget[stage="${s}"]`).shadowRoot.querySelector('.why:not([hidden])');
      return why ? why.textContent : '';
    }));
    notes.forEach((t, i) => assert(/single token/.test(t), `panel ${i} has no explanation: "${t}"`));
    const tb = await toolbarLoss(page);
    assert(/no position has a target/.test(tb.text), `toolbar: ${tb.text}`);
    // Without a loss the forward pass is still there to explore: a weight edit is taken and
    // shows the core's numbers (only a non-finite forward pass would be refused).
    await page.click(`${cellSel('forward', 'weight-wo', 0, 1)} input`);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('0.75');
    await page.keyboard.press('Enter');
    await frames(page, 1);
    const single = await getState(page);
    eq(single.weights.wo[0][1], 0.75, 'weight edited without a target');
    const fw = await inPage(page, (core, fmt, full, st) => core.forward(st), single);
    await expectMatrix(page, 'forward', 'act-probs', fw.probs, { signed: false, what: 'probabilities without a target' });
    assert(/no position has a target/.test((await toolbarLoss(page)).text), 'toolbar still explains the missing loss');
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 1);
    eq((await toolbarLoss(page)).value, String(article.loss.value), 'loss after undo');
  });

  await check('training: play/pause draws a loss curve, lowers the loss, one undo restores', async () => {
    const start = await getState(page);
    await page.click(`${W('update')} button:has-text("Play training")`);
    await page.waitForTimeout(900);
    await page.click(`${W('update')} button:has-text("Pause training")`);
    await frames(page, 1);
    const info = await page.evaluate(() => {
      const root = document.querySelector('backprop-widget[stage="update"]').shadowRoot;
      return {
        steps: Number(root.querySelector('[data-testid="step-counter"]').textContent),
        points: root.querySelector('.curve-line').getAttribute('points').split(' ').filter(Boolean).length,
        label: root.querySelector('svg.curve').getAttribute('aria-label'),
      };
    });
    assert(info.steps >= 3, `only ${info.steps} steps`);
    eq(info.points, info.steps + 1, 'curve points');
    const loss = Number((await toolbarLoss(page)).value);
    assert(loss < article.loss.value, `loss did not fall: ${loss}`);
    const stepErrors = await page.evaluate(() => [...document.querySelector('backprop-widget[stage="update"]').shadowRoot.querySelectorAll('.katex-error')].map((e) => e.textContent));
    eq(stepErrors.length, 0, `KaTeX errors in the update panel (${stepErrors.join(' | ')})`);
    await page.addStyleTag({ content: '.toolbar-widget { position: static !important; }' });
    await page.locator('#update').screenshot({ path: join(SHOTS, 'update-after-training-1280.png') });
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 1);
    eq(JSON.stringify(await getState(page)), JSON.stringify(start), 'one undo restores the state before the run');
  });

  await check('the reader\'s state survives a reload until reset', async () => {
    await page.click(`${cellSel('forward', 'weight-wk', 1, 1)} input`);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('-0.25');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(400); // saving is debounced
    await page.reload();
    await waitReady(page, { timeout: 15000 });
    eq((await getState(page)).weights.wk[1][1], -0.25, 'edited weight after reload');
    await page.click(`${W('toolbar')} button:has-text("Reset")`);
    await page.waitForTimeout(400);
    await page.reload();
    await waitReady(page, { timeout: 15000 });
    eq(JSON.stringify(await getState(page)), JSON.stringify(article.state), 'article state after reset and reload');
  });

  // ---------- issue 11, parts 4 and 5: prose, messages and small truths ----------
  // Each of these opens its own page, so it can run alone (node tests/e2e/run.mjs "prose").
  const proseText = (p, id) => p.evaluate((i) => document.querySelector(`#${i} .prose`).innerText.replace(/\s+/g, ' '), id);
  const shadowText = (p, stage, sel) => p.evaluate(({ s, q }) => {
    const el = document.querySelector(`backprop-widget[stage="${s}"]`).shadowRoot.querySelector(q);
    return el ? el.textContent.replace(/\s+/g, ' ') : null;
  }, { s: stage, q: sel });
  const rename = async (p, i, name) => {
    await p.fill(`${W('model')} input[aria-label="Vocabulary entry ${i + 1}"]`, name);
    await p.press(`${W('model')} input[aria-label="Vocabulary entry ${i + 1}"]`, 'Enter');
    await frames(p, 2);
  };

  await check('prose follows the state: a renamed token, and 0, 1 or many targets, read right everywhere', async () => {
    const { page: p, ctx: c } = await openPage();
    let model = await proseText(p, 'model');
    assert(model.includes('Ours knows 2 tokens, its vocabulary {AI, rocks}, and reads the input “AI rocks”'), `model prose: ${model}`);
    await rename(p, 0, 'Bots');
    model = await proseText(p, 'model');
    assert(model.includes('its vocabulary {Bots, rocks}, and reads the input “Bots rocks”'), `model prose after the rename: ${model}`);
    // No sentence anywhere (article or panels) still quotes the old name.
    const everywhere = (await p.evaluate(() => [document.querySelector('main').innerText,
      ...[...document.querySelectorAll('backprop-widget')].map((w) => w.shadowRoot.querySelector('.bp').innerText)].join('\n')))
      .replace('Renamed “AI” to “Bots”.', ''); // the rename's own report names the old name, rightly
    assert(!/\bAI\b/.test(everywhere), `“AI” is still quoted: …${everywhere.slice(Math.max(0, everywhere.search(/\bAI\b/) - 80), everywhere.search(/\bAI\b/) + 40)}…`);
    // One target of two positions.
    assert((await proseText(p, 'loss')).includes('Right now 1 of 2 positions has a target, so N = 1 and L ='), `loss prose: ${await proseText(p, 'loss')}`);
    assert((await proseText(p, 'target')).includes('With the current input, 1 of 2 positions has a target: after “Bots” the model should predict “rocks”.'), `target prose: ${await proseText(p, 'target')}`);
    assert((await shadowText(p, 'target', '[data-testid="skip-explanation"]')).endsWith('1 of 2 positions has a target.'), 'target panel, one target');
    // Two targets of three positions.
    await p.click(`${W('model')} button:has-text("Add a token to the input")`);
    await frames(p, 2);
    assert((await proseText(p, 'loss')).includes('Right now 2 of 3 positions have a target, so N = 2'), `loss prose, 2 targets: ${await proseText(p, 'loss')}`);
    assert((await shadowText(p, 'target', '[data-testid="skip-explanation"]')).endsWith('2 of 3 positions have a target.'), 'target panel, two targets');
    // All positions, with an end-of-sequence token.
    await p.selectOption(`${W('model')} [data-testid="eos-select"]`, { label: 'rocks' });
    await frames(p, 2);
    assert((await proseText(p, 'loss')).includes('Right now all 3 positions have a target, so N = 3'), `loss prose, eos: ${await proseText(p, 'loss')}`);
    assert(!(await proseText(p, 'target')).includes('it just isn’t scored'), 'no “isn’t scored” sentence when the last position has a target');
    // No target at all: one token, no end-of-sequence token. No dash where a number was.
    await p.selectOption(`${W('model')} [data-testid="eos-select"]`, { label: 'none' });
    for (const i of [2, 1]) {
      await p.click(`${W('model')} button[aria-label="Remove position ${i} from the input"]`);
      await frames(p, 2);
    }
    const lossProse = await proseText(p, 'loss');
    assert(lossProse.includes('Right now no position has a target, so N = 0 and there is no loss to compute'), `loss prose, no target: ${lossProse}`);
    const dashes = await p.evaluate(() => [...document.querySelectorAll('bp-value')]
      .filter((e) => e.getClientRects().length && e.textContent === '—').map((e) => e.getAttribute('key')));
    eq(dashes.join(', '), '', 'live values shown as a dash');
    assert((await proseText(p, 'target')).includes('With the current input, no position has a target.'), `target prose, no target: ${await proseText(p, 'target')}`);
    await c.close();
  });

  await check('errors are in the reader’s words and stand next to the field that caused them', async () => {
    const { page: p, ctx: c } = await openPage();
    const model = W('model');
    const panelMsg = () => shadowText(p, 'model', '.panel-msg');
    // Renaming to a name the vocabulary has: next to that entry, in words, the entry keeps its name.
    await rename(p, 1, 'AI');
    const chip = `${model} li.chip:has(input[aria-label="Vocabulary entry 2"])`;
    const msg = await p.$eval(`${chip} .field-msg`, (e) => e.textContent);
    eq(msg, 'The vocabulary already has “AI”. Every token needs a name of its own; pick another one. Nothing was changed.', 'rename message');
    const aria = await p.$eval(`${chip} input`, (e) => ({ invalid: e.getAttribute('aria-invalid'), by: e.getAttribute('aria-describedby'), value: e.value }));
    eq(aria.invalid, 'true', 'the entry is marked invalid');
    eq(await p.$eval(`${chip} .field-msg`, (e) => e.id), aria.by, 'the entry points to its message');
    eq(aria.value, 'rocks', 'the entry keeps its name');
    eq(await panelMsg(), '', 'no second copy at the bottom of the panel');
    // Adding a name the vocabulary has, and a blank one: next to the new-entry box.
    await p.fill(`${model} input[aria-label="New vocabulary entry"]`, 'rocks');
    await p.click(`${model} button:has-text("Add to vocabulary")`);
    await frames(p, 1);
    const vocabBox = `${model} fieldset:has(legend:text("Vocabulary"))`;
    eq(await p.$eval(`${vocabBox} .field-slot .field-msg`, (e) => e.textContent), 'The vocabulary already has “rocks”. Every token needs a name of its own; pick another one. Nothing was changed.', 'add message');
    eq(await p.$$eval(`${model} .field-msg`, (es) => es.length), 1, 'one error at a time (the rename error is gone)');
    eq(await p.$eval(`${model} input[aria-label="New vocabulary entry"]`, (e) => e.getAttribute('aria-invalid')), 'true', 'the new-entry box is marked invalid');
    await p.fill(`${model} input[aria-label="New vocabulary entry"]`, '   ');
    await p.click(`${model} button:has-text("Add to vocabulary")`);
    await frames(p, 1);
    assert(/^A token needs at least one visible character/.test(await p.$eval(`${vocabBox} .field-slot .field-msg`, (e) => e.textContent)), 'blank name message');
    // No core field path reaches the reader.
    const all = await p.evaluate(() => document.querySelector('backprop-widget[stage="model"]').shadowRoot.querySelector('.bp').innerText);
    assert(!/vocab\[|tokens\[|which is not in vocab/.test(all), `a raw core message is shown: ${all}`);
    // A good change clears the error and its marks.
    await p.fill(`${model} input[aria-label="New vocabulary entry"]`, 'learn');
    await p.click(`${model} button:has-text("Add to vocabulary")`);
    await frames(p, 2);
    eq(await p.$$eval(`${model} .field-msg`, (es) => es.length), 0, 'errors after a good change');
    eq(await p.$eval(`${model} input[aria-label="New vocabulary entry"]`, (e) => e.getAttribute('aria-invalid')), null, 'aria-invalid after a good change');
    // The mapping of the other reader-facing fields, and unknown messages passing through.
    const mapped = await p.evaluate(async () => {
      const { readerError } = await import('./js/messages.js');
      return [
        readerError('tokens[0] is "paper", which is not in vocab'),
        readerError('tokens has 5 tokens but config.context is 4; the input may be at most as long as the context'),
        readerError('eos is "x", which is not in vocab; the end-of-sequence token must be a vocabulary token (or null)'),
        readerError('vocab[3] has 70 characters; a token may have at most 64'),
        readerError('weights.wq row 1 has 3 numbers, expected 2'),
      ];
    });
    eq(mapped[0].text, '“paper” is not in the vocabulary. Add it to the vocabulary first, or pick one of its tokens.', 'tokens[i] message');
    eq(mapped[0].field, 'tokens', 'tokens[i] field');
    assert(/at most 4 tokens \(the context length\)/.test(mapped[1].text), `context message: ${mapped[1].text}`);
    eq(mapped[2].field, 'eos', 'eos field');
    eq(mapped[3].text, 'That name has 70 characters; a token may have at most 64.', 'long name');
    eq(mapped[4].text, 'weights.wq row 1 has 3 numbers, expected 2', 'an unknown message passes unchanged');
    // A weight that overflows the model: said under its matrix, without the core's field talk.
    await p.click(`${cellSel('forward', 'weight-embedding', 0, 0)} input`);
    await p.keyboard.press('Control+A');
    await p.keyboard.type('1e300');
    await p.keyboard.press('Enter');
    await frames(p, 1);
    const wmsg = await p.$eval(`${W('forward')} figure[data-name="weight-embedding"] .mat-msg`, (e) => e.textContent);
    assert(/grow too large for a 64-bit float/.test(wmsg) && /use a smaller number/.test(wmsg) && /previous value/.test(wmsg), `weight message: ${wmsg}`);
    await c.close();
  });

  await check('a step or a training run that diverges says to lower the learning rate', async () => {
    const { page: p, ctx: c } = await openPage();
    const upd = W('update');
    const setRate = async (v) => { await p.fill(`${upd} input[inputmode="decimal"]`, v); await p.press(`${upd} input[inputmode="decimal"]`, 'Tab'); };
    const msg = () => shadowText(p, 'update', '.panel-msg');
    const before = await getState(p);
    await setRate('1e300');
    await p.click(`${upd} button:has-text("Take one step")`);
    await frames(p, 1);
    let m = await msg();
    assert(/^No step was taken: The learning rate η = 1e\+300 is too large/.test(m) && /Lower the learning rate \(try 1e\+299\)/.test(m), `step message: ${m}`);
    assert(!/weights smaller/.test(m), `step message blames the weights: ${m}`);
    eq(JSON.stringify(await getState(p)), JSON.stringify(before), 'the state is kept');
    // A step whose new state has no finite gradient: the core says "make the weights smaller"
    // (about a state); here the learning rate caused it, so the reader is told to lower that.
    await setRate('10');
    await p.click(`${upd} button:has-text("Take one step")`);
    await frames(p, 1);
    m = await msg();
    assert(/^No step was taken: The learning rate η = 10 is too large/.test(m) && /\(try 1\)/.test(m) && !/weights smaller/.test(m), `step message, lr 10: ${m}`);
    // A single step that raises the loss (finite) says the same.
    await setRate('9');
    await p.click(`${upd} button:has-text("Take one step")`);
    await frames(p, 1);
    m = await msg();
    assert(/^One step taken: the loss went from 1\.0114 to [\d.]+\. It went up: the step overshot, so the learning rate is too large for this spot; lower it\./.test(m), `step that raised the loss: ${m}`);
    await p.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(p, 1);
    // A training run whose loss explodes (finite, but far above where it started) stops and says why.
    await setRate('9');
    await p.click(`${upd} button:has-text("Play training")`);
    await p.waitForFunction(() => document.querySelector('backprop-widget[stage="update"]').shadowRoot.querySelector('button[aria-pressed="false"]'), null, { timeout: 5000 });
    m = await msg();
    assert(/^Training stopped after \d+ steps?: the loss grew from/.test(m) && /η = 9 is too large/.test(m) && /Lower the learning rate/.test(m), `training message: ${m}`);
    // A run whose next state has no finite gradient (the core then says "make the weights
    // smaller", about the state) says the same: the learning rate did it.
    await p.click(`${W('toolbar')} button:has-text("Undo")`);
    await setRate('10');
    await p.click(`${upd} button:has-text("Play training")`);
    await p.waitForFunction(() => document.querySelector('backprop-widget[stage="update"]').shadowRoot.querySelector('button[aria-pressed="false"]'), null, { timeout: 5000 });
    m = await msg();
    assert(/Lower the learning rate/.test(m) && !/weights smaller/.test(m), `overflowing run: ${m}`);
    await c.close();
  });

  await check('Reset clears the loss curve', async () => {
    const { page: p, ctx: c } = await openPage();
    const upd = W('update');
    for (let i = 0; i < 2; i += 1) await p.click(`${upd} button:has-text("Take one step")`);
    await frames(p, 2);
    const curve = () => p.evaluate(() => {
      const root = document.querySelector('backprop-widget[stage="update"]').shadowRoot;
      return { steps: root.querySelector('[data-testid="step-counter"]').textContent, points: root.querySelector('.curve-line').getAttribute('points'), label: root.querySelector('svg.curve').getAttribute('aria-label'), stepShown: !root.querySelector('.step-result').hidden };
    });
    let info = await curve();
    eq(info.steps, '2', 'steps before the reset');
    assert(info.points.split(' ').length === 3, `curve before the reset: ${info.points}`);
    await p.click(`${W('toolbar')} button:has-text("Reset")`);
    await frames(p, 2);
    info = await curve();
    eq(info.steps, '0', 'steps after the reset');
    eq(info.points, '', 'curve after the reset');
    eq(info.label, 'Loss curve: no steps yet', 'curve label after the reset');
    eq(info.stepShown, false, 'the last step is no longer shown');
    await c.close();
  });

  await check('the EOS menu explains end-of-sequence tokens and adds ⟨eos⟩ in one undoable change', async () => {
    const { page: p, ctx: c } = await openPage();
    const model = W('model');
    const box = `${model} fieldset:has(legend:text("End of sequence"))`;
    const hint = await p.$eval(`${box} .hint`, (e) => e.textContent);
    assert(/normally a token of its own/.test(hint) && /ordinary word instead and the last position is trained to predict that word/.test(hint), `hint: ${hint}`);
    const now = () => p.$eval(`${model} [data-testid="eos-now"]`, (e) => e.textContent);
    assert(/^None chosen: the last position \(“rocks”\) has no target/.test(await now()), `none: ${await now()}`);
    const before = await getState(p);
    eq(await p.$eval(`${box} button[data-action="add-eos"]`, (e) => e.textContent), 'Add “⟨eos⟩” and use it', 'button text');
    await p.click(`${box} button[data-action="add-eos"]`);
    await frames(p, 2);
    const s = await getState(p);
    eq(JSON.stringify(s.vocab), JSON.stringify(['AI', 'rocks', '⟨eos⟩']), 'vocab with ⟨eos⟩');
    eq(s.eos, '⟨eos⟩', 'eos');
    eq(s.weights.embedding.length, 3, 'the embedding grew by one row (resize)');
    eq(await p.$eval(`${model} [data-testid="eos-select"]`, (e) => e.selectedOptions[0].textContent), '⟨eos⟩', 'the menu shows it');
    assert(/^“⟨eos⟩” is the end-of-sequence token: the last position \(“rocks”\) learns to predict it/.test(await now()), `eos: ${await now()}`);
    eq(await p.$eval(`${box} button[data-action="add-eos"]`, (e) => e.hidden), true, 'no button once ⟨eos⟩ is the eos token');
    assert(/“⟨eos⟩” is the end-of-sequence token, so the model is trained to predict the end there: all 2 positions have a target\./.test(await shadowText(p, 'target', '[data-testid="skip-explanation"]')), 'target panel with ⟨eos⟩');
    await p.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(p, 2);
    eq(JSON.stringify(await getState(p)), JSON.stringify(before), 'one undo takes both away');
    // An ordinary word: what it means.
    await p.selectOption(`${model} [data-testid="eos-select"]`, { label: 'AI' });
    await frames(p, 2);
    assert(/^“AI” is an ordinary word of the input, not a token of its own\. The last position \(“rocks”\) is now trained to predict the word “AI” next/.test(await now()), `ordinary: ${await now()}`);
    const explain = await shadowText(p, 'target', '[data-testid="skip-explanation"]');
    assert(/“AI”, an ordinary word of the input, was chosen as the end-of-sequence token, so the model is trained to predict that word there/.test(explain), `target panel with an ordinary word: ${explain}`);
    await c.close();
  });

  await check('a share link carries the optimiser, its settings and the learning rate; an old link opens as before', async () => {
    const { page: p, ctx: c } = await openPage();
    const upd = W('update');
    await p.check(`${upd} input[value="adam"]`);
    const inputs = `${upd} input[inputmode="decimal"]`;
    const fillNth = async (i, v) => { const el = p.locator(inputs).nth(i); await el.fill(v); await el.press('Tab'); };
    await fillNth(0, '0.05');
    await fillNth(1, '0.8');
    await fillNth(2, '0.99');
    await fillNth(3, '1e-7');
    await p.click(`${upd} button:has-text("Take one step")`);
    await frames(p, 1);
    const state = await getState(p);
    await p.click(`${W('toolbar')} button[data-action="share"]`);
    await p.click(`${W('toolbar')} dialog.share-dialog button[data-action="copy-link"]`);
    await p.waitForFunction(() => document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('dialog input.share-link').value.includes('#'));
    const link = await p.locator(`${W('toolbar')} dialog.share-dialog input.share-link`).inputValue();
    const settings = (q) => q.evaluate(() => {
      const root = document.querySelector('backprop-widget[stage="update"]').shadowRoot;
      return [root.querySelector('input[value="adam"]').checked, ...[...root.querySelectorAll('input[inputmode="decimal"]')].map((e) => e.value), root.querySelector('.adam-options').hidden];
    });
    const other = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    const q = await other.newPage();
    recordConsoleProblems(q, consoleProblems);
    await q.goto(link);
    await waitReady(q, { timeout: 15000 });
    eq(JSON.stringify(await getState(q)), JSON.stringify(state), 'the state from the link');
    eq(JSON.stringify(await settings(q)), JSON.stringify([true, '0.05', '0.8', '0.99', '1e-7', false]), 'Adam, its settings and the rate from the link');
    // The next step there is the same Adam step as here.
    const expected = await inPage(q, (core, fmt, full, s) => core.step(s, { optimizer: 'adam', learningRate: 0.05, beta1: 0.8, beta2: 0.99, epsilon: 1e-7 }).lossAfter, state);
    await q.click(`${upd} button:has-text("Take one step")`);
    await frames(q, 1);
    eq((await toolbarLoss(q)).value, String(expected), 'loss after an Adam step on the opened link');
    // An old link (the state alone, as links were made before) opens exactly as before: SGD, 0.1.
    const oldLink = await p.evaluate(async (s) => {
      const { shareUrl } = await import('./js/share.js');
      return shareUrl(s, 'default');
    }, state);
    const r = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    const o = await r.newPage();
    recordConsoleProblems(o, consoleProblems);
    await o.goto(oldLink);
    await waitReady(o, { timeout: 15000 });
    eq(JSON.stringify(await getState(o)), JSON.stringify(state), 'the state from an old link');
    eq(JSON.stringify(await settings(o)), JSON.stringify([false, '0.1', '0.9', '0.999', '1e-8', true]), 'the page’s own settings for an old link');
    await other.close();
    await r.close();
    await c.close();
  });

  await check('the LaTeX export writes the shortest text that reads back as the same float', async () => {
    const { page: p, ctx: c } = await openPage();
    const values = [[1.1, 0.1 + 0.2], [1e-300, -2.5e-8], [1 / 3, -123456.789], [2.5e21, 5e-324]];
    await p.evaluate((v) => {
      const w = document.querySelector('backprop-widget[stage="forward"]');
      const s = w.getState();
      s.weights.wo = v.slice(0, 2);
      s.weights.wk = v.slice(2);
      w.setState(s);
    }, values);
    await frames(p, 2);
    await p.click(`${W('toolbar')} button[data-action="share"]`);
    const dlg = `${W('toolbar')} dialog.share-dialog`;
    const read = async (id) => {
      await p.selectOption(`${dlg} select.export-matrix`, id);
      await p.selectOption(`${dlg} select.export-format`, 'latex');
      const text = await p.locator(`${dlg} textarea.export-text`).inputValue();
      const body = text.slice(text.indexOf('\\begin{bmatrix}') + 15, text.indexOf('\\end{bmatrix}'));
      return body.split('\\\\').map((row) => row.split('&').map((cell) => cell.trim()));
    };
    const rows = [...await read('w:wo'), ...await read('w:wk')];
    const expectText = [['1.1', '0.30000000000000004'], ['1 \\times 10^{-300}', '-2.5 \\times 10^{-8}'], ['0.3333333333333333', '-123456.789'], ['2.5 \\times 10^{21}', '5 \\times 10^{-324}']];
    values.forEach((row, r) => row.forEach((v, i) => {
      eq(rows[r][i], expectText[r][i], `LaTeX text of ${v}`);
      const back = Number(rows[r][i].replace(/ \\times 10\^\{(-?\d+)\}/, 'e$1'));
      assert(Object.is(back, v), `${rows[r][i]} reads back as ${back}, not ${v}`);
    }));
    await c.close();
  });

  await check('axe-core: no WCAG 2 A/AA violations at 1280 px', async () => {
    await runAxe(page, '1280 px');
  });

  await check('axe-core: no violations with the derivation dialog open', async () => {
    await page.click(`${cellSel('backward', 'grad-wv', 0, 0)} button`);
    await page.waitForSelector(`${W('backward')} dialog.derivation[open]`);
    await runAxe(page, 'dialog open');
    await page.keyboard.press('Escape');
  });

  await check('screenshot at 1280 px', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, 'page-1280.png'), fullPage: true });
    await page.screenshot({ path: join(SHOTS, 'top-1280.png') });
    for (const id of ['model', 'forward', 'target', 'loss', 'backward', 'update']) {
      await page.locator(`#${id}`).screenshot({ path: join(SHOTS, `section-${id}-1280.png`) });
    }
  });
  await ctx.close();

  const narrow = await openPage({ width: 360, height: 780 });
  await check('360 px wide: no horizontal page overflow, matrices scroll in their own box', async () => {
    const p = narrow.page;
    const m = await p.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, inner: window.innerWidth }));
    assert(m.doc <= m.inner && m.body <= m.inner, `page is ${m.doc}px wide at ${m.inner}px`);
    // Nothing inside any widget sticks out of its host either.
    const wide = await p.evaluate(() => {
      const out = [];
      for (const w of document.querySelectorAll('backprop-widget')) {
        const host = w.getBoundingClientRect();
        for (const el of w.shadowRoot.querySelectorAll('.panel, .matrix, .formula, .step, table')) {
          if (el.closest('[hidden]') || el.closest('.mat-scroll, .formula, .terms-scroll')?.contains(el) && el.tagName === 'TABLE') continue;
          const r = el.getBoundingClientRect();
          if (r.width && r.right > host.right + 1) out.push(`${w.getAttribute('stage')}: ${el.className || el.tagName} ${Math.round(r.right)} > ${Math.round(host.right)}`);
        }
      }
      return out;
    });
    assert(wide.length === 0, `elements wider than their widget:\n       ${wide.slice(0, 8).join('\n       ')}`);
    // Open the model switches to the largest offered size: still no page overflow.
    await p.selectOption(`${W('model')} label:has-text("d_model") select`, '8');
    await p.selectOption(`${W('model')} label:has-text("Feed-forward size") select`, '16');
    await frames(p, 2);
    const m2 = await p.evaluate(() => document.documentElement.scrollWidth);
    assert(m2 <= 360, `page is ${m2}px wide at d_model 8`);
    await p.locator(`${W('forward')} .step:nth-of-type(3)`).screenshot({ path: join(SHOTS, 'large-360.png') });
    await p.click(`${W('toolbar')} button:has-text("Reset")`);
    await frames(p, 2);
  });
  await check('360 px wide: the derivation dialog fits, its terms table scrolls in its own box with a visible cue', async () => {
    const p = narrow.page;
    const dlg = `${W('backward')} dialog.derivation`;
    await p.locator(`${cellSel('backward', 'grad-unembedding', 1, 0)} button`).evaluate((b) => b.click());
    await p.waitForSelector(`${dlg}[open]`);
    // The dialog's numbers come from the full module, fetched on first use (extras.js).
    await p.waitForFunction(() => document.querySelector('backprop-widget[stage="backward"]').shadowRoot
      .querySelector('dialog.derivation .terms-scroll'), null, { timeout: 30000 });
    await frames(p, 3);
    const measure = () => p.evaluate(() => {
      const d = document.querySelector('backprop-widget[stage="backward"]').shadowRoot.querySelector('dialog.derivation');
      const box = d.querySelector('.terms-scroll');
      const hint = d.querySelector('.scroll-hint');
      const right = (sel) => Math.max(...[...d.querySelectorAll(sel)].map((e) => e.getBoundingClientRect().right));
      return {
        dialog: [d.scrollWidth, d.clientWidth], inner: window.innerWidth, box: [box.scrollWidth, box.clientWidth],
        focusable: box.getAttribute('tabindex'), hint: hint && getComputedStyle(hint).display !== 'none',
        buttons: right('.deriv-head button:not([hidden])'), name: d.dataset.name,
      };
    });
    let m = await measure();
    assert(m.dialog[0] <= m.dialog[1], `the dialog scrolls sideways itself: ${m.dialog}`);
    assert(m.box[0] > m.box[1], `the terms table fits at 360 px (${m.box}): nothing to check`);
    eq(m.focusable, '0', 'the scrolling table is keyboard-focusable');
    eq(m.hint, true, 'the sideways-scroll hint is shown');
    await p.screenshot({ path: join(SHOTS, 'derivation-360.png') });
    await p.click(`${dlg} button.factor-link`);
    await frames(p, 3);
    m = await measure();
    eq(m.name, 'logits', 'the link opened ∂L/∂logits');
    assert(m.dialog[0] <= m.dialog[1], `the dialog scrolls sideways itself after a link: ${m.dialog}`);
    assert(m.buttons <= m.inner, `Back or Close sticks out: ${m.buttons} > ${m.inner}`);
    eq(m.hint, m.box[0] > m.box[1], 'the hint shows exactly when the table scrolls');
    await p.keyboard.press('Escape');
  });
  await check('axe-core: no WCAG 2 A/AA violations at 360 px', async () => {
    await runAxe(narrow.page, '360 px');
  });
  await check('screenshot at 360 px', async () => {
    await narrow.page.evaluate(() => window.scrollTo(0, 0));
    await narrow.page.screenshot({ path: join(SHOTS, 'page-360.png'), fullPage: true });
    await narrow.page.screenshot({ path: join(SHOTS, 'top-360.png') });
    for (const id of ['model', 'forward', 'target', 'loss', 'backward', 'update']) {
      await narrow.page.locator(`#${id}`).screenshot({ path: join(SHOTS, `section-${id}-360.png`) });
    }
  });
  await narrow.ctx.close();

  await check('no console errors or warnings', async () => {
    assert(consoleProblems.length === 0, `${consoleProblems.length} console message(s):\n       ${consoleProblems.slice(0, 10).join('\n       ')}`);
  });
}

await finishSuite('e2e', main, { browser: () => browser, results });
