// The golden files' input states, as the core writes them (see make.py).
import { readFileSync } from 'node:fs';
const root = new URL('../../', import.meta.url);
const core = await import(new URL('www/pkg/how_llms_learn.js', root));
core.initSync({ module: readFileSync(new URL('www/pkg/how_llms_learn_bg.wasm', root)) });
const article = core.articleExample();
// Every switch on: layer norm, GELU, two heads, an end-of-sequence token, three tokens.
const everything = core.resize(
  { ...article, tokens: ['AI', 'rocks', 'AI'] },
  { vocab: [...article.vocab, '⟨eos⟩'], config: { ...article.config, layerNorm: true, activation: 'gelu', dModel: 4, nHeads: 2 } },
);
everything.eos = '⟨eos⟩';
// A training batch of four sequences of three lengths (the shown one twice, one of a single
// token) and a held-out sequence, on the every-switch model.
const batch = {
  ...everything,
  sequences: [['AI', 'rocks', 'AI'], ['rocks'], ['AI', 'rocks', 'AI'], ['rocks', 'rocks', 'AI', 'AI']],
  heldOut: [['rocks', 'AI']],
};
console.log(JSON.stringify({ article, everything: core.validate(everything), batch: core.validate(batch) }));
