// End-to-end tests of the embeddable widget (issue 5): the dist/ folder under a sub-path and from
// another origin, synced instances, host pages with hostile CSS, share links (good, malicious,
// broken), matrix export and JSON export → import.
//
//   node tests/e2e/embed.e2e.mjs          (needs the wasm built into www/pkg: npm run build)
//
// Builds the dist folder into a temporary directory with .ci/dist.mjs (never rebuilding the
// wasm), serves the example article from /blog/2025/one-step/ on one port and the bare dist folder
// with CORS on another, and drives /usr/bin/chromium with playwright-core. Expected numbers come
// from the wasm core itself, imported into the page. Prints one line per check and a count;
// exits non-zero when any check fails. Screenshots go to tests/e2e/screenshots/embed-*.png.

import { spawnSync } from 'node:child_process';
import { assert, checker, eq, finishSuite, frames, launch, recordConsoleProblems, serve, waitReady, prepareSuite, selection } from './harness.mjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const SHOTS = join(HERE, 'screenshots');
const ONLY = selection();
const PREFIX = '/blog/2025/one-step';

prepareSuite('embed e2e', { bundle: false });

// ---------- the sites ----------
const TMP = mkdtempSync(join(tmpdir(), 'bp-embed-'));
const SITE = join(TMP, 'site');
const DIST = join(TMP, 'dist');
const PAGE_DIR = join(SITE, ...PREFIX.split('/').filter(Boolean));
const built = spawnSync(process.execPath, [join(ROOT, '.ci', 'dist.mjs'), '--no-build', '--out', DIST, '--example', PAGE_DIR],
  { cwd: ROOT, encoding: 'utf8' });
if (built.status !== 0) {
  console.error(`embed e2e: .ci/dist.mjs failed\n${built.stdout}${built.stderr}`);
  process.exit(1);
}
console.log(`  ${built.stdout.trim().split('\n')[0]}`);

const WIDGET_MARKUP = `
  <div id="box">
    <backprop-widget group="h" stage="model loss"></backprop-widget>
  </div>`;
const HOSTILE_CSS = `
  * { all: revert; font: italic 30px "Comic Sans MS", cursive !important; color: red !important;
      line-height: 3 !important; letter-spacing: 3px !important; word-spacing: 12px !important;
      text-transform: uppercase !important; text-align: center !important; text-indent: 40px !important;
      text-shadow: 2px 2px lime !important; white-space: pre !important; cursor: wait !important;
      font-variant: small-caps !important; visibility: visible !important; border-collapse: collapse !important;
      --pos: lime !important; --neg: yellow !important; --accent: orange !important; --line: red !important;
      --muted: red !important; --cell: black !important; --cell-c: lime !important; --mag: 1 !important;
      --mono: fantasy !important; box-sizing: content-box !important; }
  html { font-size: 40px !important; }
  /* (No background: the widget is transparent between its panels on purpose, like an image.) */
  table { display: none !important; }
  td, th { padding: 30px !important; background: yellow !important; }
  div, p, section, figure, label, h3, h4 { margin: 40px !important; padding: 20px !important; border: 5px dashed blue !important; display: flex !important; }
  button, input, select, textarea { all: unset !important; background: black !important; }
  svg, math, .katex, .bp, .panel, .matrix, .mat, .formula { display: none !important; }
  [hidden] { display: block !important; }
  #box > * { margin: 0 !important; }`;
const PLAIN_CSS = `body { margin: 8px; background: #fff; }`;
// The box puts the widget at the same place with the same width on both pages (an id beats the
// hostile `*`), so that the screenshots are not shifted by a fraction of a pixel.
const BOX_CSS = `#box { position: absolute !important; top: 600px !important; left: 20px !important; width: 760px !important;
  padding: 0 !important; margin: 0 !important; border: 0 !important; display: block !important; }`;

