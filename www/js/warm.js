// @ts-check
// Panels and steps out of view skip layout and paint (content-visibility: auto in widget.css),
// so that an edit costs only what is near the viewport. The price was paid on the first scroll:
// a step shown for the first time was laid out and pre-painted whole, several steps of the
// forward or backward pass in one frame, a 50–80 ms task. Here, when the page is idle after
// loading, each such step is rendered once, a few in each idle period (a frame with only those
// made visible): later its layout is kept, and coming into view costs only what changed since.
import { whenIdle } from './dom.js';

/** Elements rendered in one warming frame: a few steps at once, far below a 50 ms task. */
const FRAME_ELEMENTS = 1000;
const queue = [];
let running = false;

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
const idle = () => new Promise((resolve) => whenIdle(resolve, 2000));

async function drain() {
  running = true;
  while (queue.length) {
    await idle();
    // The next steps up to FRAME_ELEMENTS (a larger one alone is left to render when it comes
    // into view, in a task of its own); the panel around a step skips its contents too while
    // out of view, so it is shown with them.
    const batch = new Set();
    let size = 0;
    while (queue.length) {
      const el = queue[0];
      // A step already rendered (near the viewport) needs no frame of its own.
      const shown = el.isConnected && el.firstElementChild?.checkVisibility({ contentVisibilityAuto: true });
      const n = el.isConnected && !shown ? el.querySelectorAll('*').length : 0;
      if (n > FRAME_ELEMENTS || !n) { queue.shift(); continue; }
      if (size + n > FRAME_ELEMENTS) break;
      queue.shift();
      size += n;
      batch.add(el);
      const panel = el.closest('.panel');
      if (panel) batch.add(panel);
    }
    for (const el of batch) el.classList.add('bp-warm');
    await nextFrame();
    for (const el of batch) el.classList.remove('bp-warm');
  }
  running = false;
}

/**
 * The step around `el`, whose content changed while it was out of view (a formula typeset in
 * idle time once KaTeX arrived), rendered again the same way: its layout would otherwise be done
 * in the frame that scrolls it into view (a 65 ms layout in a trace of the first scroll).
 */
export function warmAgain(el) {
  const step = el.closest('.step');
  if (!step || queue.includes(step)) return;
  queue.push(step);
  if (!running) drain();
}

/** Render the skipped steps under `root` once, each in an idle period of its own. */
export function warmOffscreen(root) {
  queue.push(...root.querySelectorAll('.step'));
  if (!running) drain();
}
