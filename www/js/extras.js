// @ts-check
// The full core (www/pkg/how_llms_learn.js, every export) is fetched on first use: the page starts
// with the lean module (how_llms_learn_lean, see core.js), which lacks what the first screen
// never shows (derivations, forward explanations, finite differences, the Python exports). The
// worker (worker.js) and the page (core.js's loadExtras) both instantiate it from here.

/**
 * A new instance of the full module (its raw exports, initialised). The specifier is a URL so
 * that the bundler leaves the module out of the page's bundle; `generation` > 1 gives a second
 * copy of the wrapper (after a trap), while the browser's cache still has the .wasm.
 */
export async function instantiateFull(generation = 1) {
  const js = new URL('../pkg/how_llms_learn.js', import.meta.url);
  if (generation > 1) js.searchParams.set('instance', String(generation));
  const mod = await import(js.href);
  await mod.default({ module_or_path: new URL('../pkg/how_llms_learn_bg.wasm', import.meta.url) });
  return mod;
}

/** The full module could not be fetched or started (not a fault of the reader's state). */
export class ExtrasError extends Error {
  constructor(cause) {
    super(`the part of the model core that explains and exports numbers could not be loaded (${cause?.message || cause}); try again`);
    this.name = 'ExtrasError';
  }
}
