// The reader's work is never lost silently (issue 14), in Chromium on www/index.html:
//
//   node tests/e2e/reader-work.e2e.mjs [filter…]     (part of npm run test:e2e; needs npm run build)
//
// Each case does what the issue reported — a bad or valid link over saved work, a full storage,
// a link for a read-only group and Ctrl+Z inside one, a link too long to open, a decompression
// bomb, a worker that never answers, typing while training runs, held Alt+↑, two tabs — and
// checks what the reader sees (the notice's words) and what state they keep, also after a
// reload. Expected numbers come from the wasm core or from the page's own state before the
// case. No clock is asserted: a bomb link must be unpacked in the worker (what the main thread
// posts, inflates and decodes is recorded by harness.mjs installSpy; its longest task is only
// reported), and a stalled worker's notice must name the page's own start deadline. Screenshots
// of the notices at 1280 and 390 px go to tests/e2e/screenshots/reader-work-*.png.

import { assert, checker, eq, finishSuite, frames, installSpy, launch, serve, spied, waitReady, prepareSuite } from './harness.mjs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const WWW = join(resolve(HERE, '..', '..'), 'www');
const SHOTS = join(HERE, 'screenshots');
const BLOCK_GOAL = 200; // ms: the longest main-thread task wanted while a bomb link is read (reported)
const DECODED_LIMIT = 1024 * 1024; // bytes of text the main thread may decode at once while it is read
const STALL_WAIT = 30000; // ms: how long the test waits for the stalled worker's notice

prepareSuite('reader-work');
const BASE = await serve(WWW);
const results = [];
const check = checker(results);
let browser;

// ---------- helpers ----------
const W = (stage) => `backprop-widget[stage="${stage}"]`;
const cellInput = (name, r, c) => `${W('forward')} figure[data-name="${name}"] td[data-r="${r}"][data-c="${c}"] input`;
const getState = (page) => page.evaluate(() => document.querySelector('backprop-widget[stage="forward"]').getState());
const wo01 = async (page) => (await getState(page)).weights.wo[0][1];
const notice = (page, sel = W('toolbar'), cls = '.toolbar-notice') => page.evaluate(({ s, c }) => {
  const el = document.querySelector(s)?.shadowRoot?.querySelector(c);
  return el && !el.hidden ? el.textContent.trim() : '';
}, { s: sel, c: cls });
const waitNotice = (page, re, { sel = W('toolbar'), cls = '.toolbar-notice', timeout = 15000 } = {}) => page.waitForFunction(({ s, c, src }) => {
  const el = document.querySelector(s)?.shadowRoot?.querySelector(c);
  return el && !el.hidden && new RegExp(src).test(el.textContent);
}, { s: sel, c: cls, src: re.source }, { timeout }).then(() => notice(page, sel, cls), async () => {
  throw new Error(`no notice matching ${re} (the notice says: ${JSON.stringify(await notice(page, sel, cls))})`);
});

// Every uncaught error in any page of the run: none is expected, whatever the case did.
const uncaught = [];
async function newContext(options) {
  const ctx = await browser.newContext(options);
  ctx.on('weberror', (e) => uncaught.push(`${e.page()?.url().slice(0, 60)}: ${String(e.error()?.stack || e.error()).split('\n').slice(0, 4).join(' / ')}`));
  return ctx;
}

async function newTab(ctx, path = '/index.html') {
  const page = await ctx.newPage();
  await page.goto(`${BASE}${path}`);
  await waitReady(page);
  return page;
}

async function typeInCell(page, name, r, c, value) {
  await page.click(cellInput(name, r, c));
  await page.keyboard.press('Control+A');
  await page.keyboard.type(value);
  await page.keyboard.press('Enter');
  await frames(page, 2);
}

/** Waits until the page's saved entry for the default group holds W_O[0][1] = value. */
function waitSaved(page, value) {
  return page.waitForFunction((v) => {
    const key = Object.keys(localStorage).find((k) => k.endsWith(':default'));
    try { return key && JSON.parse(localStorage.getItem(key)).weights.wo[0][1] === v; } catch { return false; }
  }, value, { timeout: 5000 });
}

