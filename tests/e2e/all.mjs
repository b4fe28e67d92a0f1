// Runs every end-to-end suite in turn: run.mjs (the walkthrough page) and each *.e2e.mjs file
// (embedding, bad input, …). Each suite is its own Node process with its own server and browser,
// so one suite's state cannot leak into another. Exits non-zero if any suite fails.
//
//   npm run test:e2e            all suites
//   npm run test:e2e -- embed   only suites whose file name contains "embed"

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const filter = process.argv.slice(2);
const suites = ['run.mjs', ...readdirSync(HERE).filter((f) => f.endsWith('.e2e.mjs')).sort()]
  .filter((f) => !filter.length || filter.some((x) => f.includes(x)));

const failed = [];
for (const suite of suites) {
  console.log(`\n--- e2e suite ${suite} ---`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(HERE, suite)], { stdio: 'inherit' });
  console.log(`--- ${suite}: ${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s ---`);
  if (r.status !== 0) failed.push(suite);
}
console.log(`\ne2e: ${suites.length - failed.length} of ${suites.length} suites passed${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
process.exit(failed.length ? 1 : 0);
