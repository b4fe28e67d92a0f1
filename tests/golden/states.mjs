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
console.log(JSON.stringify({ article, everything: core.validate(everything) }));