/** A share link's fragment for the article example with W_O[0][1] = value, made by the page. */
function linkWith(page, value) {
  return page.evaluate(async (v) => {
    const core = await import('./pkg/how_llms_learn.js');
    await core.default();
    const { shareUrl } = await import('./js/share.js');
    const s = core.articleExample();
    s.weights.wo[0][1] = v;
    return new URL(await shareUrl(s)).hash;
  }, value);
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `reader-work-${name}.png`) });
/** The same at a phone's width, with the toolbar and its notice scrolled into view. */
async function shot390(page, name) {
  await page.setViewportSize({ width: 390, height: 800 });
  await page.evaluate(() => document.querySelector('backprop-widget[stage="toolbar"]').scrollIntoView({ block: 'start' }));
  await frames(page, 2);
  await shot(page, name);
}

// ---------- the cases ----------
async function main() {
  browser = await launch();

  await check('bad links over saved work: nothing changes, the notice says so, also after a reload', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await newTab(ctx);
    await typeInCell(page, 'weight-wo', 0, 1, '0.25');
    await waitSaved(page, 0.25);
    const valid = await linkWith(page, 0.75);
    const bad = {
      damaged: '#bp=1.%%%not-base64%%%',
      truncated: valid.slice(0, Math.floor(valid.length / 2)),
      'unknown version': '#bp=9.AAAA',
      'too long': `#bp=1.${'A'.repeat(2_000_100)}`,
      'nested a million deep': `#bp=1.${deflateRawSync(Buffer.from(`{"vocab":${'['.repeat(1e6)}${']'.repeat(1e6)}}`)).toString('base64url')}`,
      'invalid state': await (async () => {
        const h = await page.evaluate(async () => {
          const core = await import('./pkg/how_llms_learn.js');
          await core.default();
          const { shareUrl } = await import('./js/share.js');
          const s = core.articleExample();
          s.tokens = ['AI', 'nonsense'];
          return new URL(await shareUrl(s)).hash;
        });
        return h;
      })(),
    };
    for (const [what, hash] of Object.entries(bad)) {
      const tab = await ctx.newPage();
      await tab.goto(`${BASE}/index.html${hash}`);
      await waitReady(tab);
      const said = await waitNotice(tab, /could not be opened|not a valid model/);
      assert(/Nothing was changed: your own work is still here/.test(said), `${what}: the notice does not say the work is kept: ${said}`);
      eq(await wo01(tab), 0.25, `${what}: W_O[0][1] after the link`);
      if (what === 'truncated') { await shot(tab, 'bad-link-1280'); await shot390(tab, 'bad-link-390'); }
      await tab.reload();
      await waitReady(tab);
      eq(await wo01(tab), 0.25, `${what}: W_O[0][1] after a reload`);
      await tab.close();
    }
    await ctx.close();
  });

  await check('a valid link over saved work: the old state is one Undo away, also after a reload', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await newTab(ctx);
    await typeInCell(page, 'weight-wo', 0, 1, '0.25');
    await waitSaved(page, 0.25);
    const hash = await linkWith(page, 0.75);
    await page.close();
    const tab = await ctx.newPage();
    await tab.goto(`${BASE}/index.html${hash}`);
    await waitReady(tab);
    const said = await waitNotice(tab, /state from the link/);
    assert(/What you had before is one Undo away \(also after a reload\)/.test(said), `notice: ${said}`);
    eq(await wo01(tab), 0.75, 'W_O[0][1] from the link');
    await waitSaved(tab, 0.75);
    await tab.reload();
    await waitReady(tab);
    eq(await wo01(tab), 0.75, 'after a reload the link’s state is shown');
    await tab.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(tab, 3);
    eq(await wo01(tab), 0.25, 'one Undo after the reload brings back the reader’s work');
    // The notice's own Undo button, right after opening the link again.
    await tab.goto(`${BASE}/index.html${hash}`);
    await waitReady(tab);
    await waitNotice(tab, /state from the link/);
    await tab.click(`${W('toolbar')} .toolbar-notice button:has-text("Undo")`);
    await waitNotice(tab, /Back to what you had before the link/);
    eq(await wo01(tab), 0.25, 'the notice’s Undo button');
    await ctx.close();
  });

  await check('storage full: the reader is told their edits are not kept', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    await ctx.addInitScript(() => {
      Storage.prototype.setItem = function setItem() { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };
    });
    const page = await newTab(ctx);
    eq(await notice(page), '', 'no notice before an edit');
    await typeInCell(page, 'weight-wo', 0, 1, '0.25');
    const said = await waitNotice(page, /could not be saved/);
    assert(/QuotaExceededError/.test(said) && /Download JSON/.test(said), `notice: ${said}`);
    eq(await wo01(page), 0.25, 'the edit itself is kept on the page');
    await shot(page, 'quota-1280');
    await shot390(page, 'quota-390');
    await ctx.close();
  });

  // A page of our own with three groups: "ro" (every element read-only), "mix" (a toolbar, an
  // editable and a read-only element), "ask" (editable, no toolbar).
  const GROUPS = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>groups</title>
