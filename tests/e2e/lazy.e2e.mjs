// What the page loads first and what it fetches on first use (docs/ARCHITECTURE.md, "What loads
// when"): the lean wasm module at load, the full one only when a derivation or a Python export
// needs it, with a visible loading state, a plain message when the fetch fails, and a retry that
// works.
//
//   node tests/e2e/lazy.e2e.mjs

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, checker, eq, finishSuite, launch, serve, waitReady, prepareSuite } from './harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const WWW = join(resolve(HERE, '..', '..'), 'www');
const SHOTS = join(HERE, 'screenshots');
const FULL = '/pkg/how_llms_learn_bg.wasm';
// Chromium has relaxed SIMD, so the page takes the lean module's relaxed-SIMD build (js/wasm-url.js).
const LEAN = '/pkg/how_llms_learn_lean_relaxed_bg.wasm';
const LEAN_PLAIN = '/pkg/how_llms_learn_lean_bg.wasm';
const W = (stage) => `backprop-widget[stage="${stage}"]`;
const GRAD = `${W('backward')} figure[data-name="grad-wq"] td[data-r="0"][data-c="0"]`;

prepareSuite('lazy e2e');
const results = [];
const check = checker(results);
let browser;

/** A page whose requests for the full module fail (`mode.fail`) or wait for `mode.release()`. */
async function open(base, width) {
  const page = await (await browser.newContext({ viewport: { width, height: 900 } })).newPage();
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  const mode = { fail: true, release: null };
  await page.route(`**${FULL}`, async (route) => {
    if (mode.fail) return route.abort();
    await new Promise((r) => { mode.release = r; });
    return route.continue();
  });
  await page.goto(`${base}/index.html`);
  await waitReady(page);
  return { page, requests, mode };
}

const dialogText = (page) => page.evaluate((s) => document.querySelector(s).shadowRoot.querySelector('dialog.derivation').textContent, W('backward'));

async function main() {
  const base = await serve(WWW);
  browser = await launch();
  await check('KaTeX\'s font faces are known to the document before KaTeX loads, and no font is fetched with them', async () => {
    // A face added later makes Chromium lay out every text of the page again (katex.js): during
    // the first scroll that was one 40-70 ms task.
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const requests = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(`${base}/index.html`);
    await page.waitForFunction(() => [...document.querySelectorAll('backprop-widget')].every((w) => w.shadowRoot?.querySelector('.bp:not([hidden]) .panel')));
    const faces = await page.evaluate(() => [...document.fonts].filter((f) => f.family.startsWith('KaTeX_')).map((f) => `${f.family} ${f.status}`));
    const css = await (await fetch(`${base}/vendor/katex/katex.min.css`)).text();
    eq(faces.length, (css.match(/@font-face/g) || []).length, 'KaTeX faces in document.fonts (one per @font-face of its stylesheet)');
    assert(!requests.some((p) => p.endsWith('/katex.mjs')), 'KaTeX itself was fetched: the check must run before it loads');
    assert(!requests.some((p) => p.includes('/vendor/katex/fonts/')), `a font was fetched at load: ${requests.filter((p) => p.includes('/fonts/'))}`);
    await page.close();
  });
  for (const width of [1280, 390]) {
    const { page, requests, mode } = await open(base, width);
    await check(`${width} px: the page starts with the lean module and does not fetch the full one`, async () => {
      assert(requests.includes(LEAN), `${LEAN} was not requested`);
      assert(!requests.includes(FULL), `${FULL} was fetched at load`);
      assert(!requests.includes(LEAN_PLAIN), `${LEAN_PLAIN} was fetched besides the relaxed-SIMD build`);
    });
    await check(`${width} px: a derivation whose module cannot be fetched says so; opening it again loads it and shows the numbers`, async () => {
      await page.locator(`${GRAD} button`).scrollIntoViewIfNeeded();
      const shown = await page.$eval(GRAD, (td) => td.dataset.value);
      await page.click(`${GRAD} button`);
      await page.waitForSelector(`${W('backward')} dialog.derivation[open] .error`);
      assert(/could not be loaded/.test(await dialogText(page)), 'the failure is named in the dialog');
      await page.screenshot({ path: join(SHOTS, `lazy-failed-${width}.png`) });
      await page.keyboard.press('Escape');
      mode.fail = false;
      await page.click(`${GRAD} button`);
      await page.waitForSelector(`${W('backward')} dialog.derivation[open] .deriv-wait[role="status"]`);
      assert(/Loading/.test(await dialogText(page)), 'the dialog says it is loading');
      await page.screenshot({ path: join(SHOTS, `lazy-loading-${width}.png`) });
      while (!mode.release) await page.waitForTimeout(20);
      mode.release();
      await page.waitForSelector(`${W('backward')} dialog.derivation[open] .deriv-total`);
      const total = await page.evaluate((s) => document.querySelector(s).shadowRoot.querySelector('dialog .deriv-shown').dataset.value, W('backward'));
      eq(total, shown, 'gradient quoted in the dialog');
      eq(await page.evaluate((s) => document.querySelector(s).shadowRoot.querySelectorAll('dialog.derivation .error').length, W('backward')), 0, 'errors in the dialog');
      await page.keyboard.press('Escape');
    });
    await page.close();
  }
}

finishSuite('lazy e2e', main, { browser: () => browser, results });
