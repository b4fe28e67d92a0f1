// @ts-check
// The table of contents at the top of the article (index.html's nav.toc): marks the link of the
// section being read (aria-current) and fills a thin bar with how far down the page the reader is.
// On a phone the list scrolls sideways, so the marked link is scrolled into the list's view.

const CURRENT_LINE = 0.3; // the section that crosses 30 % of the window's height is the one read

function start() {
  const nav = /** @type {HTMLElement | null} */ (document.querySelector('nav.toc'));
  if (!nav) return;
  const links = [...nav.querySelectorAll('a[href^="#"]')];
  const sections = links.map((a) => document.getElementById(a.getAttribute('href').slice(1))).filter(Boolean);
  const bar = /** @type {HTMLElement | null} */ (nav.querySelector('.toc-progress-bar'));
  const list = nav.querySelector('ol');
  let current = null;
  let queued = false;
  const update = () => {
    queued = false;
    const line = window.innerHeight * CURRENT_LINE;
    let found = null;
    for (const s of sections) if (s.getBoundingClientRect().top <= line) found = s;
    const id = found ? found.id : null;
    if (id !== current) {
      current = id;
      for (const a of links) {
        if (a.getAttribute('href') === `#${id}`) {
          a.setAttribute('aria-current', 'location');
          // Keep the marked link visible in the sideways-scrolling list (phones), without
          // moving the page itself.
          const l = a.parentElement;
          if (list.scrollWidth > list.clientWidth) list.scrollLeft = l.offsetLeft - (list.clientWidth - l.offsetWidth) / 2;
        } else a.removeAttribute('aria-current');
      }
      nav.dataset.current = id || '';
    }
    const max = document.documentElement.scrollHeight - window.innerHeight;
    if (bar) bar.style.transform = `scaleX(${max > 0 ? Math.min(1, Math.max(0, window.scrollY / max)) : 0})`;
  };
  const soon = () => { if (!queued) { queued = true; requestAnimationFrame(update); } };
  // Panels out of view are laid out at an estimated height (content-visibility in widget.css),
  // so the first jump past them can land off by the difference once they are drawn: the jump is
  // repeated over a few frames until the heading stays where it was put.
  nav.addEventListener('click', (e) => {
    const a = /** @type {Element} */ (e.target).closest('a[href^="#"]');
    const target = a && document.getElementById(a.getAttribute('href').slice(1));
    if (!target) return;
    e.preventDefault();
    history.pushState(null, '', `#${target.id}`);
    // Measured at the start of each frame, after the previous frame drew what came into view.
    target.scrollIntoView({ block: 'start' });
    const wanted = target.getBoundingClientRect().top;
    let frames = 0;
    let still = 0;
    const settle = () => {
      frames += 1;
      if (Math.abs(target.getBoundingClientRect().top - wanted) > 1) { still = 0; target.scrollIntoView({ block: 'start' }); } else still += 1;
      if (still < 3 && frames < 20) requestAnimationFrame(settle);
    };
    requestAnimationFrame(settle);
    target.setAttribute('tabindex', '-1');
    target.focus({ preventScroll: true });
  });
  window.addEventListener('scroll', soon, { passive: true });
  window.addEventListener('resize', soon);
  // In a frame, not now: at DOMContentLoaded, reading positions would lay out the article before
  // its widgets are drawn, only for the page to be laid out again with them.
  soon();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
