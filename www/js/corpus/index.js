// @ts-check
// The article's last section, "Train it on your own text": its elements, each subscribed to the
// page's one Lab (lab.js), which asks the worker for everything it shows.
import './editor.js';
import './training.js';
import './timeline.js';
import './generate.js';
