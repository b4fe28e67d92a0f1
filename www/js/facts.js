// @ts-check
// Facts about the current state that the article's sentences depend on ("the attention
// gradients are all zero", "hidden unit h1 is inactive"), read off the core's results by
// comparison only, no arithmetic: view.js adds them to every view as `derived.facts`, and
// <bp-when>/<bp-value> (widget.js) show the sentences that hold.
import { unitLabels } from './labels.js';

/** Every entry of a (possibly nested) array of numbers is exactly 0; masked (null/NaN) skipped. */
function allZero(values) {
  if (values == null) return false;
  if (typeof values === 'number') return Number.isNaN(values) || values === 0;
  for (const v of values) if (!allZero(v)) return false;
  return true;
}

/** "h1", "h1 and h3", "h0, h1 and h3". */
function joinNames(names) {
  if (names.length < 2) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

export function articleFacts(view) {
  const { state, forward, backward, loss } = view;
  const facts = {
    attentionIdle: false, onlyFirstScored: false, inactiveUnits: null, inactiveUnitsText: null,
    inactiveOne: false, inactiveMany: false, deadUnitsText: null, lastUnscored: false,
  };
  if (!forward || !loss || !backward || view.large) return facts;
  const targets = loss.targets || [];
  const scored = targets.map((y, t) => (y == null ? -1 : t)).filter((t) => t >= 0);
  facts.onlyFirstScored = scored.length === 1 && scored[0] === 0;
  facts.lastUnscored = targets.length > 0 && targets[targets.length - 1] == null;
  // Position 0 attends only to itself: its softmax row is the constant 1, so when it is the only
  // position with a target nothing reaches the scores. The sentence shows only while that holds.
  facts.attentionIdle = facts.onlyFirstScored && allZero(backward.activations.scores);
  const hidden = forward.hidden;
  if (hidden && state.config.activation === 'relu' && scored.length) {
    const names = unitLabels(state.config.dFf);
    const inactive = names.filter((_, j) => scored.every((t) => hidden[t][j] === 0));
    const dead = names.filter((_, j) => hidden.every((row) => row[j] === 0));
    if (inactive.length) {
      facts.inactiveUnits = inactive;
      facts.inactiveUnitsText = joinNames(inactive);
      facts.inactiveOne = inactive.length === 1;
      facts.inactiveMany = inactive.length > 1;
    }
    if (dead.length) facts.deadUnitsText = joinNames(dead);
  }
  return facts;
}
