// @ts-check
// Entry point of the article page: defines <backprop-widget>, <bp-value>, <bp-sym>, <bp-notation>,
// the guided experiments (<bp-try>), the model diagram (<bp-diagram>) and the table of contents.
import './widget.js';
import './legend.js';
import './experiments.js';
import './diagram.js';
import './toc.js';

// The last section, "Train it on your own text", is far below the first screen: its elements'
// code (a chunk of the bundle) is fetched when the section comes within two screens, and the
// elements, until then unknown tags, are upgraded as soon as it arrives. Its editor then waits,
// as before, until it is nearer still before asking the worker for the preset.
const corpus = document.querySelector('bp-corpus-editor, bp-corpus-training, bp-corpus-timeline, bp-corpus-generate');
if (corpus) {
  const near = new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    near.disconnect();
    import('./corpus/index.js');
  }, { rootMargin: '2000px 0px' });
  near.observe(corpus.closest('section') ?? corpus);
}
