// @ts-check
// Keep and share (stage "share", and the toolbar's "Share & export" dialog): a link with the
// exact state, the state as a JSON file (download and import), and any matrix as TSV, CSV or
// LaTeX. Token names only ever reach the DOM as text (textContent, input values).
import { h, setText, errorMessage, uniqueId } from '../dom.js';
import { shareUrl, MAX_LINK_CHARS } from '../share.js';
import { matrixCatalogue, FORMATS, PYTHON_EXPORTS, copyText, downloadState, downloadText, readStateFile } from '../export.js';
import { symText } from '../notation.js';
import { loadExtras, loadedExtras } from '../core.js';

/** Matrices up to this many entries are re-exported live on every edit; larger ones on demand. */
const LIVE_PREVIEW_CELLS = 4096;

/** The step the Python exports take, in words: "SGD, η = 0.1". */
function stepWords(o) {
  const eta = `${symText('learningRate')} = ${o.learningRate}`;
  if (o.optimizer !== 'adam') return `SGD, ${eta}`;
  const b1 = o.beta1 ?? 0.9, b2 = o.beta2 ?? 0.999, e = o.epsilon ?? 1e-8;
  return `Adam, ${eta}, ${symText('adamBeta1')} = ${b1}, ${symText('adamBeta2')} = ${b2}, ${symText('adamEps')} = ${e}`;
}