function hostPage(title, css, src = 'how-llms-learn/backprop-widget.js', extra = '') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>${css}\n${BOX_CSS}</style>
<script type="module" src="${src}"></script></head>
<body><h1>${title}</h1><p class="probe">A paragraph of the host page.</p><table class="probe-table"><tr><td>host cell</td></tr></table>
${WIDGET_MARKUP}${extra}</body></html>`;
}
writeFileSync(join(PAGE_DIR, 'plain.html'), hostPage('Plain host', PLAIN_CSS));
writeFileSync(join(PAGE_DIR, 'hostile.html'), hostPage('Hostile host', `${PLAIN_CSS}\n${HOSTILE_CSS}`));

// ---------- servers ----------
const SITE_BASE = await serve(SITE);
const DIST_BASE = await serve(DIST, ['--cors']);
const EXAMPLE = `${SITE_BASE}${PREFIX}/embed-example.html`;
writeFileSync(join(PAGE_DIR, 'cross-origin.html'), hostPage('Cross-origin host', PLAIN_CSS, `${DIST_BASE}/backprop-widget.js`));

// ---------- harness ----------
const results = [];
const consoleProblems = [];
let browser;

/** Deep equality with Object.is on numbers (so 0 and −0 differ) and the same keys in objects. */
function sameValue(a, b, path = 'state') {
  if (typeof a === 'number' || typeof b === 'number') {
    assert(Object.is(a, b), `${path}: ${a} ≠ ${b}`);
    return;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    assert(Array.isArray(a) && Array.isArray(b) && a.length === b.length, `${path}: arrays differ in length`);
    a.forEach((x, i) => sameValue(x, b[i], `${path}[${i}]`));
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).filter((k) => a[k] != null).sort();
    const kb = Object.keys(b).filter((k) => b[k] != null).sort();
    eq(ka.join(','), kb.join(','), `${path}: keys`);
    for (const k of ka) sameValue(a[k], b[k], `${path}.${k}`);
    return;
  }
  assert(Object.is(a, b), `${path}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
}

const check = checker(results, ONLY);

