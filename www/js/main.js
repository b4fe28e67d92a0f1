// @ts-check
// Entry point of the article page: defines <backprop-widget>, <bp-value>, <bp-sym> and <bp-notation>.
import './widget.js';
import './legend.js';
