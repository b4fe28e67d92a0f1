// @ts-check
// Entry point of the article page: defines <backprop-widget>, <bp-value>, <bp-sym>, <bp-notation>,
// the guided experiments (<bp-try>), the model diagram (<bp-diagram>) and the table of contents.
import './widget.js';
import './legend.js';
import './experiments.js';
import './diagram.js';
import './toc.js';
import './corpus/index.js';
