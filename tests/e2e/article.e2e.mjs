// The article as one piece (issue 13): guided experiments, honest colour scales, nothing cut off
// on a phone, the table of contents, the model diagram, and the embed example under the dev
// server. Screenshots of what it checks go to tests/e2e/screenshots/article-*.png.
//
//   node tests/e2e/article.e2e.mjs [check name …]

import { assert, checker, eq, finishSuite, frames, freePort, launch, recordConsoleProblems, serve, waitReady, prepareSuite, scrollChecksDone } from './harness.mjs';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const WWW = join(ROOT, 'www');
const SHOTS = join(HERE, 'screenshots');
const AXE = require.resolve('axe-core/axe.min.js');

prepareSuite('article e2e');
const BASE = await serve(WWW);

const results = [];
const consoleProblems = [];
const check = checker(results);
let browser;
let devServer = null;

async function openPage(width, height = 900) {
  // bypassCSP: axe-core and the core's helpers are injected (the CSP is tested in bad-input.e2e.mjs).
  const ctx = await browser.newContext({ viewport: { width, height }, bypassCSP: true });
  const page = await ctx.newPage();
  recordConsoleProblems(page, consoleProblems);
  await page.goto(`${BASE}/index.html`);
  await waitReady(page, { timeout: 15000 });
  return { page, ctx };
}

const W = (stage) => `backprop-widget[stage="${stage}"]`;
const getState = (page) => page.evaluate(() => document.querySelector('backprop-widget[stage="forward"]').getState());
const toolbarClick = async (page, name) => { await page.click(`${W('toolbar')} button:has-text("${name}")`); await frames(page, 2); };
const reset = (page) => toolbarClick(page, 'Reset');

/** Run fn(core, args) in the page with the wasm core. */
function inPage(page, fn, args = null) {
  return page.evaluate(async ({ src, args: a }) => {
    const core = await import('./pkg/how_llms_learn.js');
    await core.default();
    return new Function('core', 'args', `return (${src})(core, args);`)(core, a);
  }, { src: fn.toString(), args });
}

/** The live values the article's sentences show (bp-value data-value), by key. */
const liveValue = (page, key) => page.evaluate((k) => document.querySelector(`bp-value[key="${k}"]`)?.dataset.value ?? null, key);
const visible = (page, sel) => page.evaluate((s) => {
  const el = document.querySelector(s);
  return Boolean(el && el.getClientRects().length && !el.closest('[hidden]'));
}, sel);

async function runAxe(page, what) {
  await scrollChecksDone(page);
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const res = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    return res.violations.map((v) => `${v.id} (${v.impact}): ${v.help} ${v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(' ')}`);
  });
  assert(r.length === 0, `${what}: ${r.length} axe violation(s):\n       ${r.join('\n       ')}`);
}

/**
 * Every element, in the page and in every widget's shadow root, that is wider than its box at
 * the current scroll position (only what is near the viewport is laid out: content-visibility),
 * sorted into those that scroll with the affordance, those that scroll without it, and those
 * that cut their content off.
 */