export function mount(container, ctx) {
  const { store, readonly } = ctx;
  let view = null;
  let exported = ''; // the export's exact text (a textarea's value turns CRLF into LF)

  // Share link.
  const linkId = uniqueId('share-link');
  const linkBox = h('input', {
    id: linkId, class: 'share-link', type: 'text', readonly: true, spellcheck: 'false',
    placeholder: 'Press “Copy link” to make a link', dataset: { testid: 'share-link' },
  });
  const copyLink = h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'copy-link' } }, 'Copy link');
  const linkMsg = h('p', { class: 'share-msg', role: 'status' });

  // File.
  const download = h('button', { type: 'button', class: 'btn', dataset: { action: 'download-json' } }, 'Download JSON');
  const fileInput = h('input', { type: 'file', accept: '.json,application/json', class: 'visually-hidden', dataset: { action: 'import-json' } });
  const importLabel = h('label', { class: 'btn file-btn' }, 'Import JSON…', fileInput);
  const fileMsg = h('p', { class: 'share-msg', role: 'status' });

  // Matrix export.
  const matrixSelect = h('select', { class: 'export-matrix', dataset: { testid: 'export-matrix' } });
  const formatSelect = h('select', { class: 'export-format', dataset: { testid: 'export-format' } },
    Object.entries(FORMATS).map(([value, f]) => h('option', { value, text: f.label })));
  const copyMatrix = h('button', { type: 'button', class: 'btn', dataset: { action: 'copy-matrix' } }, 'Copy');
  const preview = h('textarea', {
    class: 'export-text', readonly: true, rows: '6', spellcheck: 'false', wrap: 'off',
    'aria-label': 'The exported matrix', dataset: { testid: 'export-text' },
  });
  const matrixMsg = h('p', { class: 'share-msg', role: 'status' });

  // Python: the same step in PyTorch or JAX, checked number by number against the core's.
  const pyButtons = Object.entries(PYTHON_EXPORTS).map(([key, x]) =>
    h('button', { type: 'button', class: 'btn', dataset: { action: `export-${key}` } }, `Export as ${x.label}`));
  const pyStep = h('span', { dataset: { testid: 'export-python-step' } });
  const pyMsg = h('p', { class: 'share-msg', role: 'status' });

  const say = (el, text, isError = false) => {
    setText(el, text);
    el.classList.toggle('error', isError);
  };

  copyLink.addEventListener('click', async () => {
    say(linkMsg, 'Making the link…');
    try {
      const { state, value } = await store.encodeLink(store.training);
      const url = await shareUrl(state, store.group, undefined, null, value);
      // A link longer than the page itself accepts would only fail for whoever opens it.
      const fragment = url.slice(url.indexOf('#') + 1);
      const length = fragment.length - fragment.indexOf('=') - 1;
      if (length > MAX_LINK_CHARS) {
        linkBox.value = '';
        const fileBtn = h('button', { type: 'button', class: 'btn', dataset: { action: 'download-instead' }, text: 'Download JSON instead' });
        fileBtn.addEventListener('click', () => download.click());
        say(linkMsg, `This model is too large for a link: it would need ${length.toLocaleString('en')} characters, and a link may have at most ${MAX_LINK_CHARS.toLocaleString('en')} (longer ones cannot be opened). Keep it as a JSON file instead, which Import JSON… opens again. `, true);
        linkMsg.append(fileBtn);
        return;
      }
      linkBox.value = url;
      const copied = await copyText(url);
      say(linkMsg, copied
        ? `Copied a link (${url.length.toLocaleString('en')} characters) with every number of this model.`
        : 'Here is the link; select it and copy it (the browser did not allow copying).');
      linkBox.select();
    } catch (err) {
      say(linkMsg, `No link could be made: ${errorMessage(err)}`, true);
    }
  });
  linkBox.addEventListener('focus', () => linkBox.select());

  download.addEventListener('click', () => {
    try {
      downloadState(store.view.state, container);
      say(fileMsg, 'Saved the whole state as how-llms-learn-state.json.');
    } catch (err) {
      say(fileMsg, `The state could not be saved: ${errorMessage(err)}`, true);
    }
  });

  const paintStep = () => {
    const o = store.stepOptions();
    setText(pyStep, o?.error ? `the update panel’s settings are not valid yet (${o.error})` : stepWords(o));
  };
  Object.values(PYTHON_EXPORTS).forEach((x, i) => pyButtons[i].addEventListener('click', async () => {
    paintStep();
    try {
      const o = store.stepOptions();
      if (o?.error) throw new Error(`the update panel’s settings are not valid: ${o.error}`);
      // The exports live in the full core, fetched the first time one is asked for (extras.js).
      if (!loadedExtras()) say(pyMsg, `Loading the ${x.label} exporter…`);
      const extras = await loadExtras();
      const text = extras[x.fn](store.view.state, o);
      downloadText(text, x.filename, 'text/x-python', container);
      say(pyMsg, `Saved ${x.filename} (${stepWords(o)}). Run it with ${x.install}, then python ${x.filename}.`);
    } catch (err) {
      say(pyMsg, `The ${x.label} file could not be made: ${errorMessage(err)}`, true);
    }
  }));

  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (!file) return;
    try {
      const state = await readStateFile(file);
      await store.commit(state); // a large state is checked in the worker: wait for its verdict
      say(fileMsg, `Loaded “${file.name}”. Undo goes back to the state before.`);
    } catch (err) {
      say(fileMsg, `“${file.name}” was not loaded: ${errorMessage(err)} Your current state is unchanged.`, true);
    }
  });

  const refreshPreview = () => {
    if (!view) return;
    const m = matrixCatalogue(view).find((x) => x.id === matrixSelect.value);
    exported = m ? FORMATS[formatSelect.value].write(m) : '';
    preview.value = exported;
  };
  matrixSelect.addEventListener('change', refreshPreview);
  formatSelect.addEventListener('change', refreshPreview);
  copyMatrix.addEventListener('click', async () => {
    refreshPreview();
    const name = matrixSelect.selectedOptions[0]?.textContent || 'matrix';
    const copied = await copyText(exported);
    preview.select();
    say(matrixMsg, copied
      ? `Copied ${name} as ${FORMATS[formatSelect.value].label}.`
      : 'Select the text below and copy it (the browser did not allow copying).');
  });

  const el = h('div', { class: 'share' },
    h('h3', { class: 'sub-title', text: 'Share this exact state' }),
    h('p', { class: 'hint', text: 'The link carries every number (tokens, vocabulary, settings, weights, the optimiser with its learning rate and its memory), packed into the part after “#”, which is never sent to a server.' }),
    h('div', { class: 'share-row' }, copyLink, h('label', { class: 'visually-hidden', for: linkId, text: 'Share link' }), linkBox),
    linkMsg,
    h('h3', { class: 'sub-title', text: 'Keep it as a file' }),
    h('div', { class: 'share-row' }, download, readonly ? null : importLabel),
    fileMsg,
    h('h3', { class: 'sub-title', text: 'Reproduce it in PyTorch or JAX' }),
    h('p', { class: 'hint' },
      'One Python file that rebuilds this exact state, takes one training step with the framework’s own automatic differentiation and optimiser, and checks every number shown here against it in float64. The step: ',
      pyStep, '.'),
    h('div', { class: 'share-row' }, ...pyButtons),
    pyMsg,
    h('h3', { class: 'sub-title', text: 'Export a matrix' }),
    h('div', { class: 'share-row' },
      h('label', { class: 'share-field' }, h('span', { class: 'label-text', text: 'Matrix' }), matrixSelect),
      h('label', { class: 'share-field' }, h('span', { class: 'label-text', text: 'Format' }), formatSelect),
      copyMatrix),
    preview,
    matrixMsg);
  container.append(el);

  return {
    el,
    refresh() { paintStep(); refreshPreview(); },
    update(v) {
      view = v;
      paintStep();
      const list = matrixCatalogue(v);
      const ids = list.map((m) => m.id).join('|');
      if (matrixSelect.dataset.ids !== ids) {
        const chosen = matrixSelect.value;
        const groups = new Map();
        for (const m of list) {
          if (!groups.has(m.group)) groups.set(m.group, h('optgroup', { label: m.group }));
          groups.get(m.group).append(h('option', { value: m.id, text: m.title }));
        }
        matrixSelect.replaceChildren(...groups.values());
        matrixSelect.dataset.ids = ids;
        if (list.some((m) => m.id === chosen)) matrixSelect.value = chosen;
      } else {
        // Titles may change with the state (e.g. per-head names); ids stay.
        list.forEach((m, i) => { const o = matrixSelect.options[i]; if (o) setText(o, m.title); });
      }
      // Refresh the preview only where it can be seen (no forced layout: a closed dialog is
      // enough to know), and only for matrices small enough to write out on every edit.
      const dialog = el.closest('dialog');
      const chosen = list.find((m) => m.id === matrixSelect.value);
      const small = chosen && chosen.rows.length * chosen.cols.length <= LIVE_PREVIEW_CELLS;
      if ((!dialog || dialog.open) && small) refreshPreview();
      else if (preview.value) { exported = ''; preview.value = ''; }
      // A link made for an older state would be misleading.
      if (linkBox.value && linkBox.dataset.version !== String(v.version)) {
        linkBox.value = '';
        setText(linkMsg, '');
      }
      linkBox.dataset.version = String(v.version);
    },
  };
}

/** The toolbar's dialog around the share panel. */
export function shareDialog(ctx, parent) {
  const titleId = uniqueId('share-title');
  const close = h('button', { type: 'button', class: 'btn deriv-close', text: 'Close' });
  const body = h('div', { class: 'deriv-body' });
  const dialog = h('dialog', { class: 'derivation share-dialog', 'aria-labelledby': titleId },
    h('div', { class: 'deriv-head' }, h('h2', { id: titleId, class: 'deriv-title', text: 'Share and export' }), close),
    body);
  parent.append(dialog);
  const panel = mount(body, ctx);
  let opener = null;
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  dialog.addEventListener('close', () => opener?.focus?.());
  // A closed dialog shows nothing: it catches up with the latest view when it opens, instead
  // of rebuilding its lists on every edit.
  let pending = null;
  return {
    open(from) {
      opener = from;
      if (pending) { panel.update(pending); pending = null; }
      if (!dialog.open) dialog.showModal();
      panel.refresh();
    },
    update(v) {
      if (dialog.open) panel.update(v); else pending = v;
    },
  };
}
