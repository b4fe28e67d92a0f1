// @ts-check
// Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y) undo and redo the group whose widget has focus.
import { groupAccess } from './groups.js';
import { storeOf } from './store.js';

let shortcutsInstalled = false;
export function installShortcuts() {
  if (shortcutsInstalled) return;
  shortcutsInstalled = true;
  document.addEventListener('keydown', (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key !== 'z' && key !== 'y') return;
    const path = event.composedPath();
    const target = path[0];
    if (target instanceof HTMLElement && isTextEditing(target)) return; // native text undo
    let group = null;
    for (const node of path) {
      if (node instanceof HTMLElement && node.tagName === 'BACKPROP-WIDGET') {
        // A read-only element changes nothing, not even by undoing the group's last edit.
        if (node.hasAttribute('readonly')) return;
        group = node.getAttribute('group') || 'default';
        break;
      }
    }
    // Outside every widget, Ctrl+Z belongs to the host page, unless the page is ours and says so
    // with <meta name="backprop-shortcuts" content="page"> (the walkthrough does).
    if (!group && !document.querySelector('meta[name="backprop-shortcuts"][content="page"]')) return;
    const store = storeOf(group);
    if (!store || !store.view || groupAccess(store.group) === 'readonly') return;
    event.preventDefault();
    const redo = key === 'y' || event.shiftKey;
    if (redo) store.redo(); else store.undo();
  });
}

function isTextEditing(el) {
  if (el.isContentEditable || el.tagName === 'TEXTAREA') return true;
  if (el.tagName !== 'INPUT') return false;
  const type = (el.getAttribute('type') || 'text').toLowerCase();
  if (!['text', 'number', 'search', ''].includes(type)) return false;
  // Matrix cells use the app's undo unless the reader is typing into them.
  if (el.classList.contains('cell-input')) return el.dataset.dirty === 'true';
  return true;
}
