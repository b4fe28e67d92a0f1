// @ts-check
// Stage 3, the target: the input shifted one position, the skipped last position
// (or its end-of-sequence target) and the one-hot matrix Y. Targets come from the core.
import { h, setText, keyboardScrollable } from '../dom.js';
import { MatrixView } from '../matrix.js';
import { positionLabels } from '../labels.js';
import { whyEmpty, noTargetMessage } from './common.js';

const MAX_COLS = 64;

/** "No position has a target.", "1 of 2 positions has a target.", "2 of 3 positions have a target." */
function countSentence(count, T) {
  if (count === 0) return 'No position has a target, so there is no loss yet.';
  return `${count} of ${T} position${T === 1 ? '' : 's'} ${count === 1 ? 'has' : 'have'} a target.`;
}

export function mount(container, _ctx) {
  const table = h('table', { class: 'seq-table', 'aria-labelledby': 'target-seq-caption' });
  const caption = h('p', { class: 'mat-caption', id: 'target-seq-caption', text: 'Input and target, position by position' });
  const seqScroll = h('div', { class: 'mat-scroll seq-scroll' }, table);
  const explain = h('p', { class: 'explain', dataset: { testid: 'skip-explanation' } });
  const why = whyEmpty();
  const y = new MatrixView({
    label: 'Target matrix Y (one-hot)', name: 'target-y', kind: 'onehot', digits: 0,
    maskText: 'no target', maskTitle: 'no target: this position is skipped',
  });
  container.append(
    h('h3', { class: 'panel-title', text: 'The target' }),
    caption,
    seqScroll,
    explain,
    why.el,
    y.el,
  );

  let shownKey = '';
  function fillTable(state, targets, T, more) {
    const cells = (f) => [...state.tokens.slice(0, MAX_COLS).map((_, t) => f(t)),
      more ? h('td', { class: 'more-cols', text: `… ${more} more` }) : null];
    const headRow = h('tr', null, h('th', { scope: 'row', text: 'Position' }),
      ...cells((t) => h('th', { scope: 'col', text: String(t) })));
    const inputRow = h('tr', null, h('th', { scope: 'row', text: 'Input' }),
      ...cells((t) => h('td', { class: 'tok', text: state.tokens[t] })));
    const targetRow = h('tr', { class: 'target-row' }, h('th', { scope: 'row', text: 'Target' }),
      ...cells((t) => {
        const i = targets[t];
        if (i == null) {
          return h('td', { class: 'skipped', dataset: { testid: 'skipped' } },
            h('span', { class: 'skip-mark', 'aria-hidden': 'true', text: '∅ ' }), 'none (skipped)');
        }
        const isEos = t === T - 1 && state.eos != null;
        return h('td', { class: isEos ? 'tok eos' : 'tok', dataset: { target: String(i) } },
          state.vocab[i], isEos ? h('span', { class: 'eos-mark', text: ' (end of sequence)' }) : null);
      }));
    table.replaceChildren(h('tbody', null, headRow, inputRow, targetRow));
    keyboardScrollable(seqScroll, 'Input and target (scrolls sideways)');
  }

  return {
    update(view) {
      const { state, loss } = view;
      const T = state.tokens.length;
      const targets = loss ? loss.targets : state.tokens.map(() => null); // null when no position has a target
      // Long inputs: the first MAX_COLS positions, then one column saying how many more.
      const more = Math.max(0, T - MAX_COLS);
      // Built again only when what it shows changes: an edit of a weight leaves it as it is.
      const key = JSON.stringify([state.tokens.slice(0, MAX_COLS), targets.slice(0, MAX_COLS), targets.slice(0, MAX_COLS).map((i) => (i == null ? null : state.vocab[i])), T, state.eos]);
      if (key !== shownKey) {
        shownKey = key;
        fillTable(state, targets, T, more);
      }

      const last = state.tokens[T - 1];
      const skipped = targets.filter((i) => i == null).length;
      if (state.eos == null) {
        setText(explain, `The target of each position is the token that follows it in the input. Position ${T - 1} (“${last}”) is the last: nothing follows it, and there is no end-of-sequence token, so it has no target and is skipped by the loss. ${countSentence(T - skipped, T)}`);
      } else {
        const all = T === 1 ? 'its one position has a target' : `all ${T} positions have a target`;
        const why = state.tokens.includes(state.eos)
          ? `but “${state.eos}”, an ordinary word of the input, was chosen as the end-of-sequence token, so the model is trained to predict that word there`
          : `but “${state.eos}” is the end-of-sequence token, so the model is trained to predict the end there`;
        setText(explain, `The target of each position is the token that follows it. The last position (“${last}”) has nothing after it, ${why}: ${all}.`);
      }
      why.show(loss ? null : noTargetMessage(view));
      y.update({
        values: state.tokens.map((_, t) => state.vocab.map((_, j) => (targets[t] == null ? null : Number(targets[t] === j)))),
        rows: positionLabels(state),
        cols: state.vocab.slice(),
      });
    },
  };
}
