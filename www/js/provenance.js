// @ts-check
// Where a forward-pass number comes from: pointing at (or focusing) a cell of an activation in
// the forward panel outlines the cells it was computed from, in the matrices of the same panel
// (Q₀,₁ comes from row 0 of X̃ and column 1 of W_Q). Index bookkeeping only: which rows and
// columns feed which entry, read off the forward pass's formulas; no number is computed here.
import { dims } from './labels.js';

const all = null; // a whole row or column

/**
 * The cells `name`[r][c] is computed from, as [figure name, row or all, column or all]; `head`
 * is the head of a per-head matrix (scores, attention).
 */
export function sources(name, r, c, head, state) {
  const { D } = dims(state);
  const cfg = state.config;
  const ln = Boolean(cfg.layerNorm);
  const headCols = (h) => Array.from({ length: D }, (_, i) => h * D + i);
  const x1Input = ln && cfg.dFf > 0 ? 'act-mlpIn' : 'act-x1';
  const finalInput = cfg.dFf > 0 ? 'act-x2' : 'act-x1';
  switch (name) {
    case 'x': return [['weight-embedding', state.vocab.indexOf(state.tokens[r]), c], ['weight-position', r, c]];
    case 'attnIn': return [['act-x', r, all], ['weight-ln1Gain', 0, c], ['weight-ln1Bias', 0, c]];
    case 'q': case 'k': case 'v': return [[ln ? 'act-attnIn' : 'act-x', r, all], [`weight-w${name}`, all, c]];
    case 'scores': return headCols(head).flatMap((j) => [['act-q', r, j], ['act-k', c, j]]);
    case 'attention': return Array.from({ length: r + 1 }, (_, s) => [`act-scores-h${head}`, r, s]);
    case 'z': {
      const h = Math.floor(c / D);
      return [[`act-attention-h${h}`, r, all], ['act-v', all, c]];
    }
    case 'attnOut': return [['act-z', r, all], ['weight-wo', all, c]];
    case 'x1': return [['act-x', r, c], ['act-attnOut', r, c]];
    case 'mlpIn': return [['act-x1', r, all], ['weight-ln2Gain', 0, c], ['weight-ln2Bias', 0, c]];
    case 'u': return [[x1Input, r, all], ['weight-w1', all, c], ['weight-b1', 0, c]];
    case 'hidden': return [['act-u', r, c]];
    case 'mlpOut': return [['act-hidden', r, all], ['weight-w2', all, c], ['weight-b2', 0, c]];
    case 'x2': return [['act-x1', r, c], ['act-mlpOut', r, c]];
    case 'xf': return [[finalInput, r, all], ['weight-lnfGain', 0, c], ['weight-lnfBias', 0, c]];
    case 'logits': return [[ln ? 'act-xf' : finalInput, r, all], ['weight-unembedding', all, c]];
    case 'probs': return [['act-logits', r, all]];
    default: return [];
  }
}

/** Outlines the sources of the activation cell under the pointer or focus in `container`. */
export function attachProvenance(container, getState) {
  let marked = [];
  const clear = () => {
    for (const td of marked) td.classList.remove('prov-src', 'prov-target');
    marked = [];
  };
  const show = (target) => {
    clear();
    const td = target.closest?.('td[data-r]');
    const fig = td?.closest('figure.matrix');
    const m = fig && /^act-([A-Za-z0-9]+?)(?:-h(\d+))?$/.exec(fig.dataset.name || '');
    if (!m || td.classList.contains('masked')) return;
    const r = Number(td.dataset.r);
    const c = Number(td.dataset.c);
    for (const [figName, row, col] of sources(m[1], r, c, m[2] == null ? null : Number(m[2]), getState())) {
      const src = container.querySelector(`figure[data-name="${figName}"]`);
      if (!src || src.hidden) continue;
      const sel = `td[data-r]${row == null ? '' : `[data-r="${row}"]`}${col == null ? '' : `[data-c="${col}"]`}`;
      for (const cell of src.querySelectorAll(sel)) { cell.classList.add('prov-src'); marked.push(cell); }
    }
    td.classList.add('prov-target');
    marked.push(td);
  };
  container.addEventListener('pointerover', (e) => show(e.target));
  container.addEventListener('focusin', (e) => show(e.target));
  container.addEventListener('pointerleave', clear);
  container.addEventListener('focusout', clear);
}
