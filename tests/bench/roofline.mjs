// The roofline under the JAX comparison: how many multiply-adds per second this machine can do at
// all, with WebAssembly's 128-bit lanes in Chromium (what the core's kernels use) and natively with
// 128-bit and 256-bit lanes (what XLA's kernels use on a CPU with AVX2), measured by the same chains
// of fused multiply-adds (tests/bench/peak, a crate of its own, built here: seconds). Best of five
// rounds each, as a busy machine only ever makes them slower.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `{ wasm, fma128, fma256 }` in GFLOP/s (null where not measured), or `{ error }`. */
export async function roofline(browser, root) {
  const crate = join(root, 'tests', 'bench', 'peak');
  const env = { ...process.env, CARGO_TARGET_DIR: join(root, 'target', 'fma-peak') };
  const cargo = (args, extra = {}) => spawnSync('cargo', args, { cwd: crate, encoding: 'utf8', env: { ...env, ...extra } });
  const native = cargo(['run', '--quiet', '--release', '--bin', 'fma-peak']);
  if (native.status !== 0) return { error: `native build failed: ${native.stderr.slice(-300)}` };
  const wasmBuild = cargo(['build', '--quiet', '--release', '--lib', '--target', 'wasm32-unknown-unknown'],
    { RUSTFLAGS: '-C target-feature=+simd128,+relaxed-simd' });
  if (wasmBuild.status !== 0) return { error: `wasm build failed: ${wasmBuild.stderr.slice(-300)}` };
  const bytes = [...readFileSync(join(env.CARGO_TARGET_DIR, 'wasm32-unknown-unknown', 'release', 'fma_peak.wasm'))];
  const page = await (await browser.newContext()).newPage();
  const wasm = await page.evaluate(async (b) => {
    const { instance } = await WebAssembly.instantiate(new Uint8Array(b));
    const { peak, flops_per_round: flopsPerRound } = instance.exports;
    peak(1e6, 1); // past V8's baseline compiler
    let best = 0;
    for (let round = 0; round < 5; round += 1) {
      const n = 2e7;
      const t0 = performance.now();
      peak(n, 1);
      best = Math.max(best, (n * flopsPerRound()) / (performance.now() - t0) / 1e6);
    }
    return best;
  }, bytes);
  await page.context().close();
  return { wasm, ...JSON.parse(native.stdout) };
}
