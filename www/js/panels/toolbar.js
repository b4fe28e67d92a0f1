// @ts-check
// Undo / redo / reset and the live loss, kept in view while reading.
import { h, setText, errorMessage, renderNotice } from '../dom.js';
import { fmt, full } from '../format.js';

export function mount(container, ctx) {
  const { store, readonly } = ctx;
  const undo = h('button', { type: 'button', class: 'btn', 'aria-keyshortcuts': 'Control+Z', title: 'Undo (Ctrl+Z)' },
    h('span', { 'aria-hidden': 'true', text: '↶ ' }), 'Undo');
  const redo = h('button', { type: 'button', class: 'btn', 'aria-keyshortcuts': 'Control+Shift+Z', title: 'Redo (Ctrl+Shift+Z)' },
    h('span', { 'aria-hidden': 'true', text: '↷ ' }), 'Redo');
  const reset = h('button', { type: 'button', class: 'btn', 'aria-label': 'Reset to the article’s values' },
    'Reset', h('span', { class: 'wide-only', text: ' to the article’s values' }));
  const shareBtn = h('button', { type: 'button', class: 'btn', 'aria-haspopup': 'dialog', dataset: { action: 'share' } },
    'Share', h('span', { class: 'wide-only', text: ' & export' }));
  // The dialog's code (panels/share.js, export.js) is fetched on the first click: the first
  // screen never shows it. Until then there is nothing to keep up to date but the latest view.
  let shareBox = null;
  let loading = null;
  let lastView = null;
  shareBtn.addEventListener('click', () => {
    loading ??= import('./share.js').then(({ shareDialog }) => {
      shareBox = shareDialog(ctx, ctx.frame || container);
      if (lastView) shareBox.update(lastView);
    });
    shareBtn.setAttribute('aria-busy', 'true');
    loading.then(() => shareBox.open(shareBtn), (err) => {
      loading = null;
      store.setNotice(`The share dialog could not be loaded (${errorMessage(err)}); try again.`);
    }).finally(() => shareBtn.removeAttribute('aria-busy'));
  });
  const lossValue = h('output', { class: 'toolbar-loss-value', dataset: { testid: 'toolbar-loss' } });
  const notice = h('p', { class: 'toolbar-notice', role: 'status' });
  // Large models are computed by a worker: say so while it works (compute.js).
  const busy = h('p', { class: 'toolbar-busy', role: 'status', hidden: true, dataset: { testid: 'busy' } },
    h('progress', { class: 'busy-progress', 'aria-label': 'Computing' }), ' Computing in the background…');
  undo.addEventListener('click', () => store.undo());
  redo.addEventListener('click', () => store.redo());
  reset.addEventListener('click', () => {
    try { store.reset(); } catch (err) { store.setNotice(errorMessage(err)); }
  });
  container.append(h('div', { class: 'toolbar' },
    h('div', { class: 'toolbar-buttons' },
      readonly ? null : h('div', { class: 'toolbar-buttons', role: 'group', 'aria-label': 'History' }, undo, redo, reset),
      shareBtn),
    h('p', { class: 'toolbar-loss' }, h('span', { class: 'wide-only', text: 'Loss ' }), h('span', { text: 'L = ' }), lossValue)),
  notice, busy);
  store.onBusy?.((n) => { busy.hidden = !n; });
  store.onNotice((message, action) => renderNotice(notice, message, action));
  return {
    update(view) {
      lastView = view;
      shareBox?.update(view);
      undo.disabled = !store.canUndo;
      redo.disabled = !store.canRedo;
      const value = view.loss ? view.loss.value : null;
      setText(lossValue, value == null ? 'none (no position has a target)' : fmt(value, 4));
      lossValue.title = value == null ? '' : full(value);
      lossValue.dataset.value = value == null ? '' : full(value);
    },
  };
}