function overflowReport(page) {
  return page.evaluate(() => {
    const all = [];
    const walk = (root) => {
      for (const el of root.querySelectorAll('*')) {
        all.push(el);
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    const out = { cut: [], bare: [], ok: 0 };
    const name = (el) => `${el.tagName.toLowerCase()}.${String(el.className?.baseVal ?? el.className).replace(/\s+/g, '.')}`;
    for (const el of all) {
      if (!el.getClientRects().length) continue;
      const rect = el.getBoundingClientRect();
      if (rect.bottom < -innerHeight || rect.top > 2 * innerHeight) continue;
      // (Visually hidden text, such as KaTeX's MathML copy for screen readers, is 1 px wide.)
      if (el.scrollWidth <= el.clientWidth + 1 || el.clientWidth <= 2) continue;
      const cs = getComputedStyle(el);
      if (cs.overflowX === 'visible') continue;
      if (cs.overflowX === 'hidden' || cs.overflowX === 'clip') {
        // Text shortened with an ellipsis says itself that it is cut (and has the full text in a title).
        if (cs.textOverflow === 'ellipsis') continue;
        // Boxes that only hide a sliver of subpixel overflow (KaTeX's struts) are not cut content.
        if (el.scrollWidth - el.clientWidth <= 2) continue;
        out.cut.push(`${name(el)} ${el.scrollWidth}>${el.clientWidth}`);
        continue;
      }
      const affordance = cs.backgroundAttachment.includes('local') && cs.scrollbarWidth !== 'none';
      if (affordance) out.ok += 1; else out.bare.push(`${name(el)} ${el.scrollWidth}>${el.clientWidth}`);
    }
    out.page = document.documentElement.scrollWidth;
    return out;
  });
}

async function main() {
  browser = await launch();
  const { page, ctx } = await openPage(1280);
  const article = await inPage(page, (core) => {
    const s = core.articleExample();
    return { state: s, loss: core.loss(s).value };
  });

  // ---------- A: guided experiments ----------
  const experiments = {
    eos: (s) => s.eos === '⟨eos⟩' && s.vocab.includes('⟨eos⟩'),
    long: (s) => s.tokens.length === s.config.context && s.tokens.join(' ') === 'AI rocks AI rocks',
    overshoot: (s) => JSON.stringify(s.weights) !== JSON.stringify(article.state.weights),
    dead: (s) => s.weights.b1[1] === -3,
    adam: (s) => s.optimizer?.step === 1,
  };
  for (const [action, changed] of Object.entries(experiments)) {
    await check(`try "${action}": one click changes the state as it says, Undo restores it`, async () => {
      await reset(page);
      const before = await getState(page);
      const button = page.locator(`bp-try[action="${action}"] button`).first();
      await button.scrollIntoViewIfNeeded();
      await button.click();
      await frames(page, 2);
      const after = await getState(page);
      assert(changed(after), `the state after “${action}” is not what the button says: ${JSON.stringify(after).slice(0, 200)}`);
      const said = await page.locator(`bp-try[action="${action}"] .try-result`).first().textContent();
      assert(/Undo puts it back/.test(said), `no result sentence: “${said}”`);
      if (action === 'long') await page.locator(`bp-try[action="${action}"]`).first().screenshot({ path: join(SHOTS, 'article-try-long-1280.png') });
      await toolbarClick(page, 'Undo');
      eq(JSON.stringify(await getState(page)), JSON.stringify(before), `Undo after “${action}”`);
      eq(await page.locator(`bp-try[action="${action}"] .try-result`).first().textContent(), '', 'the result sentence goes with the state it described');
    });
  }

  await check('try "overshoot": the core confirms the learning rate raises the loss; the sentence quotes the core', async () => {
    await reset(page);
    const core = await inPage(page, (c) => {
      const r = c.step(c.articleExample(), { optimizer: 'sgd', learningRate: 9 });
      return { before: r.lossBefore, after: r.lossAfter };
    });
    assert(core.after > core.before, `η = 9 does not overshoot: ${core.before} -> ${core.after}`);
    await page.locator('bp-try[action="overshoot"] button').click();
    await frames(page, 2);
    const said = await page.locator('bp-try[action="overshoot"] .try-result').textContent();
    const fmt4 = (x) => x.toFixed(4);
    assert(said.includes('went up') && said.includes(fmt4(core.before)) && said.includes(fmt4(core.after)),
      `the sentence does not give the core's numbers ${fmt4(core.before)} → ${fmt4(core.after)}: “${said}”`);
    const shown = Number(await page.evaluate(() => document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('.toolbar-loss-value').dataset.value));
    eq(shown, core.after, 'the toolbar shows the loss after the step');
    const rate = () => page.evaluate(() => document.querySelector('backprop-widget[stage="update"]').shadowRoot.querySelector('input.num-input').value);
    eq(await rate(), '9', 'the update panel shows the experiment\'s learning rate');
    await page.locator('bp-try[action="overshoot"]').screenshot({ path: join(SHOTS, 'article-try-overshoot-1280.png') });
    await toolbarClick(page, 'Undo');
    eq(await rate(), '0.1', 'Undo puts the learning rate back too');
  });

  await check('the zero attention gradients are explained exactly while they are zero', async () => {
    await reset(page);
    const grads = await inPage(page, (c) => c.backward(c.articleExample()));
    const zero = (m) => JSON.stringify(m).match(/-?\d[\d.e-]*/g).every((x) => Number(x) === 0);
    assert(zero(grads.activations.scores) && zero(grads.weights.wq) && zero(grads.weights.wk), 'the example\'s attention gradients are not zero');
    const sel = 'bp-when[key="derived.facts.attentionIdle"]:not([not])';
    eq(await visible(page, sel), true, 'the explanation shows in the article example');
    await page.locator('.attention-zero').screenshot({ path: join(SHOTS, 'article-attention-zero-1280.png') });
    await page.locator('#backward bp-try[action="eos"] button').click();
    await frames(page, 2);
    const after = await inPage(page, (c, s) => c.backward(s), await getState(page));
    assert(!zero(after.activations.scores), 'with an end-of-sequence token the scores get a gradient');
    eq(await visible(page, sel), false, 'the explanation hides once the gradients are not zero');
    await toolbarClick(page, 'Undo');
    eq(await visible(page, sel), true, 'and shows again after Undo');
  });

  await check('the dead ReLU sentence names the unit the core switches off', async () => {
    await reset(page);
    const f = await inPage(page, (c) => c.forward(c.articleExample()));
    // Position 0 is the only one with a target in the example.
    const off = f.hidden[0].map((x, j) => (x === 0 ? `h${j}` : null)).filter(Boolean);
    eq(await liveValue(page, 'derived.facts.inactiveUnitsText'), off.join(' and '), 'inactive units');
    eq(await visible(page, 'bp-when[key="derived.facts.inactiveUnitsText"]'), true, 'the sentence shows');
    eq(await visible(page, 'bp-when[key="derived.facts.deadUnitsText"]'), false, 'no unit is dead at every position in the example');
  });

  await check('the derivation of ∂L/∂logits quotes the core\'s numbers', async () => {
    await reset(page);
    const b = await inPage(page, (c) => {
      const s = c.articleExample();
      const l = c.loss(s);
      return { g: c.backward(s).activations.logits[0][l.targets[0]], p: c.forward(s).probs[0][l.targets[0]], n: l.count };
    });
    eq(Number(await liveValue(page, 'derived.logitGrad0')), b.g, '∂L/∂logits entry');
    eq(Number(await liveValue(page, 'derived.targetProbs.0')), b.p, 'P̂ entry');
    await page.locator('#backward .derive').screenshot({ path: join(SHOTS, 'article-derive-1280.png') });
  });

  // ---------- B: honest colours ----------
  await check('colour scale: entries below the display precision are neutral; the legend gives the range', async () => {
    await reset(page);
    await page.evaluate(() => {
      const w = document.querySelector('backprop-widget[stage="forward"]');
      const s = w.getState();
      s.weights.wq = [[1e-40, 0.0004], [-0.0003, 0.25]];
      s.weights.wk = [[1e-40, 0.0004], [-0.0003, 0]];
      w.setState(s);
    });
    await frames(page, 3);
    const read = (name) => page.evaluate((n) => {
      const fig = document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelector(`figure[data-name="${n}"]`);
      fig.scrollIntoView({ block: 'center' });
      return {
        mags: [...fig.querySelectorAll('tbody td')].map((td) => Number(td.style.getPropertyValue('--mag') || 0)),
        bg: [...fig.querySelectorAll('tbody td')].map((td) => getComputedStyle(td).backgroundColor),
        legend: fig.querySelector('.mat-scale').textContent,
      };
    }, name);
    await frames(page, 2);
    const wq = await read('weight-wq');
    eq(wq.mags.slice(0, 3).join(), '0,0,0', 'W_Q: 1e-40, 0.0004 and -0.0003 are uncoloured');
    eq(wq.mags[3], 1, 'W_Q: its largest entry has full colour');
    eq(new Set(wq.bg.slice(0, 3)).size, 1, 'the three small entries look the same');
    assert(/−0\.250.*\+0\.250/.test(wq.legend), `legend: “${wq.legend}”`);
    const wk = await read('weight-wk');
    eq(wk.mags.join(), '0,0,0,0', 'W_K: a matrix whose largest entry prints as 0.000 is uncoloured');
    assert(/all 0\.000: no colour/.test(wk.legend), `legend: “${wk.legend}”`);
    await page.locator(`${W('forward')} figure[data-name="weight-wq"]`).screenshot({ path: join(SHOTS, 'article-colour-wq-1280.png') });
    // The example's zero attention gradients: neutral, not saturated.
    await reset(page);
    const g = await page.evaluate(() => {
      const fig = document.querySelector('backprop-widget[stage="backward"]').shadowRoot.querySelector('figure[data-name="grad-wq"]');
      return [...fig.querySelectorAll('tbody td')].map((td) => Number(td.style.getPropertyValue('--mag') || 0));
    });
    assert(g.every((m) => m === 0), `∂L/∂W_Q cells are coloured: ${g}`);
  });

  // ---------- F: the diagram ----------
  await check('diagram: a removed diagram stops following the store and catches up when put back', async () => {
    await reset(page);
    const heads = () => page.evaluate(() => document.querySelector('bp-diagram[mode="forward"] svg').dataset.heads);
    const setHeads = (n) => page.evaluate(async (h) => {
      const core = await import('./pkg/how_llms_learn.js');
      await core.default();
      const w = document.querySelector('backprop-widget[stage="forward"]');
      w.setState(core.resize(w.getState(), { config: { ...w.getState().config, nHeads: h } }));
    }, n);
    eq(await heads(), '1', 'heads before');
    await page.evaluate(() => {
      const d = document.querySelector('bp-diagram[mode="forward"]');
      window.__diagramSpot = [d.parentNode, d.nextSibling];
      d.remove();
      window.__diagram = d;
    });
    await setHeads(2);
    await frames(page, 3);
    eq(await page.evaluate(() => window.__diagram.querySelector('svg').dataset.heads), '1', 'a removed diagram redrew (still subscribed)');
    await page.evaluate(() => { const [parent, next] = window.__diagramSpot; parent.insertBefore(window.__diagram, next); });
    await frames(page, 3);
    eq(await heads(), '2', 'heads after the diagram was put back');
    await reset(page);
  });

  await check('diagram: follows heads, layer norm and feed-forward; hover marks the matrices, click jumps to them', async () => {
    await reset(page);
    const blocks = () => page.evaluate(() => document.querySelector('bp-diagram[mode="forward"] svg').dataset);
    let d = await blocks();
    assert(!d.blocks.includes('ln1') && d.blocks.includes('ff'), `example blocks: ${d.blocks}`);
    eq(d.heads, '1', 'heads');
    await page.evaluate(async () => {
      const core = await import('./pkg/how_llms_learn.js');
      await core.default();
      const w = document.querySelector('backprop-widget[stage="forward"]');
      w.setState(core.resize(w.getState(), { config: { ...w.getState().config, layerNorm: true } }));
    });
    await frames(page, 3);
    d = await blocks();
    assert(['ln1', 'ln2', 'lnf'].every((b) => d.blocks.split(' ').includes(b)), `layer norm blocks missing: ${d.blocks}`);
    await reset(page);
    await page.evaluate(async () => {
      const core = await import('./pkg/how_llms_learn.js');
      await core.default();
      const w = document.querySelector('backprop-widget[stage="forward"]');
      w.setState(core.resize(w.getState(), { config: { ...w.getState().config, nHeads: 2, dFf: 0 } }));
    });
    await frames(page, 3);
    d = await blocks();
    eq(d.heads, '2', 'heads after the switch');
    assert(!d.blocks.includes('ff') && !d.blocks.includes('res2'), `feed-forward still drawn: ${d.blocks}`);
    await page.locator('bp-diagram[mode="forward"]').screenshot({ path: join(SHOTS, 'article-diagram-2heads-1280.png') });
    await reset(page);
    const block = page.locator('bp-diagram[mode="forward"] a[data-block="qkv"]');
    await block.scrollIntoViewIfNeeded();
    await block.hover();
    const marked = await page.evaluate(() => [...document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelectorAll('figure.bp-highlight')].map((f) => f.dataset.name).sort());
    eq(marked.join(), ['act-k', 'act-q', 'act-v', 'weight-wk', 'weight-wq', 'weight-wv'].join(), 'hovering Q K V marks its matrices');
    await page.locator('bp-diagram[mode="forward"]').screenshot({ path: join(SHOTS, 'article-diagram-hover-1280.png') });
    await block.click();
    await page.waitForFunction(() => {
      const f = document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelector('figure[data-name="weight-wq"]');
      const r = f.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight;
    }, null, { timeout: 5000 });
    const focused = await page.evaluate(() => document.querySelector('backprop-widget[stage="forward"]').shadowRoot.activeElement?.closest('figure')?.dataset.name);
    eq(focused, 'weight-wq', 'the click moves focus to the first matrix');
    // The blocks whose matrices are on screen are marked: here Q, K and V's step.
    await page.waitForFunction(() => (document.querySelector('bp-diagram[mode="forward"]').dataset.inview || '').split(' ').includes('qkv'), null, { timeout: 5000 });
    const inview = await page.evaluate(() => document.querySelector('bp-diagram[mode="forward"]').dataset.inview.split(' '));
    assert(!inview.includes('logits') && !inview.includes('probs'), `blocks marked in view that are not: ${inview}`);
    // Keyboard: focus a block of the backward diagram and press Enter.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.focus('bp-diagram[mode="backward"] a[data-block="scores"]');
    const gradMarked = await page.evaluate(() => [...document.querySelector('backprop-widget[stage="backward"]').shadowRoot.querySelectorAll('figure.bp-highlight')].map((f) => f.dataset.name));
    eq(gradMarked.join(), 'grad-scores-h0', 'focusing the backward block marks ∂L/∂S');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => {
      const f = document.querySelector('backprop-widget[stage="backward"]').shadowRoot.querySelector('figure[data-name="grad-scores-h0"]');
      const r = f.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight;
    }, null, { timeout: 5000 });
  });

  // ---------- H: where a forward number comes from ----------
  await check('explain a forward number: Q[1][0] and P̂[0][1] open how they were computed, the sum equals the cell, links walk back to the weights', async () => {
    await reset(page);
    const dialog = () => page.evaluate(() => {
      const d = document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelector('dialog.derivation');
      return {
        open: d.open, title: d.querySelector('.deriv-title').textContent,
        total: Number(d.querySelector('.deriv-total')?.dataset.value), shown: Number(d.querySelector('.deriv-shown')?.dataset.value),
        terms: d.querySelectorAll('table.terms tbody tr').length, links: d.querySelectorAll('.factor-link').length,
        errors: d.querySelectorAll('.error').length, katex: d.querySelectorAll('.katex').length,
      };
    });
    const near = (a, b, what) => assert(Math.abs(a - b) <= 1e-9 * Math.abs(b) + 1e-14, `${what}: ${a} vs ${b}`);
    const open = async (fig, r, c) => {
      const btn = page.locator(`${W('forward')} figure[data-name="${fig}"] td[data-r="${r}"][data-c="${c}"] button`);
      await btn.scrollIntoViewIfNeeded();
      const cellValue = Number(await page.locator(`${W('forward')} figure[data-name="${fig}"] td[data-r="${r}"][data-c="${c}"]`).getAttribute('data-value'));
      await btn.click();
      await page.waitForSelector(`${W('forward')} dialog.derivation[open]`);
      await frames(page, 2);
      return cellValue;
    };
    // Q[1][0] = Σ_i X̃[1][i]·W_Q[i][0]: two terms, whose sum is the number in the cell.
    const q = await open('act-q', 1, 0);
    let d = await dialog();
    eq(d.errors, 0, 'Q: errors');
    eq(d.terms, 2, 'Q: one term per column of X̃');
    near(d.total, q, 'Q: sum of the terms vs the cell');
    near(d.shown, q, 'Q: value quoted vs the cell');
    assert(/^How Q/.test(d.title) && /1 rocks, d0/.test(d.title), `Q: title ${d.title}`);
    await page.screenshot({ path: join(SHOTS, 'article-explain-q-1280.png') });
    // X̃ (no layer norm) opens X, and X = E[id] + P: weights only, nothing further to open.
    await page.locator(`${W('forward')} dialog .factor-link`).nth(1).click();
    await frames(page, 2);
    await page.locator(`${W('forward')} dialog .factor-link`).first().click();
    await frames(page, 2);
    d = await dialog();
    assert(/^How X/.test(d.title), `X: title ${d.title}`);
    eq(d.terms, 2, 'X: embedding and position');
    eq(d.links, 0, 'X: made of weights only');
    await page.click(`${W('forward')} dialog .deriv-back`);
    await page.click(`${W('forward')} dialog .deriv-back`);
    await frames(page, 2);
    assert(/^How Q/.test((await dialog()).title), 'Back returns to Q');
    await page.keyboard.press('Escape');
    // P̂[0][1]: the softmax of the row of logits.
    const p = await open('act-probs', 0, 1);
    d = await dialog();
    eq(d.errors, 0, 'P̂: errors');
    near(d.total, p, 'P̂: e^(x−m)·1/Σe^(x_r−m) vs the cell');
    assert(d.katex >= 1, 'P̂: no formula');
    await page.keyboard.press('Escape');
  });

  await check('provenance: pointing at a forward number outlines the cells it is computed from', async () => {
    await reset(page);
    const outlined = async (fig, r, c) => {
      const cell = page.locator(`${W('forward')} figure[data-name="${fig}"] td[data-r="${r}"][data-c="${c}"]`);
      await cell.scrollIntoViewIfNeeded();
      await cell.hover();
      return page.evaluate(() => [...document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelectorAll('td.prov-src')]
        .map((td) => `${td.closest('figure').dataset.name}[${td.dataset.r}][${td.dataset.c}]`).sort().join(' '));
    };
    // Q = X W_Q (no layer norm): Q[0][1] from row 0 of X and column 1 of W_Q.
    eq(await outlined('act-q', 0, 1), 'act-x[0][0] act-x[0][1] weight-wq[0][1] weight-wq[1][1]', 'Q[0][1]');
    await page.locator(`${W('forward')} .step`).nth(2).screenshot({ path: join(SHOTS, 'article-provenance-1280.png') });
    // S⁽⁰⁾[1][0] = Q[1]·K[0] / √D over head 0's columns (one head of width 2).
    eq(await outlined('act-scores-h0', 1, 0), 'act-k[0][0] act-k[0][1] act-q[1][0] act-q[1][1]', 'S[1][0]');
    // Q[1][0]: row 1 of X and column 0 of W_Q.
    eq(await outlined('act-q', 1, 0), 'act-x[1][0] act-x[1][1] weight-wq[0][0] weight-wq[1][0]', 'Q[1][0]');
    // P̂[0][1] = softmax of row 0 of the logits: every logit of that row.
    eq(await outlined('act-probs', 0, 1), 'act-logits[0][0] act-logits[0][1]', 'P̂[0][1]');
    // X[1][0] = E[id of “rocks”][0] + P[1][0].
    eq(await outlined('act-x', 1, 0), 'weight-embedding[1][0] weight-position[1][0]', 'X[1][0]');
    const qCell = page.locator(`${W('forward')} figure[data-name="act-q"] td[data-r="0"][data-c="1"]`);
    await qCell.hover();
    await page.mouse.move(1, 1);
    await page.locator('h1').hover();
    eq(await page.evaluate(() => document.querySelector('backprop-widget[stage="forward"]').shadowRoot.querySelectorAll('td.prov-src').length), 0, 'the outline goes when the pointer leaves');
  });

  // ---------- C: contents ----------
  await check('table of contents: marks the section in view at 1280 px', async () => {
    for (const id of ['forward', 'backward', 'update']) {
      await page.click(`nav.toc a[href="#${id}"]`);
      await page.waitForFunction((i) => document.querySelector('nav.toc').dataset.current === i, id, { timeout: 5000 });
      eq(await page.evaluate((i) => document.querySelector(`nav.toc a[href="#${i}"]`).getAttribute('aria-current'), id), 'location', `${id} marked`);
      // (Sections that come into view for the first time may still settle their size.)
      const clear = await page.waitForFunction((i) => document.getElementById(i).getBoundingClientRect().top
        >= document.querySelector('.sticky-head').getBoundingClientRect().bottom - 1, id, { timeout: 3000 }).then(() => true, () => false);
      const top = await page.evaluate((i) => document.getElementById(i).getBoundingClientRect().top, id);
      assert(clear, `#${id}'s heading is hidden under the sticky header (its top is at ${top} px)`);
    }
    await page.screenshot({ path: join(SHOTS, 'article-toc-1280.png') });
  });

  await check('axe-core: no WCAG 2 A/AA violations at 1280 px (experiments, diagram, contents)', async () => {
    await reset(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    await runAxe(page, '1280 px');
  });

  for (const id of ['model', 'target', 'backward', 'update']) {
    await page.locator(`#${id} .prose`).screenshot({ path: join(SHOTS, `article-prose-${id}-1280.png`) });
  }
  await ctx.close();

  // ---------- C: phones ----------
  const phone = await openPage(390, 844);
  await check('390 px: everything wider than the screen scrolls with a visible affordance; nothing is cut off', async () => {
    const p = phone.page;
    // Show the SGD result and the derivation's inputs too: take one step first.
    await p.locator(`${W('update')} button:has-text("Take one step")`).click();
    await frames(p, 2);
    const height = await p.evaluate(() => document.documentElement.scrollHeight);
    const problems = { cut: new Set(), bare: new Set() };
    let ok = 0;
    let widest = 0;
    for (let y = 0; y < height; y += 700) {
      await p.evaluate((yy) => window.scrollTo(0, yy), y);
      await frames(p, 2);
      const r = await overflowReport(p);
      r.cut.forEach((x) => problems.cut.add(x));
      r.bare.forEach((x) => problems.bare.add(x));
      ok += r.ok;
      widest = Math.max(widest, r.page);
    }
    // The derivation dialog, open on a gradient whose terms table is wider than a phone.
    await p.locator(`${W('backward')} figure[data-name="grad-unembedding"] td[data-r="1"][data-c="0"] button`).evaluate((b) => b.click());
    await p.waitForSelector(`${W('backward')} dialog.derivation[open]`);
    await frames(p, 3);
    const inDialog = await overflowReport(p);
    inDialog.cut.forEach((x) => problems.cut.add(`dialog: ${x}`));
    inDialog.bare.forEach((x) => problems.bare.add(`dialog: ${x}`));
    ok += inDialog.ok;
    await p.screenshot({ path: join(SHOTS, 'article-derivation-dialog-390.png') });
    await p.keyboard.press('Escape');
    assert(widest <= 390, `the page itself is ${widest} px wide`);
    assert(!problems.cut.size, `cut off without a way to scroll: ${[...problems.cut].slice(0, 8).join('; ')}`);
    assert(!problems.bare.size, `scrolls without a visible cue: ${[...problems.bare].slice(0, 8).join('; ')}`);
    assert(ok > 0, 'nothing overflowed at 390 px: the check saw nothing');
    console.log(`       ${ok} sideways-scrolling boxes seen, all with the shadow and scrollbar`);
    await toolbarClick(p, 'Undo');
  });

  await check('table of contents: marks the section in view at 390 px and keeps it visible in the list', async () => {
    const p = phone.page;
    await p.evaluate(() => document.getElementById('backward').scrollIntoView());
    await p.waitForFunction(() => document.querySelector('nav.toc').dataset.current === 'backward', null, { timeout: 5000 });
    const box = await p.evaluate(() => {
      const a = document.querySelector('nav.toc a[aria-current]').getBoundingClientRect();
      return { left: a.left, right: a.right };
    });
    assert(box.left >= 0 && box.right <= 390, `the marked link is outside the list: ${JSON.stringify(box)}`);
    await p.screenshot({ path: join(SHOTS, 'article-toc-390.png') });
  });

  await check('axe-core: no WCAG 2 A/AA violations at 390 px', async () => {
    await phone.page.evaluate(() => window.scrollTo(0, 0));
    await runAxe(phone.page, '390 px');
  });

  for (const id of ['model', 'target', 'backward', 'update']) {
    await phone.page.locator(`#${id} .prose`).screenshot({ path: join(SHOTS, `article-prose-${id}-390.png`) });
  }
  let i = 0;
  for (const d of await phone.page.locator('bp-diagram').all()) await d.screenshot({ path: join(SHOTS, `article-diagram${i++}-390.png`) });
  const scoresStep = phone.page.locator(`${W('forward')} .step`).nth(3);
  await scoresStep.scrollIntoViewIfNeeded();
  await frames(phone.page, 3);
  await scoresStep.screenshot({ path: join(SHOTS, 'article-forward-scores-390.png') });
  await phone.ctx.close();

  // ---------- G: each passage beside (or right above) the matrices it explains ----------
  for (const [width, height] of [[1280, 900], [768, 1024], [390, 844]]) {
    await check(`${width} px: every passage starts within one window height of its step's first matrix`, async () => {
      const { page: p, ctx: c } = await openPage(width, height);
      const slots = await p.evaluate(() => [...document.querySelectorAll('backprop-widget > [slot]')].map((el) => el.slot).filter((n) => !n.endsWith('-more')));
      assert(slots.length >= 6, `only ${slots.length} passages are placed in the widgets`);
      const rows = [];
      for (const slot of slots) {
        const m = await p.evaluate(async (name) => {
          const passage = document.querySelector(`backprop-widget > [slot="${name}"]`);
          const host = passage.parentElement;
          const stepEl = host.shadowRoot.querySelector(`.step[data-slot="${name}"]`);
          if (!stepEl || stepEl.hidden) return null;
          stepEl.scrollIntoView({ block: 'start' });
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          const fig = [...stepEl.querySelectorAll('figure.matrix')].find((f) => f.getClientRects().length);
          const a = passage.getBoundingClientRect();
          const b = fig.getBoundingClientRect();
          return { passageTop: a.top, passageHeight: a.height, figureTop: b.top, beside: b.left >= a.right - 1 };
        }, slot);
        if (!m) continue;
        rows.push({ slot, distance: Math.round(m.figureTop - m.passageTop), beside: m.beside, height: Math.round(m.passageHeight) });
      }
      console.log(`       ${rows.map((r) => `${r.slot} ${r.distance}px${r.beside ? ' (beside)' : ''}`).join(', ')}`);
      // Above or beside: the passage starts no lower than its first matrix, and at most a window above it.
      const far = rows.filter((r) => r.distance > height || r.distance < 0);
      assert(!far.length, `a passage below its first matrix or more than a window (${height} px) above it: ${far.map((r) => `${r.slot} ${r.distance}`).join(', ')}`);
      if (width >= 1280) assert(rows.every((r) => r.beside), 'at 1280 px every passage sits beside its step');
      const qkv = p.locator('backprop-widget[stage="forward"] .step').nth(2);
      await qkv.scrollIntoViewIfNeeded();
      await frames(p, 3);
      await qkv.screenshot({ path: join(SHOTS, `article-passage-qkv-${width}.png`) });
      await c.close();
    });
  }

  // ---------- D: the embed example under npm run serve ----------
  await check('embed-example.html loads its widgets under the dev server (npm run serve)', async () => {
    const port = await freePort();
    devServer = spawn(process.execPath, [join(ROOT, '.ci', 'serve.mjs')], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}`;
    let up = false;
    for (let k = 0; k < 150 && !up; k += 1) {
      try { up = (await fetch(`${base}/embed-example.html`)).ok; } catch { await new Promise((r) => setTimeout(r, 100)); }
    }
    assert(up, 'the dev server did not answer');
    const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx2.newPage();
    const failed = [];
    p.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
    await p.goto(`${base}/embed-example.html`);
    await waitReady(p, { timeout: 20000 });
    const n = await p.evaluate(() => [...document.querySelectorAll('backprop-widget')].filter((w) => w.shadowRoot.querySelector('.panel')).length);
    const all = await p.evaluate(() => document.querySelectorAll('backprop-widget').length);
    eq(n, all, 'every widget of the example rendered its panels');
    eq(failed.join(', '), '', 'no request failed');
    await p.screenshot({ path: join(SHOTS, 'article-embed-example-serve.png') });
    await ctx2.close();
  });

  await check('no console errors or warnings', async () => {
    assert(consoleProblems.length === 0, consoleProblems.slice(0, 10).join('\n       '));
  });
}

await finishSuite('article e2e', main, {
  browser: () => browser,
  results,
  cleanup: () => { if (devServer) devServer.kill(); },
});
