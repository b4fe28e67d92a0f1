// What every browser suite (tests/e2e/*.mjs) and the benchmark (tests/bench/run.mjs) share:
// a static server on a free local port, Chromium started the one way that works offline here,
// and waiting for animation frames.

import { chromium } from 'playwright-core';
import { test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync } from 'node:fs';

const require = createRequire(import.meta.url);

/**
 * The page loads www/bundle/ (www/js/ bundled and minified by the build), not www/js/ itself:
 * bundles it again from the current sources (under a second), so a suite always tests the code
 * as it will ship, also right after an edit of www/js/ without a full build. Exits on failure.
 */
export function bundlePage() {
  const build = new URL('../../.ci/build.mjs', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [build, '--js-only'], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`bundling www/js failed (node .ci/build.mjs --js-only):\n${r.stdout}${r.stderr}`);
    process.exit(1);
  }
}

/**
 * A suite's start: stops with a message when the wasm package was not built, bundles the page
 * (`bundle: false` for a suite that serves only the distribution folder) and makes the
 * screenshot folder.
 */
export function prepareSuite(name, { bundle = true } = {}) {
  const wasm = new URL('../../www/pkg/how_llms_learn_lean_bg.wasm', import.meta.url).pathname;
  if (!existsSync(wasm)) {
    console.error(`${name}: www/pkg is missing; run npm run build first`);
    process.exit(1);
  }
  if (bundle) bundlePage();
  mkdirSync(new URL('./screenshots', import.meta.url).pathname, { recursive: true });
}

/** Throws `message` unless cond holds. */
export function assert(cond, message) { if (!cond) throw new Error(message); }

