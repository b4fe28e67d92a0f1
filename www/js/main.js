// Entry point of the article page: defines <backprop-widget> and <bp-value>.
import './widget.js';
