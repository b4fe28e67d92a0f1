// The article's last section in the page (www/js/corpus/): training the preset corpus in the
// worker, as a reader does (the default 2,000 steps, Adam, mini-batches of 4), timed from the
// Train click to the last step shown, with the main thread's long tasks meanwhile; and the
// memory the timeline's snapshots take (the page shows it, from the worker's own count).
import { waitReady } from '../e2e/harness.mjs';

/** `{ steps, ms, stepsPerSecond, tasks, bytes, snapshots, interval, snapshotBytes, weights }`. */
export async function corpusTraining(browser, base) {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${base}/index.html`);
  // The walkthrough's widgets first: their loading is the page's, not the training's.
  await waitReady(page);
  await page.evaluate(() => document.getElementById('train').scrollIntoView());
  await page.waitForFunction(() => document.querySelector('[data-testid="corpus-vocab"]')?.children.length > 0, null, { timeout: 30000 });
  await page.waitForTimeout(1000); // the first paint of the section scrolled to is not the training's
  const r = await page.evaluate(async () => {
    const tasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) tasks.push(e.duration); }).observe({ type: 'longtask' });
    const text = document.querySelector('[data-testid="train-progress-text"]');
    const start = document.querySelector('[data-testid="train-start"]');
    const total = Number(document.querySelector('[data-testid="train-steps"]').value);
    const t0 = performance.now();
    start.click();
    await new Promise((res) => {
      const poll = () => (Number(text.dataset.done) === total && document.querySelector('bp-corpus-training').dataset.status === 'done' ? res() : setTimeout(poll, 5));
      poll();
    });
    const ms = performance.now() - t0;
    const budget = document.querySelector('[data-testid="timeline-budget"]');
    await new Promise((res) => setTimeout(res, 300));
    return { steps: total, ms, tasks, bytes: Number(budget.dataset.bytes), budgetText: budget.textContent };
  });
  await page.close();
  const m = /^(\d+) snapshots? recorded, every (\d+) steps.*\(([\d.]+) KiB each/.exec(r.budgetText) || [];
  return { ...r, stepsPerSecond: (r.steps / r.ms) * 1000, snapshots: Number(m[1]), interval: Number(m[2]), snapshotKiB: Number(m[3]) };
}