/** Throws unless actual is expected (Object.is), naming `what` and both values. */
export function eq(actual, expected, what) {
  assert(Object.is(actual, expected), `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

const servers = [];

/** Serves `dir` with http-server (it sends application/wasm), caching off; resolves to its base
 * URL once it answers. `extra`: more http-server flags, e.g. ['--cors']. */
export async function serve(dir, extra = []) {
  const port = await freePort();
  servers.push(spawn(process.execPath,
    [require.resolve('http-server/bin/http-server'), dir, '-a', '127.0.0.1', '-p', String(port), '-c-1', '--silent', ...extra],
    { stdio: 'ignore' }));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i += 1) {
    try { const r = await fetch(`${base}/`); if (r.status < 500) return base; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`http-server for ${dir} did not start`);
}

/** Stops every server `serve` started. */
export function stopServers() {
  for (const s of servers.splice(0)) s.kill();
}

/** Debian's Chromium, headless, with the flags that keep it off the (closed) network. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/**
 * KaTeX loads only when the first formula comes near the viewport (www/js/katex.js), and until
 * then formulas wait, empty. Scrolls the first widget formula into view (then back to where the
 * page was) and waits until no formula in any widget waits any more: the suites then see every
 * formula typeset, as a reader who scrolled would.
 */
export async function typesetFormulas(page, timeout = 20000) {
  const scrolled = await page.evaluate(() => {
    const first = [...document.querySelectorAll('backprop-widget')]
      .map((w) => w.shadowRoot?.querySelector('[data-tex-wait]'))
      .find((el) => el && el.getClientRects().length);
    if (!first) return null;
    const at = [scrollX, scrollY];
    first.scrollIntoView({ block: 'center' });
    return at;
  });
  if (!scrolled) return;
  await frames(page, 2);
  await page.evaluate(([x, y]) => window.scrollTo(x, y), scrolled);
  await page.waitForFunction(() => [...document.querySelectorAll('backprop-widget')]
    .every((w) => !w.shadowRoot?.querySelector('[data-tex-wait]')), null, { timeout });
  await frames(page, 1);
}

/**
 * Waits until every widget on the page has rendered its panels, two more frames, and the
 * formulas near the viewport are typeset (typesetFormulas).
 */
export async function waitReady(page, { timeout = 20000 } = {}) {
  await page.waitForFunction(() => {
    const widgets = [...document.querySelectorAll('backprop-widget')];
    return widgets.length > 0 && widgets.every((w) => w.shadowRoot && w.shadowRoot.querySelector('.bp:not([hidden]) .panel'));
  }, null, { timeout });
  await frames(page, 2);
  await typesetFormulas(page);
}

/**
 * Waits until every sideways-scrolling box knows whether it scrolls (off-screen ones learn it in
 * the page's idle time, dom.js): before an accessibility scan, as a reader's idle page would be.
 */
export async function scrollChecksDone(page, timeout = 20000) {
  await page.waitForFunction(() => [...document.querySelectorAll('backprop-widget')]
    .every((w) => !w.shadowRoot?.querySelector('[data-scroll-unchecked]')), null, { timeout });
}

/** Records the page's console errors and warnings, and its uncaught errors, as lines in `list`. */
export function recordConsoleProblems(page, list) {
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') list.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => list.push(`pageerror: ${err.message}`));
}

/**
 * The end of a suite: runs `main()`, then, whatever happened, closes the suite's browser
 * (`browser()` returns it, or nothing when it never started), stops the servers and runs
 * `cleanup()`, and prints `report()` and the count. node:test reports each check and sets the
 * exit code: non-zero when main() threw (reported as a failed test), a check failed or none ran.
 * `results`: the suite's { ok } records; `noun`: what it counts.
 */
export async function finishSuite(name, main, { browser, results, noun = 'checks', cleanup = () => {}, report = () => {} }) {
  let aborted = null;
  try {
    await main();
  } catch (err) {
    aborted = err;
  } finally {
    await browser()?.close().catch(() => {});
    stopServers();
    cleanup();
  }
  if (aborted) await test(`${name}: the suite ran to its end`, () => { throw aborted; });
  if (!results.length && !selection().length) await test(`${name}: at least one check ran`, () => { throw new Error(`no ${noun} ran`); });
  report();
  const passed = results.filter((r) => r.ok).length;
  console.log(`\n${name}: ${passed} passed, ${results.length - passed} failed (${results.length} ${noun})`);
  // A handle left open (a page's socket, a child) must not keep a finished suite waiting.
  setTimeout(() => process.exit(process.exitCode ?? 0), 10000).unref();
}

/** Lets `n` animation frames pass in the page. */
export function frames(page, n = 1) {
  return page.evaluate((count) => new Promise((res) => {
    let left = count;
    const tick = () => { left -= 1; if (left <= 0) res(); else requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  }), n);
}

/**
 * The checks a command line selects: `node tests/e2e/run.mjs undo axe` runs the checks whose
 * names contain "undo" or "axe" (case-insensitive); node:test's own --test-name-pattern works too.
 */
export function selection() {
  return process.argv.slice(2).filter((a) => !a.startsWith('--'));
}

/**
 * A suite's `check(name, fn)`: one node:test test (run in turn: each awaits the previous), skipped
 * unless the command line selects it (`only`, see selection), recorded as { name, ok, err } in
 * `results` for the suite's own summary.
 */
export function checker(results, only = selection()) {
  return function check(name, fn) {
    const skip = only.length > 0 && !only.some((o) => name.toLowerCase().includes(o.toLowerCase()));
    return test(name, { skip: skip && 'not selected on the command line' }, async () => {
      try {
        await fn();
        results.push({ name, ok: true });
      } catch (err) {
        results.push({ name, ok: false, err });
        throw err;
      }
    });
  };
}

/**
 * Where the page's work happens, observed without a clock: whether a computation ran on the main
 * thread is a structural fact, while the length of a task on a shared machine is not a test (the
 * tasks' lengths are measured and reported by npm run bench). Installed before the page's scripts,
 * on its main thread only, it records
 *   ops        every request posted to a worker: { op, tokens (of a state sent along), steps }
 *   memories   the main thread's wasm memories (a state the main thread computes lives in one)
 *   decoded    the most bytes one TextDecoder.decode call turned into text on the main thread
 *   inflates   DecompressionStreams made on the main thread
 * Read it with `spied(page)`.
 */
export function installSpy(page) {
  return page.addInitScript(() => {
    if (typeof window === 'undefined' || window.__spy) return;
    const spy = { ops: [], memories: [], decoded: 0, inflates: 0 };
    window.__spy = spy;
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function spiedPost(message, ...rest) {
      if (message && typeof message.op === 'string') {
        const { args = {} } = message;
        spy.ops.push({ op: message.op, tokens: args.state?.tokens?.length ?? null, steps: args.steps ?? null });
      }
      return post.call(this, message, ...rest);
    };
    for (const name of ['instantiate', 'instantiateStreaming']) {
      const original = WebAssembly[name];
      WebAssembly[name] = async function spiedInstantiate(...args) {
        const made = await original.apply(this, args);
        const exports = (made.instance ?? made).exports;
        for (const x of Object.values(exports)) if (x instanceof WebAssembly.Memory) spy.memories.push(x);
        return made;
      };
    }
    const decode = TextDecoder.prototype.decode;
    TextDecoder.prototype.decode = function spiedDecode(input, ...rest) {
      spy.decoded = Math.max(spy.decoded, input?.byteLength ?? 0);
      return decode.call(this, input, ...rest);
    };
    const Inflate = DecompressionStream;
    window.DecompressionStream = class extends Inflate {
      constructor(...args) { super(...args); spy.inflates += 1; }
    };
  });
}

/** What installSpy recorded so far; `wasmBytes`: the main thread's wasm memories, in bytes. */
export function spied(page) {
  return page.evaluate(() => {
    const s = window.__spy;
    return {
      ops: s.ops.slice(),
      wasmModules: s.memories.length,
      wasmBytes: s.memories.reduce((n, m) => n + m.buffer.byteLength, 0),
      decoded: s.decoded,
      inflates: s.inflates,
    };
  });
}