<script type="module" src="bundle/main.js"></script></head><body>
<backprop-widget group="ro" stage="toolbar forward" readonly></backprop-widget>
<backprop-widget group="mix" stage="toolbar"></backprop-widget>
<backprop-widget group="mix" stage="forward"></backprop-widget>
<backprop-widget group="mix" stage="backward" readonly id="mix-ro"></backprop-widget>
<backprop-widget group="ask" stage="forward"></backprop-widget>
</body></html>`;
  const groupsPage = async (ctx, hash = '') => {
    const page = await ctx.newPage();
    await page.route(`${BASE}/groups.html`, (route) => route.fulfill({ contentType: 'text/html', body: GROUPS }));
    await page.goto(`${BASE}/groups.html${hash}`);
    await waitReady(page);
    return page;
  };
  const stateOf = (page, sel) => page.evaluate((s) => document.querySelector(s).getState(), sel);
  const ro = 'backprop-widget[group="ro"]';
  const ask = 'backprop-widget[group="ask"]';
  const mixForward = 'backprop-widget[group="mix"][stage="forward"]';

  await check('read-only: a link leaves a read-only group alone (also after a reload); Ctrl+Z in a read-only element undoes nothing', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const first = await groupsPage(ctx);
    const original = await stateOf(first, ro);
    const hash = (await linkWith(first, 0.75)).replace('#bp=', '#bp.ro=');
    await first.close();
    const page = await groupsPage(ctx, hash);
    const said = await waitNotice(page, /read-only, so the link was not applied/, { sel: ro });
    eq(JSON.stringify(await stateOf(page, ro)), JSON.stringify(original), 'the read-only group’s state after the link');
    await page.reload();
    await waitReady(page);
    eq(JSON.stringify(await stateOf(page, ro)), JSON.stringify(original), 'after a reload');
    // Ctrl+Z with the focus inside the group's read-only element.
    const before = (await stateOf(page, mixForward)).weights.wo[0][1];
    await page.click(`${mixForward} figure[data-name="weight-wo"] td[data-r="0"][data-c="1"] input`);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('0.5');
    await page.keyboard.press('Enter');
    await frames(page, 2);
    eq((await stateOf(page, mixForward)).weights.wo[0][1], 0.5, 'the edit in the editable element');
    await page.evaluate(() => document.querySelector('#mix-ro').shadowRoot.querySelector('button.cell-btn').focus());
    await page.keyboard.press('Control+z');
    await frames(page, 2);
    eq((await stateOf(page, mixForward)).weights.wo[0][1], 0.5, 'Ctrl+Z inside the read-only element');
    await page.click(`${mixForward} figure[data-name="weight-wo"] td[data-r="1"][data-c="1"] input`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+z');
    await frames(page, 2);
    eq((await stateOf(page, mixForward)).weights.wo[0][1], before, 'Ctrl+Z in the editable element still undoes');
    await ctx.close();
    return said;
  });

  await check('a group without a toolbar asks before a link replaces its state', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const first = await groupsPage(ctx);
    const original = await stateOf(first, ask);
    const hash = (await linkWith(first, 0.75)).replace('#bp=', '#bp.ask=');
    await first.close();
    const page = await groupsPage(ctx, hash);
    await waitNotice(page, /holds a state for this model/, { sel: ask, cls: '.bp-notice' });
    eq(JSON.stringify(await stateOf(page, ask)), JSON.stringify(original), 'nothing changes before the reader agrees');
    await page.locator(ask).screenshot({ path: join(SHOTS, 'reader-work-ask-1280.png') });
    await page.click(`${ask} .bp-notice button:has-text("Open the link’s state")`);
    await waitNotice(page, /state from the link/, { sel: ask, cls: '.bp-notice' });
    eq((await stateOf(page, ask)).weights.wo[0][1], 0.75, 'the link’s state once the reader agreed');
    await ctx.close();
  });

  await check('a large state opened from a link is still there after a reload', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await newTab(ctx);
    // Large enough to be computed in the worker (compute.js's LARGE_WORK), small enough for a link.
    const hash = await page.evaluate(async () => {
      let seed = 5;
      const rnd = () => { seed = (seed * 16807) % 2147483647; return Math.round((seed / 2147483647 - 0.5) * 1000) / 1000; };
      const V = 64, C = 64, F = 128, T = 32;
      const M = (r, k) => Array.from({ length: r }, () => Array.from({ length: k }, rnd));
      const vocab = Array.from({ length: V }, (_, i) => `w${i}`);
      const s = {
        vocab, eos: null, tokens: vocab.slice(0, T),
        config: { dModel: C, nHeads: 4, dFf: F, layerNorm: false, activation: 'relu', context: T },
        weights: { embedding: M(V, C), position: M(T, C), wq: M(C, C), wk: M(C, C), wv: M(C, C), wo: M(C, C),
          w1: M(C, F), b1: Array(F).fill(0), w2: M(F, C), b2: Array(C).fill(0), unembedding: M(C, V) },
      };
      const { shareUrl } = await import('./js/share.js');
      return new URL(await shareUrl(s)).hash;
    });
    await page.close();
    const tab = await ctx.newPage();
    await tab.goto(`${BASE}/index.html${hash}`);
    await waitReady(tab);
    await waitNotice(tab, /state from the link/, { timeout: 60000 });
    const vocabSize = () => tab.evaluate(() => document.querySelector('backprop-widget[stage="forward"]').getState().vocab.length);
    eq(await vocabSize(), 64, 'the link’s large state');
    await tab.waitForTimeout(600); // the save's debounce
    await tab.reload();
    await waitReady(tab);
    await tab.waitForFunction(() => document.querySelector('backprop-widget[stage="forward"]').getState().vocab.length === 64, null, { timeout: 60000 });
    eq(await vocabSize(), 64, 'after a reload');
    await ctx.close();
  });

  await check('a state too large for a link: the share dialog offers the file instead and says why', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await newTab(ctx);
    // About 260,000 random weights: a link of some 3 million characters.
    const err = await page.evaluate(() => {
      let seed = 11;
      const rnd = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 - 0.5; };
      const V = 512, C = 128, F = 256, T = 64;
      const M = (r, k) => Array.from({ length: r }, () => Array.from({ length: k }, rnd));
      const vec = (n, x) => Array.from({ length: n }, () => x);
      const vocab = Array.from({ length: V }, (_, i) => `t${i}`);
      const s = {
        vocab, eos: null, tokens: Array.from({ length: T }, (_, i) => vocab[i]),
        config: { dModel: C, nHeads: 2, dFf: F, layerNorm: true, activation: 'gelu', context: T },
        weights: { embedding: M(V, C), position: M(T, C), wq: M(C, C), wk: M(C, C), wv: M(C, C), wo: M(C, C),
          w1: M(C, F), b1: vec(F, 0), w2: M(F, C), b2: vec(C, 0), ln1Gain: vec(C, 1), ln1Bias: vec(C, 0),
          ln2Gain: vec(C, 1), ln2Bias: vec(C, 0), lnfGain: vec(C, 1), lnfBias: vec(C, 0), unembedding: M(C, V) },
      };
      return Promise.resolve(document.querySelector('backprop-widget[stage="forward"]').setState(s)).then(() => null, (e) => e.message);
    });
    eq(err, null, 'the large state is accepted');
    await page.waitForFunction(() => document.querySelector('backprop-widget[stage="forward"]').getState().vocab.length === 512, null, { timeout: 60000 });
    const dlg = `${W('toolbar')} dialog.share-dialog`;
    await page.click(`${W('toolbar')} button[data-action="share"]`);
    await page.click(`${dlg} button[data-action="copy-link"]`);
    await page.waitForFunction(() => /too large for a link|Copied|Here is the link/.test(document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('dialog.share-dialog .share-msg').textContent), null, { timeout: 60000 });
    const msg = await page.evaluate(() => document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('dialog.share-dialog .share-msg').textContent);
    assert(/too large for a link: it would need [\d,]+ characters, and a link may have at most 2,000,000/.test(msg), `message: ${msg}`);
    eq(await page.locator(`${dlg} input.share-link`).inputValue(), '', 'no link offered');
    assert(await page.locator(`${dlg} button[data-action="download-instead"]`).isVisible(), 'a button offers the file');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`${dlg} button[data-action="download-instead"]`)]);
    eq(download.suggestedFilename(), 'how-llms-learn-state.json', 'the file offered');
    await page.locator(dlg).screenshot({ path: join(SHOTS, 'reader-work-too-long-1280.png') });
    await ctx.close();
    return msg;
  });

  await check('a bomb link (60 KB unpacking to 46 MB): unpacked in the worker, a message, the work kept', async () => {
    // 23 million zeros: 46 MB of JSON that takes a second or more to parse (on the main thread,
    // that is a frozen page).
    const packed = deflateRawSync(Buffer.from(`{"vocab":[${'0,'.repeat(23 * 1024 * 1024)}0]}`), { level: 9 });
    const hash = `#bp=1.${packed.toString('base64url')}`;
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    await installSpy(ctx);
    const page = await newTab(ctx);
    await typeInCell(page, 'weight-wo', 0, 1, '0.25');
    await waitSaved(page, 0.25);
    const from = (await spied(page)).ops.length;
    await page.evaluate(() => { window.__spy.decoded = 0; window.__spy.inflates = 0; });
    // Long tasks and gaps between animation frames, from just before the link arrives.
    await page.evaluate(() => {
      window.__longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
      }).observe({ type: 'longtask' });
      window.__gap = 0;
      let last = performance.now();
      const tick = (t) => { window.__gap = Math.max(window.__gap, t - last); last = t; window.__raf = requestAnimationFrame(tick); };
      window.__raf = requestAnimationFrame(tick);
    });
    const started = Date.now();
    await page.evaluate((h) => { location.hash = h; }, hash);
    const said = await waitNotice(page, /could not be opened|not a valid model/, { timeout: 30000 });
    const took = Date.now() - started;
    await frames(page, 2);
    const { longest, gap } = await page.evaluate(() => ({ longest: window.__longest, gap: window.__gap }));
    console.log(`       bomb (${(hash.length / 1024).toFixed(0)} KB link): longest task ${Math.round(longest)} ms, longest frame gap ${Math.round(gap)} ms, message after ${took} ms:\n       “${said}”`);
    const seen = await spied(page);
    assert(seen.ops.slice(from).some((o) => o.op === 'unpack'), `the link was not sent to the worker: ${seen.ops.slice(from).map((o) => o.op).join(', ') || 'nothing sent'}`);
    eq(seen.inflates, 0, 'DecompressionStreams made on the main thread while the link was read');
    assert(seen.decoded <= DECODED_LIMIT, `the main thread decoded ${seen.decoded} bytes of text at once`);
    console.log(`       main thread: longest task ${Math.round(longest)} ms (goal ≤ ${BLOCK_GOAL}: ${longest <= BLOCK_GOAL ? 'met' : 'missed'}), ${seen.decoded} bytes decoded at most`);
    assert(/Nothing was changed: your own work is still here/.test(said), `notice: ${said}`);
    eq(await wo01(page), 0.25, 'the reader’s work');
    await ctx.close();
    return `${said} (longest task ${Math.round(longest)} ms, message after ${took} ms)`;
  });

  await check('a worker that never answers: a message naming its start deadline, with a retry, the work kept; the retry opens the link', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await newTab(ctx);
    const hash = await linkWith(page, 0.75);
    await page.close();
    const tab = await ctx.newPage();
    let stall = true;
    await tab.route('**/worker.js', (route) => (stall
      ? route.fulfill({ contentType: 'text/javascript', body: '// never answers\n' })
      : route.continue()));
    const started = Date.now();
    await tab.goto(`${BASE}/index.html${hash}`);
    const said = await waitNotice(tab, /background worker/, { timeout: STALL_WAIT });
    const took = Date.now() - started;
    console.log(`       stalled worker: message after ${took} ms`);
    const deadline = await tab.evaluate(async () => (await import('./js/compute.js')).WORKER_START_MS);
    assert(said.includes(`did not start within ${deadline / 1000} seconds`), `the notice does not name the start deadline (${deadline} ms): ${said}`);
    assert(/did not start/.test(said) && /not a fault of the link/.test(said) && /Nothing was changed/.test(said), `notice: ${said}`);
    assert(!/not a valid model/.test(said), 'the link is not blamed');
    await waitReady(tab);
    eq(await wo01(tab), -0.5, 'the article’s example is still shown');
    await shot(tab, 'stalled-1280');
    await shot390(tab, 'stalled-390');
    stall = false;
    await tab.click(`${W('toolbar')} .toolbar-notice button:has-text("Try again")`);
    await waitNotice(tab, /state from the link/);
    eq(await wo01(tab), 0.75, 'the link’s state after the retry');
    await ctx.close();
    return `${said} (after ${took} ms)`;
  });

  await check('a core file that never arrives: after 20 s the reader is told and offered a reload', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    await page.route('**/*.wasm', () => { /* never answered */ });
    await page.goto(`${BASE}/index.html`, { waitUntil: 'domcontentloaded' });
    const status = () => page.evaluate(() => document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot?.querySelector('.bp-status')?.textContent ?? '');
    eq(await status(), 'Loading the model…', 'at first');
    await page.waitForFunction(() => /still loading after 20 seconds/.test(document.querySelector('backprop-widget[stage="toolbar"]').shadowRoot.querySelector('.bp-status').textContent), null, { timeout: 30000 });
    assert(await page.locator(`${W('toolbar')} .bp-status button:has-text("Reload the page")`).isVisible(), 'a reload button');
    const said = await status();
    await ctx.close();
    return said;
  });

  await check('typing into a cell while training runs: training pauses and exactly the typed number is committed', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await newTab(ctx);
    await page.click(`${W('update')} button:has-text("Play training")`);
    await page.waitForFunction(() => Number(document.querySelector('backprop-widget[stage="update"]').shadowRoot.querySelector('.step-counter').textContent) >= 3);
    await page.click(cellInput('weight-wo', 0, 1));
    // Let training repaint the focused cell a few times before the reader types.
    await page.waitForTimeout(400);
    await page.keyboard.type('5');
    const msg = await page.evaluate(() => document.querySelector('backprop-widget[stage="update"]').shadowRoot.querySelector('.panel-msg').textContent);
    assert(/Training paused after \d+ steps? while you type into a cell/.test(msg), `update panel: ${msg}`);
    await page.keyboard.press('Enter');
    await frames(page, 3);
    await page.waitForTimeout(300);
    eq(await wo01(page), 5, 'W_O[0][1] after typing 5 during training');
    eq(await page.locator(`${W('update')} button[aria-pressed]`).getAttribute('aria-pressed'), 'false', 'the Play button shows training paused');
    await ctx.close();
    return msg;
  });

  await check('held Alt+↑: every key repeat nudges the value', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await newTab(ctx);
    const start = await wo01(page);
    await page.click(cellInput('weight-wo', 0, 1));
    await page.keyboard.press('Escape');
    // 12 repeats in one task: faster than any repaint, as a held key on a busy page.
    await page.evaluate((sel) => {
      const [host, inner] = sel.split(' figure');
      const input = document.querySelector(host).shadowRoot.querySelector(`figure${inner}`);
      for (let i = 0; i < 12; i += 1) {
        input.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', altKey: true, repeat: i > 0, bubbles: true, composed: true, cancelable: true }));
      }
    }, cellInput('weight-wo', 0, 1));
    await frames(page, 3);
    let expected = start;
    for (let i = 0; i < 12; i += 1) expected = Math.round((expected + 0.01) * 1000) / 1000;
    eq(await wo01(page), expected, 'W_O[0][1] after 12 nudges');
    await page.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(page, 2);
    eq(await wo01(page), start, 'one Undo takes back the whole held key');
    await ctx.close();
  });

  await check('two tabs: each is told when the other saves; the last to change something is kept', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const a = await newTab(ctx);
    const b = await newTab(ctx);
    eq(await notice(b), '', 'no notice before');
    await typeInCell(a, 'weight-wo', 0, 1, '0.25');
    const said = await waitNotice(b, /also open in another tab/);
    eq(await wo01(b), -0.5, 'tab B keeps what it shows');
    await shot(b, 'two-tabs-1280');
    await shot390(b, 'two-tabs-390');
    await b.setViewportSize({ width: 1280, height: 900 });
    await typeInCell(b, 'weight-wo', 0, 1, '0.75');
    await waitNotice(a, /also open in another tab/);
    await waitSaved(b, 0.75);
    const c = await newTab(ctx);
    eq(await wo01(c), 0.75, 'a new tab shows the last change');
    await a.click(`${W('toolbar')} .toolbar-notice button:has-text("Show the other tab")`);
    await frames(a, 3);
    eq(await wo01(a), 0.75, 'tab A takes tab B’s state on request');
    await a.click(`${W('toolbar')} button:has-text("Undo")`);
    await frames(a, 2);
    eq(await wo01(a), 0.25, 'and Undo returns to its own');
    await ctx.close();
    return said;
  });

  await check('a saved entry nested a million levels deep does not stop the page', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await newTab(ctx);
    const deep = `{"vocab":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`;
    const key = await page.evaluate((text) => {
      const k = `how-llms-learn:v1:${location.pathname}:default`;
      localStorage.setItem(k, text);
      return k;
    }, deep);
    await page.reload();
    await waitReady(page);
    const said = await waitNotice(page, /saved work could not be opened/);
    eq(await wo01(page), -0.5, 'the article’s example is shown');
    const kept = await page.evaluate((k) => localStorage.getItem(k).length, key);
    eq(kept, deep.length, 'the saved entry is not overwritten before the reader changes something');
    await typeInCell(page, 'weight-wo', 0, 1, '0.25');
    await waitSaved(page, 0.25);
    // The same poison in the kept undo history: the state opens, the entry is dropped.
    await page.evaluate(({ k, text }) => localStorage.setItem(`${k}:history`, `[${text}]`), { k: key, text: deep });
    await page.reload();
    await waitReady(page);
    eq(await wo01(page), 0.25, 'the saved state with a poisoned history');
    await typeInCell(page, 'weight-wo', 0, 1, '0.5');
    eq(await wo01(page), 0.5, 'an edit after that');
    await ctx.close();
    return said;
  });
}

await finishSuite('reader-work', async () => {
  await main();
  await check('no uncaught error in any page of the run', async () => {
    assert(uncaught.length === 0, `uncaught errors:\n       ${uncaught.slice(0, 8).join('\n       ')}`);
  });
}, { browser: () => browser, results });
