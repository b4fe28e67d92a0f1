// Runs every end-to-end suite with node:test's runner: run.mjs (the walkthrough page) and each
// *.e2e.mjs file (embedding, bad input, …). Each suite is its own Node process with its own
// server and browser, so one suite's state cannot leak into another, and they run one at a time
// (each starts a browser; the machines have two cores). Exits non-zero if any check fails.
//
//   npm run test:e2e                 all suites
//   npm run test:e2e -- embed        only suites whose file name contains "embed"
//   node tests/e2e/run.mjs undo      one suite, only the checks whose names contain "undo"

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const filter = process.argv.slice(2);
const suites = ['run.mjs', ...readdirSync(HERE).filter((f) => f.endsWith('.e2e.mjs')).sort()]
  .filter((f) => !filter.length || filter.some((x) => f.includes(x)));
if (!suites.length) {
  console.error(`no e2e suite matches ${filter.join(', ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath,
  ['--test', '--test-concurrency=1', '--test-reporter=spec', ...suites.map((f) => join(HERE, f))],
  { stdio: 'inherit' });
process.exit(r.status ?? 1);
