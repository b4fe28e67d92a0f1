// What a reader may do with a group's model on this page, from its elements' attributes. A
// share link changes only a group the reader can edit and undo (share.js); a group no element
// lets the reader edit is never changed by a link or Ctrl+Z, and is not kept across reloads
// (store.js), so an author's read-only example always shows what the author wrote.

/** The page's <backprop-widget> elements of `group`. */
export function groupWidgets(group) {
  return [...document.querySelectorAll('backprop-widget')]
    .filter((w) => (w.getAttribute('group') || 'default') === group);
}

/**
 * 'edit': an editable element has the toolbar (Undo, Reset); 'ask': editable, but nothing on
 * the page undoes a change, so a link asks first; 'readonly': every element is read-only.
 * A group with no element (driven by a script) counts as 'edit'.
 */
export function groupAccess(group) {
  const mine = groupWidgets(group);
  if (!mine.length) return 'edit';
  const editable = mine.filter((w) => !w.hasAttribute('readonly'));
  if (!editable.length) return 'readonly';
  const stages = (w) => (w.getAttribute('stage') || 'all').toLowerCase().split(/[\s,]+/);
  return editable.some((w) => stages(w).includes('toolbar')) ? 'edit' : 'ask';
}