/** Open url in a fresh context (own storage); records failed requests, dialogs and outside requests. */
async function open(url, { width = 1100, height = 900, wait = true, clipboard = false } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  if (clipboard) await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
  const page = await ctx.newPage();
  const log = { failed: [], requests: [], dialogs: [], console: [] };
  recordConsoleProblems(page, log.console);
  page.on('dialog', (d) => { log.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('request', (r) => log.requests.push(r.url()));
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) log.failed.push(`${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => log.failed.push(`failed ${r.url()} ${r.failure()?.errorText}`));
  // Offline: nothing may be fetched from anywhere but the two local servers.
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1' || u.protocol === 'data:' || u.protocol === 'blob:') return route.continue();
    log.failed.push(`outside request ${u.href}`);
    return route.abort();
  });
  await page.goto(url);
  if (wait) await waitSettled(page);
  return { page, ctx, log };
}

/** The harness's waitReady, then every widget's ready promise, the fonts and three more frames. */
async function waitSettled(page) {
  await waitReady(page);
  await page.evaluate(() => Promise.all([...document.querySelectorAll('backprop-widget')].map((w) => w.ready)));
  await page.evaluate(() => document.fonts.ready.then(() => {}));
  await frames(page, 3);
}


/** Run fn(core, share, args) in the page with the wasm core and share.js of the dist folder at `dist`. */
function inPage(page, fn, args = null, dist = 'how-llms-learn/') {
  return page.evaluate(async ({ src, args: a, dist: d }) => {
    const base = new URL(d, location.href);
    const core = await import(new URL('pkg/how_llms_learn.js', base).href);
    await core.default({ module_or_path: new URL('pkg/how_llms_learn_bg.wasm', base) });
    const share = await import(new URL('js/share.js', base).href);
    const f = new Function('core', 'share', 'args', `return (${src})(core, share, args);`);
    return f(core, share, a);
  }, { src: fn.toString(), args, dist });
}

const widget = (group, stage) => `backprop-widget[group="${group}"][stage="${stage}"]`;

/** The data-value of every cell of a figure in a widget. */
function readMatrix(page, sel, name) {
  return page.evaluate(({ sel: s, name: n }) => {
    const fig = document.querySelector(s).shadowRoot.querySelector(`figure[data-name="${n}"]`);
    if (!fig || fig.closest('[hidden]')) return null;
    return [...fig.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.dataset.value));
  }, { sel, name });
}

function expectMatrix(shown, expected, what) {
  assert(shown, `${what}: not shown`);
  eq(shown.length, expected.length, `${what}: rows`);
  expected.forEach((row, r) => row.forEach((v, c) => eq(shown[r][c], v == null ? 'masked' : String(v), `${what}[${r}][${c}]`)));
}

/** The loss a widget shows (full precision), from the loss panel's mean row or the toolbar. */
function shownLoss(page, sel) {
  return page.evaluate((s) => {
    const root = document.querySelector(s).shadowRoot;
    const out = root.querySelector('.toolbar-loss-value');
    if (out) return out.dataset.value;
    const el = root.querySelector('[data-testid="loss-value"], .loss-mean [data-value], .loss-value');
    return el ? (el.dataset.value ?? el.textContent) : null;
  }, sel);
}

/** Compare two PNG screenshots pixel by pixel in the browser: { width, height, differing fraction }. */
async function comparePngs(page, a, b) {
  return page.evaluate(async ({ a: pa, b: pb }) => {
    const load = async (b64) => createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob());
    const [ia, ib] = await Promise.all([load(pa), load(pb)]);
    const w = Math.min(ia.width, ib.width);
    const h = Math.min(ia.height, ib.height);
    const pixels = (img) => {
      const c = new OffscreenCanvas(w, h);
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      return g.getImageData(0, 0, w, h).data;
    };
    const da = pixels(ia);
    const db = pixels(ib);
    let differ = 0;
    for (let i = 0; i < da.length; i += 4) {
      const d = Math.max(Math.abs(da[i] - db[i]), Math.abs(da[i + 1] - db[i + 1]), Math.abs(da[i + 2] - db[i + 2]));
      if (d > 48) differ += 1;
    }
    return { a: [ia.width, ia.height], b: [ib.width, ib.height], fraction: differ / (w * h) };
  }, { a: a.toString('base64'), b: b.toString('base64') });
}

function noProblems(log, what) {
  assert(log.failed.length === 0, `${what}: failed or outside requests:\n       ${log.failed.join('\n       ')}`);
  assert(log.console.length === 0, `${what}: console messages:\n       ${log.console.slice(0, 8).join('\n       ')}`);
  assert(log.dialogs.length === 0, `${what}: dialogs opened: ${log.dialogs.join(' | ')}`);
}

// ---------- checks ----------
async function main() {
  browser = await launch();

  const ex = await open(EXAMPLE, { clipboard: true });
  const { page } = ex;
  const article = await inPage(page, (core) => core.articleExample());

  await check('dist under a sub-path: the example article renders every widget, fetching only from its own folder', async () => {
    const stages = await page.evaluate(() => [...document.querySelectorAll('backprop-widget')]
      .map((w) => `${w.getAttribute('group')}:${w.getAttribute('stage')}`));
    eq(stages.length, 6, `widgets (${stages.join(', ')})`);
    const katex = await page.evaluate(() => [...document.querySelectorAll('backprop-widget')]
      .reduce((n, w) => n + w.shadowRoot.querySelectorAll('.katex').length, 0));
    assert(katex >= 10, `only ${katex} formulas rendered`);
    const outside = ex.log.requests.filter((u) => !u.startsWith(`${SITE_BASE}${PREFIX}/`));
    assert(outside.length === 0, `requests outside ${PREFIX}/: ${outside.join(', ')}`);
    assert(ex.log.requests.some((u) => /\/how-llms-learn\/pkg\/how_llms_learn(_relaxed)?_bg\.wasm$/.test(u)), 'the wasm came from the sub-path');
    assert(ex.log.requests.some((u) => u.endsWith('.woff2')), 'KaTeX fonts were loaded');
    // Nothing is added to the host document: no stylesheet, no elements outside the widgets.
    const doc = await page.evaluate(() => ({
      links: document.querySelectorAll('link').length,
      styles: document.querySelectorAll('style').length,
      sheets: document.styleSheets.length,
      bodyChildren: [...document.body.children].map((e) => e.tagName).join(','),
    }));
    eq(doc.links, 1, 'link elements in the host page (its own stylesheet only)');
    eq(doc.styles, 0, 'style elements in the host page');
    eq(doc.sheets, 1, 'stylesheets in the host page');
    eq(doc.bodyChildren, 'ARTICLE', 'children of the host page body');
    await page.screenshot({ path: join(SHOTS, 'embed-example-top.png') });
    await page.locator(widget('walk', 'loss')).screenshot({ path: join(SHOTS, 'embed-example-loss.png') });
    await page.locator(widget('step', 'update share')).screenshot({ path: join(SHOTS, 'embed-example-update-share.png') });
  });

  await check('src and inline JSON: each group starts from its own state', async () => {
    const tea = await page.evaluate((s) => document.querySelector(s).getState(), widget('tea', 'target loss'));
    const file = JSON.parse(readFileSync(join(ROOT, 'www', 'embed-example-state.json'), 'utf8'));
    const expectTea = await inPage(page, (core, share, s) => core.validate(s), file);
    sameValue(tea, expectTea, 'tea state');
    const lossTea = await inPage(page, (core, share, s) => core.loss(s), tea);
    eq(lossTea.count, 3, 'tea: three positions have a target (eos ".")');
    const step = await page.evaluate((s) => document.querySelector(s).getState(), widget('step', 'update share'));
    eq(step.config.dFf, 0, 'inline state: no feed-forward block');
    eq(step.config.context, 2, 'inline state: context 2');
    const walk = await page.evaluate((s) => document.querySelector(s).getState(), widget('walk', 'forward'));
    sameValue(walk, article, 'a group without a state starts from the article example');
  });

  await check('two synced instances: a weight edited in the forward widget updates the loss and backward widgets and fires statechange', async () => {
    await page.evaluate((sels) => {
      window.__events = [];
      for (const s of sels) document.querySelector(s).addEventListener('statechange', (e) => window.__events.push({ s, wq: e.detail.state.weights.wq[0][0] }));
    }, [widget('walk', 'loss'), widget('walk', 'backward'), widget('tea', 'target loss')]);
    const input = page.locator(`${widget('walk', 'forward')} figure[data-name="weight-wq"] td[data-r="0"][data-c="0"] input`);
    await input.click();
    await input.fill('0.75');
    await input.press('Enter');
    await frames(page, 2);
    const state = await page.evaluate((s) => document.querySelector(s).getState(), widget('walk', 'backward'));
    eq(state.weights.wq[0][0], 0.75, 'the backward widget sees the edit');
    const expected = await inPage(page, (core, share, s) => ({ loss: core.loss(s), backward: core.backward(s) }), state);
    eq(await shownLoss(page, widget('walk', 'toolbar')), String(expected.loss.value), 'toolbar loss');
    expectMatrix(await readMatrix(page, widget('walk', 'backward'), 'grad-wq'), expected.backward.weights.wq, 'backward widget ∂L/∂W_Q');
    expectMatrix(await readMatrix(page, widget('walk', 'backward'), 'grad-embedding'), expected.backward.weights.embedding, 'backward widget ∂L/∂E');
    const lossText = await page.evaluate((s) => document.querySelector(s).shadowRoot.textContent, widget('walk', 'loss'));
    assert(lossText.includes(expected.loss.value.toFixed(3)), `loss widget shows ${expected.loss.value.toFixed(3)}`);
    const events = await page.evaluate(() => window.__events);
    assert(events.some((e) => e.s.includes('"loss"') && e.wq === 0.75), 'statechange on the loss widget');
    assert(events.some((e) => e.s.includes('"backward"') && e.wq === 0.75), 'statechange on the backward widget');
    assert(!events.some((e) => e.s.includes('"tea"')), 'no statechange in another group');
    // readonly: the loss widget has nothing to edit.
    const editable = await page.evaluate((s) => document.querySelector(s).shadowRoot.querySelectorAll('input, select, textarea').length, widget('walk', 'loss'));
    eq(editable, 0, 'inputs in the readonly widget');
    // setState from a host script, on another instance of the group.
    await page.evaluate(({ s, st }) => document.querySelector(s).setState(st), { s: widget('walk', 'loss'), st: article });
    await frames(page, 2);
    const forwardWq = await readMatrix(page, widget('walk', 'forward'), 'weight-wq');
    eq(forwardWq[0][0], String(article.weights.wq[0][0]), 'setState on the loss widget reaches the forward widget');
    await page.screenshot({ path: join(SHOTS, 'embed-synced.png') });
  });

  await check('Ctrl+Z on the host page belongs to the host; inside a widget it undoes the widget', async () => {
    const wq = () => page.evaluate((s) => document.querySelector(s).getState().weights.wq[0][0], widget('walk', 'forward'));
    const input = page.locator(`${widget('walk', 'forward')} figure[data-name="weight-wq"] td[data-r="0"][data-c="0"] input`);
    await input.click();
    await input.fill('0.5');
    await input.press('Enter');
    await frames(page, 2);
    eq(await wq(), 0.5, 'edited');
    await page.evaluate(() => { document.activeElement?.blur(); });
    await page.mouse.click(5, 5);
    await page.keyboard.press('Control+Z');
    await frames(page, 2);
    eq(await wq(), 0.5, 'Ctrl+Z outside every widget leaves the model alone');
    await input.focus();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Z');
    await frames(page, 2);
    eq(await wq(), article.weights.wq[0][0], 'Ctrl+Z inside the widget undoes the edit');
  });

  let linkState = null;
  let link = null;
  await check('share: the toolbar link restores the exact state (with Adam moments) and the same loss and gradients', async () => {
    // A state with an optimiser history and awkward numbers: two Adam steps from an edited example.
    linkState = await inPage(page, (core) => {
      let s = core.articleExample();
      s.weights.wq[0][1] = -0;
      s.weights.wk[1][0] = 0.1 + 0.2;
      s.weights.embedding[1][0] = 1e-300;
      for (let i = 0; i < 2; i += 1) s = core.step(s, { optimizer: 'adam', learningRate: 0.01 }).state;
      return s;
    });
    await page.evaluate(({ s, st }) => document.querySelector(s).setState(st), { s: widget('walk', 'forward'), st: linkState });
    await frames(page, 2);
    await page.click(`${widget('walk', 'toolbar')} button[data-action="share"]`);
    await page.click(`${widget('walk', 'toolbar')} dialog.share-dialog button[data-action="copy-link"]`);
    await page.waitForFunction((s) => document.querySelector(s).shadowRoot.querySelector('dialog input.share-link').value.includes('#'), widget('walk', 'toolbar'));
    link = await page.locator(`${widget('walk', 'toolbar')} dialog.share-dialog input.share-link`).inputValue();
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    eq(clip, link, 'the clipboard holds the link');
    const url = new URL(link);
    eq(url.pathname, `${PREFIX}/embed-example.html`, 'the link points at the same page');
    assert(/^#bp\.walk=1\.[A-Za-z0-9_-]+$/.test(url.hash), `fragment format: ${url.hash.slice(0, 40)}…`);
    const jsonLength = JSON.stringify(linkState).length;
    assert(url.hash.length < jsonLength, `the fragment (${url.hash.length} chars) is shorter than the JSON (${jsonLength})`);
    await page.locator(`${widget('walk', 'toolbar')} dialog.share-dialog`).screenshot({ path: join(SHOTS, 'embed-share-dialog.png') });
    await page.keyboard.press('Escape');

    const other = await open(link);
    const restored = await other.page.evaluate((s) => document.querySelector(s).getState(), widget('walk', 'backward'));
    sameValue(restored, linkState, 'restored state');
    const expected = await inPage(other.page, (core, share, s) => ({ loss: core.loss(s), backward: core.backward(s) }), linkState);
    eq(await shownLoss(other.page, widget('walk', 'toolbar')), String(expected.loss.value), 'loss after opening the link');
    for (const name of ['wq', 'wk', 'wv', 'wo', 'embedding', 'unembedding', 'w1']) {
      expectMatrix(await readMatrix(other.page, widget('walk', 'backward'), `grad-${name}`), expected.backward.weights[name], `∂L/∂${name} after the link`);
    }
    eq(await other.page.evaluate(() => location.hash), '', 'the state is taken out of the address bar');
    const notice = await other.page.evaluate((s) => document.querySelector(s).shadowRoot.querySelector('.toolbar-notice').textContent, widget('walk', 'toolbar'));
    assert(/state from the link/.test(notice), `notice: ${notice}`);
    // Other groups of the page are untouched by a link for "walk".
    const tea = await other.page.evaluate((s) => document.querySelector(s).getState(), widget('tea', 'target loss'));
    eq(tea.vocab.join(' '), 'I like tea .', 'the tea group keeps its own state');
    noProblems(other.log, 'opening the link');
    await other.ctx.close();
  });

  await check('malicious fragment: token names with markup and script render as text; nothing runs', async () => {
    const names = ['<img src=x onerror="window.__pwned=1;alert(1)">', '<script>window.__pwned=2;alert(2)</script>',
      '"><svg onload=alert(3)>', '\\end{bmatrix}%}$&_#^~{'];
    const hostile = await inPage(page, async (core, share, n) => {
      const s = core.resize(core.articleExample(), { vocab: ['AI', 'rocks', ...n] });
      s.tokens = [n[0], n[1], n[2], n[3]];
      const state = core.validate(s);
      return { state, value: await share.encodeState(state) };
    }, names);
    const bad = await open(`${EXAMPLE}#bp.walk=${hostile.value}`);
    await frames(bad.page, 4);
    await bad.page.waitForTimeout(300);
    const report = await bad.page.evaluate(() => {
      const roots = [document, ...[...document.querySelectorAll('backprop-widget')].map((w) => w.shadowRoot)];
      const count = (sel) => roots.reduce((n, r) => n + r.querySelectorAll(sel).length, 0);
      const text = [...document.querySelectorAll('backprop-widget')].map((w) => w.shadowRoot.textContent).join('\n');
      return { pwned: window.__pwned ?? null, img: count('img'), scripts: document.querySelectorAll('script').length,
        shadowScripts: roots.slice(1).reduce((n, r) => n + r.querySelectorAll('script').length, 0),
        svgOnload: count('svg[onload]'), onerror: count('[onerror]'), text };
    });
    eq(report.pwned, null, 'no payload ran');
    eq(report.img, 0, 'img elements');
    eq(report.onerror + report.svgOnload, 0, 'elements with event handler attributes');
    eq(report.shadowScripts, 0, 'script elements inside the widgets');
    eq(report.scripts, 2, 'script elements in the page (its own module and the inline state)');
    for (const n of names.slice(0, 3)) assert(report.text.includes(n), `the token name ${n} is shown as text`);
    const state = await bad.page.evaluate((s) => document.querySelector(s).getState(), widget('walk', 'forward'));
    sameValue(state, hostile.state, 'the hostile but valid state');
    // Its LaTeX export escapes the names.
    await bad.page.click(`${widget('walk', 'toolbar')} button[data-action="share"]`);
    const dlg = `${widget('walk', 'toolbar')} dialog.share-dialog`;
    await bad.page.selectOption(`${dlg} select.export-matrix`, 'w:unembedding');
    await bad.page.selectOption(`${dlg} select.export-format`, 'latex');
    const latex = await bad.page.locator(`${dlg} textarea.export-text`).inputValue();
    assert(latex.includes('\\textbackslash{}end\\{bmatrix\\}\\%\\}\\$\\&\\_\\#\\textasciicircum{}\\textasciitilde{}\\{'), `escaped LaTeX:\n${latex}`);
    eq((latex.match(/\\begin\{bmatrix\}/g) || []).length, 1, 'one \\begin{bmatrix}');
    eq((latex.match(/\\end\{bmatrix\}/g) || []).length, 1, 'one \\end{bmatrix}');
    assert(latex.split('\n').every((l) => l === '' || l.startsWith('%') || l.startsWith('\\') || l.startsWith('  ')), 'no label escapes its comment line');
    await bad.page.locator(dlg).screenshot({ path: join(SHOTS, 'embed-malicious-export.png') });
    await bad.page.keyboard.press('Escape');
    await bad.page.locator(widget('walk', 'forward')).screenshot({ path: join(SHOTS, 'embed-malicious-tokens.png'), clip: undefined });
    noProblems(bad.log, 'the malicious link');
    await bad.ctx.close();
  });

  await check('broken links (truncated, garbage, invalid state, zip bomb, unknown version): a clear message, nothing changed', async () => {
    const valid = new URL(link).hash.replace('#bp.walk=', '');
    const made = await inPage(page, async (core) => {
      const deflate = async (text) => {
        const s = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate-raw'));
        const bytes = new Uint8Array(await new Response(s).arrayBuffer());
        let bin = '';
        for (const b of bytes) bin += String.fromCharCode(b);
        return `1.${btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
      };
      const s = core.articleExample();
      s.tokens = ['AI', 'paper'];
      return {
        invalid: await deflate(JSON.stringify(s)),
        notJson: await deflate('{"vocab": ["AI", '),
        array: await deflate('[1, 2, 3]'),
        bomb: await deflate(' '.repeat(60 * 1024 * 1024)),
      };
    });
    const cases = [
      ['truncated', valid.slice(0, Math.floor(valid.length / 2)), /incomplete or damaged/],
      ['garbage', '1.<script>alert(1)</script>', /damaged|not valid base64url/],
      ['unknown version', `9.${valid.slice(2)}`, /not made by this page/],
      ['not JSON', made.notJson, /not valid JSON/],
      ['not an object', made.array, /not a model state/],
      ['invalid state', made.invalid, /tokens\[1\] is "paper", which is not in vocab/],
      ['zip bomb', made.bomb, /too large/],
    ];
    for (const [what, value, message] of cases) {
      const b = await open(`${EXAMPLE}#bp.walk=${value}`);
      const notice = await b.page.evaluate((s) => document.querySelector(s).shadowRoot.querySelector('.toolbar-notice').textContent, widget('walk', 'toolbar'));
      assert(message.test(notice), `${what}: the message “${notice}” should match ${message}`);
      assert(/Nothing was changed: the article’s example is still shown/.test(notice), `${what}: says nothing was changed and what is shown`);
      const st = await b.page.evaluate((s) => document.querySelector(s).getState(), widget('walk', 'forward'));
      sameValue(st, article, `${what}: state`);
      noProblems(b.log, what);
      if (what === 'invalid state') await b.page.screenshot({ path: join(SHOTS, 'embed-broken-link.png') });
      await b.ctx.close();
    }
  });

  await check('export: a matrix as TSV, CSV and LaTeX at full precision; copy puts it on the clipboard', async () => {
    const st = await page.evaluate((s) => document.querySelector(s).getState(), widget('walk', 'forward'));
    const dlg = `${widget('walk', 'toolbar')} dialog.share-dialog`;
    await page.click(`${widget('walk', 'toolbar')} button[data-action="share"]`);
    await page.selectOption(`${dlg} select.export-matrix`, 'w:wk');
    await page.selectOption(`${dlg} select.export-format`, 'tsv');
    const tsv = await page.locator(`${dlg} textarea.export-text`).inputValue();
    const expectTsv = ['\td0\td1', ...st.weights.wk.map((row, r) => [`d${r}`, ...row.map(String)].join('\t'))].join('\n') + '\n';
    eq(tsv, expectTsv, 'TSV');
    await page.click(`${dlg} button[data-action="copy-matrix"]`);
    eq(await page.evaluate(() => navigator.clipboard.readText()), tsv, 'clipboard after Copy');
    await page.selectOption(`${dlg} select.export-format`, 'csv');
    const csv = await page.locator(`${dlg} textarea.export-text`).inputValue();
    eq(csv.split(/\r?\n/)[1], ['d0', ...st.weights.wk[0].map(String)].join(','), 'CSV row 0');
    await page.selectOption(`${dlg} select.export-format`, 'latex');
    const tex = await page.locator(`${dlg} textarea.export-text`).inputValue();
    assert(tex.includes('\\begin{bmatrix}') && tex.includes('\\end{bmatrix}'), 'bmatrix');
    // Gradients and per-head activations are in the list too.
    const ids = await page.evaluate((s) => [...document.querySelector(s).shadowRoot.querySelectorAll('dialog select.export-matrix option')].map((o) => o.value), widget('walk', 'toolbar'));
    for (const id of ['w:embedding', 'a:probs', 'a:attention.0', 'gw:wq', 'ga:logits']) assert(ids.includes(id), `export list has ${id}`);
    await page.keyboard.press('Escape');
  });

  await check('export → import: the JSON file round-trips the state exactly; a bad file is refused with a message', async () => {
    const before = await page.evaluate((s) => document.querySelector(s).getState(), widget('walk', 'forward'));
    sameValue(before, linkState, 'state before the export');
    const dlg = `${widget('walk', 'toolbar')} dialog.share-dialog`;
    await page.click(`${widget('walk', 'toolbar')} button[data-action="share"]`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`${dlg} button[data-action="download-json"]`)]);
    const file = join(TMP, 'exported.json');
    await download.saveAs(file);
    const text = readFileSync(file, 'utf8');
    sameValue(JSON.parse(text), before, 'the downloaded JSON');
    await page.keyboard.press('Escape');
    await page.evaluate(({ s, st }) => document.querySelector(s).setState(st), { s: widget('walk', 'forward'), st: article });
    await frames(page, 2);
    await page.click(`${widget('walk', 'toolbar')} button[data-action="share"]`);
    await page.setInputFiles(`${dlg} input[type="file"]`, file);
    await page.waitForFunction((s) => /Loaded/.test(document.querySelector(s).shadowRoot.querySelector('dialog.share-dialog').textContent), widget('walk', 'toolbar'));
    const after = await page.evaluate((s) => document.querySelector(s).getState(), widget('walk', 'backward'));
    sameValue(after, before, 'the imported state');
    const expected = await inPage(page, (core, share, s) => core.loss(s).value, before);
    eq(await shownLoss(page, widget('walk', 'toolbar')), String(expected), 'loss after the import');
    // Bad files: not JSON, and JSON that the core rejects. The state stays as it is.
    const badJson = join(TMP, 'broken.json');
    writeFileSync(badJson, '{"vocab": ["AI",');
    await page.setInputFiles(`${dlg} input[type="file"]`, badJson);
    await page.waitForFunction((s) => /broken\.json” was not loaded/.test(document.querySelector(s).shadowRoot.querySelector('dialog.share-dialog').textContent), widget('walk', 'toolbar'));
    const invalid = join(TMP, 'invalid.json');
    const wrong = structuredClone(before);
    wrong.weights.wq[1] = [1, 2, 3];
    writeFileSync(invalid, JSON.stringify(wrong));
    await page.setInputFiles(`${dlg} input[type="file"]`, invalid);
    await page.waitForFunction((s) => /invalid\.json” was not loaded: weights\.wq row 1 has 3 numbers, expected 2/.test(document.querySelector(s).shadowRoot.querySelector('dialog.share-dialog').textContent), widget('walk', 'toolbar'));
    sameValue(await page.evaluate((s) => document.querySelector(s).getState(), widget('walk', 'forward')), before, 'state after the refused files');
    await page.locator(dlg).screenshot({ path: join(SHOTS, 'embed-import-refused.png') });
    await page.keyboard.press('Escape');
  });

  await check('Export as PyTorch / JAX: each button downloads the core’s Python file for the current state and the update panel’s step', async () => {
    const state = await page.evaluate((s) => document.querySelector(s).getState(), widget('walk', 'forward'));
    const dlg = `${widget('walk', 'toolbar')} dialog.share-dialog`;
    await page.click(`${widget('walk', 'toolbar')} button[data-action="share"]`);
    eq(await page.locator(`${dlg} [data-testid="export-python-step"]`).textContent(), 'SGD, η = 0.1', 'the step the dialog names');
    for (const [key, fn, name] of [['pytorch', 'exportPytorch', 'how-llms-learn-pytorch.py'], ['jax', 'exportJax', 'how-llms-learn-jax.py']]) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`${dlg} button[data-action="export-${key}"]`)]);
      eq(download.suggestedFilename(), name, `${key}: file name`);
      const file = join(TMP, name);
      await download.saveAs(file);
      const expected = await inPage(page, (core, share, a) => core[a.fn](a.state, { optimizer: 'sgd', learningRate: 0.1 }), { fn, state });
      assert(readFileSync(file, 'utf8') === expected, `${key}: the downloaded file is the core's export`);
      await page.waitForFunction(({ s, n }) => document.querySelector(s).shadowRoot.querySelector('dialog.share-dialog').textContent.includes(`Saved ${n}`), { s: widget('walk', 'toolbar'), n: name });
    }
    await page.locator(dlg).screenshot({ path: join(SHOTS, 'embed-share-python.png') });
    await page.keyboard.press('Escape');
  });

  await check('hostile host CSS: the widget looks the same as on a plain page, and the host page is not restyled', async () => {
    const shots = {};
    for (const name of ['plain', 'hostile']) {
      const p = await open(`${SITE_BASE}${PREFIX}/${name}.html`, { width: 900 });
      await p.page.waitForTimeout(200);
      shots[name] = await p.page.locator('backprop-widget').screenshot({ path: join(SHOTS, `embed-host-${name}.png`) });
      await p.page.screenshot({ path: join(SHOTS, `embed-host-${name}-page.png`), fullPage: true });
      if (name === 'plain') {
        // The widget's own styles never reach the host's elements.
        const host = await p.page.evaluate(() => {
          const s = (el) => { const c = getComputedStyle(el); return `${c.fontFamily}|${c.fontSize}|${c.color}|${c.display}`; };
          return { p: s(document.querySelector('.probe')), td: s(document.querySelector('.probe-table td')), sheets: document.styleSheets.length };
        });
        eq(host.sheets, 1, 'stylesheets in the plain host page');
        const bare = await browser.newContext();
        const bp = await bare.newPage();
        await bp.goto(`${SITE_BASE}${PREFIX}/plain.html`, { waitUntil: 'domcontentloaded' });
        await bp.evaluate(() => { for (const w of document.querySelectorAll('backprop-widget')) w.remove(); });
        const ref = await bp.evaluate(() => {
          const s = (el) => { const c = getComputedStyle(el); return `${c.fontFamily}|${c.fontSize}|${c.color}|${c.display}`; };
          return { p: s(document.querySelector('.probe')), td: s(document.querySelector('.probe-table td')) };
        });
        eq(host.p, ref.p, 'host paragraph style');
        eq(host.td, ref.td, 'host table cell style');
        await bare.close();
      }
      noProblems(p.log, `${name} host`);
      await p.ctx.close();
    }
    const cmp = await comparePngs(page, shots.plain, shots.hostile);
    eq(cmp.a.join('×'), cmp.b.join('×'), 'screenshot sizes');
    assert(cmp.fraction <= 0.005, `${(cmp.fraction * 100).toFixed(2)}% of the pixels differ (tolerance 0.5%)`);
  });

  await check('dist from another origin (served with CORS) works, and nothing is fetched from the page\'s own origin', async () => {
    const c = await open(`${SITE_BASE}${PREFIX}/cross-origin.html`);
    const st = await c.page.evaluate(() => document.querySelector('backprop-widget').getState());
    sameValue(st, article, 'cross-origin state');
    const expected = await inPage(c.page, (core) => core.loss(core.articleExample()).value, null, `${DIST_BASE}/`);
    const text = await c.page.evaluate(() => document.querySelector('backprop-widget').shadowRoot.textContent);
    assert(text.includes(expected.toFixed(3)), `cross-origin widget shows the loss ${expected.toFixed(3)}`);
    const fromDist = c.log.requests.filter((u) => u.startsWith(`${DIST_BASE}/`));
    assert(fromDist.some((u) => u.endsWith('.wasm')), 'the wasm came from the other origin');
    assert(fromDist.some((u) => u.endsWith('.woff2')), 'fonts came from the other origin');
    const local = c.log.requests.filter((u) => u.startsWith(SITE_BASE) && !u.endsWith('/cross-origin.html'));
    eq(local.length, 0, `requests to the page's origin (${local.join(', ')})`);
    await c.page.locator('backprop-widget').screenshot({ path: join(SHOTS, 'embed-cross-origin.png') });
    // A large state is computed in a Web Worker, which must start even though the widget's
    // modules come from another origin.
    const large = await inPage(c.page, (core) => core.resize(core.articleExample(), { config: { ...core.articleExample().config, dModel: 128, dFf: 256 } }), null, `${DIST_BASE}/`);
    const largeLoss = await inPage(c.page, (core, share, s) => core.loss(s).value, large, `${DIST_BASE}/`);
    await c.page.evaluate((st) => document.querySelector('backprop-widget').setState(st), large);
    await c.page.waitForFunction((d) => document.querySelector('backprop-widget').getState()?.config.dModel === d, 128, { timeout: 20000 });
    await frames(c.page, 3);
    const largeText = await c.page.evaluate(() => document.querySelector('backprop-widget').shadowRoot.textContent);
    assert(largeText.includes(largeLoss.toFixed(3)), `cross-origin large state: the loss ${largeLoss.toFixed(3)} is shown`);
    assert(c.log.requests.some((u) => u === `${DIST_BASE}/js/worker.js`), 'the worker module came from the other origin');
    noProblems(c.log, 'cross-origin');
    await c.ctx.close();
  });

  await check('no console errors or warnings on the example page', async () => {
    noProblems(ex.log, 'example page');
    consoleProblems.push(...ex.log.console);
  });
  await ex.ctx.close();
}

await finishSuite('embed e2e', main, { browser: () => browser, results, cleanup: () => rmSync(TMP, { recursive: true, force: true }) });
