// @ts-check
// Which build of the lean core (the module the page and worker start with) this browser loads. Both builds share one wasm-bindgen wrapper
// (.ci/build.mjs checks it): the relaxed-SIMD one (f64x2.relaxed_madd, a fused multiply-add, in
// the matrix kernel; wasm-pack.toml [relaxed]) where the browser validates relaxed SIMD, the
// simd128 one elsewhere or when the relaxed module cannot be fetched.

const PLAIN = new URL('../pkg/how_llms_learn_lean_bg.wasm', import.meta.url);
const RELAXED = new URL('../pkg/how_llms_learn_lean_relaxed_bg.wasm', import.meta.url);

// The smallest module using f64x2.relaxed_madd (0xfd 0x87 0x02) on three i8x16.splat(0).
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 19, 1, 17, 0, 65, 0, 253, 15, 65, 0, 253, 15, 65, 0, 253, 15, 253, 135, 2, 11]);

/** Whether this browser runs WebAssembly relaxed SIMD. */
export function hasRelaxedSimd() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/**
 * Initialises a copy of the wasm-bindgen wrapper (its default export) with the build this
 * browser should run; falls back to the simd128 build if the relaxed one fails to load.
 * @param {(options: { module_or_path: URL }) => Promise<unknown>} init
 */
export async function initCore(init) {
  if (hasRelaxedSimd()) {
    try {
      return await init({ module_or_path: RELAXED });
    } catch {
      // A missing or refused file: the simd128 build computes the same numbers to a few ulps.
    }
  }
  return init({ module_or_path: PLAIN });
}
