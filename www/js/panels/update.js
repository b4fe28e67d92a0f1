// @ts-check
// Stage 6, optimisation: one SGD or Adam step (computed by the core), shown as
// W, ∇W, the change and W′ with the loss before and after; and a training loop
// with a live loss curve. Each step is undoable; a whole training run is one undo.
import { h, svg, setText, errorMessage } from '../dom.js';
import { fmt, full, tex, parseNumber } from '../format.js';
import { renderTex } from '../katex.js';
import { MatrixView } from '../matrix.js';
import { WEIGHT_INFO, weightLabels, namesOf } from '../labels.js';
import { whyEmpty, noTargetMessage, panelMessage } from './common.js';
import { dL, dLText, entry, sym, symText, tx } from '../notation.js';
import { isDivergence, divergenceText, sentence } from '../messages.js';

const n = (v) => tex(v, 3, true);
/** A number the reader typed (the learning rate), as LaTeX: 1e-3 → 1 \times 10^{-3}. */
const plainTex = (x) => {
  const [mant, exp] = String(x).split('e');
  return exp ? `${mant} \\times 10^{${Number(exp)}}` : mant;
};
const STEP_MS = 60;
/** Training stops when the loss grows past this many times the first loss of the curve (and past 10). */
const EXPLODE_FACTOR = 10;
const CURVE_W = 600;
const CURVE_H = 220;
const PAD = { l: 72, r: 14, t: 14, b: 36 };

export function mount(container, ctx) {
  const { store, readonly } = ctx;
  const { element: message, say, stale } = panelMessage(store);
  const why = whyEmpty();

  // ---- Controls ----
  const sgd = h('input', { type: 'radio', name: 'optimizer', value: 'sgd', checked: true });
  const adam = h('input', { type: 'radio', name: 'optimizer', value: 'adam' });
  const lr = h('input', { type: 'text', inputmode: 'decimal', class: 'text-input num-input', value: '0.1', autocomplete: 'off', 'aria-describedby': null });
  const beta1 = h('input', { type: 'text', inputmode: 'decimal', class: 'text-input num-input', value: '0.9' });
  const beta2 = h('input', { type: 'text', inputmode: 'decimal', class: 'text-input num-input', value: '0.999' });
  const eps = h('input', { type: 'text', inputmode: 'decimal', class: 'text-input num-input', value: '1e-8' });
  const adamBox = h('div', { class: 'adam-options' },
    field(symText('adamBeta1'), beta1), field(symText('adamBeta2'), beta2), field(symText('adamEps'), eps));
  const weightSelect = h('select', { class: 'select' });
  const stepBtn = h('button', { type: 'button', class: 'btn btn-primary', text: 'Take one step' });
  const playBtn = h('button', { type: 'button', class: 'btn', 'aria-pressed': 'false', text: 'Play training' });
  const clearBtn = h('button', { type: 'button', class: 'btn', text: 'Clear the curve' });

  function field(text, control) {
    return h('label', { class: 'field inline-field' }, h('span', { class: 'label-text', text }), control);
  }

  // ---- Step display ----
  const lossLine = h('p', { class: 'step-loss', dataset: { testid: 'step-loss' } });
  const formula = h('div', { class: 'formula' });
  const live = h('div', { class: 'formula live' });
  const mats = {
    before: new MatrixView({ label: 'W (before)', name: 'upd-before', kind: 'weight' }),
    grad: new MatrixView({ label: '∇W', name: 'upd-grad', kind: 'gradient' }),
    change: new MatrixView({ label: `Change ${symText('updated')} − ${symText('weight')}`, name: 'upd-change', kind: 'gradient' }),
    after: new MatrixView({ label: `${symText('updated')} (after)`, name: 'upd-after', kind: 'weight' }),
  };
  const stepView = h('div', { class: 'step-result' },
    lossLine, formula, live,
    h('div', { class: 'matrices four' }, Object.values(mats).map((m) => m.el)));
  const stepHint = h('p', { class: 'hint', text: 'Take a step to see the weights before and after it.' });

  // ---- Loss curve ----
  const curvePath = svg('polyline', { class: 'curve-line', fill: 'none', points: '' });
  const yMax = svg('text', { x: PAD.l - 6, y: PAD.t + 10, 'text-anchor': 'end', class: 'axis-label' });
  const yMin = svg('text', { x: PAD.l - 6, y: CURVE_H - PAD.b, 'text-anchor': 'end', class: 'axis-label' });
  const xMax = svg('text', { x: CURVE_W - PAD.r, y: CURVE_H - 10, 'text-anchor': 'end', class: 'axis-label' });
  const curveSvg = svg('svg', { viewBox: `0 0 ${CURVE_W} ${CURVE_H}`, class: 'curve', role: 'img', 'aria-label': 'Loss curve: no steps yet' },
    svg('line', { x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: CURVE_H - PAD.b, class: 'axis' }),
    svg('line', { x1: PAD.l, y1: CURVE_H - PAD.b, x2: CURVE_W - PAD.r, y2: CURVE_H - PAD.b, class: 'axis' }),
    svg('text', { x: PAD.l, y: CURVE_H - 10, class: 'axis-label', text: '0' }),
    svg('text', { x: (CURVE_W + PAD.l) / 2, y: CURVE_H - 10, 'text-anchor': 'middle', class: 'axis-label', text: 'step' }),
    yMax, yMin, xMax, curvePath);
  const counter = h('output', { class: 'step-counter', dataset: { testid: 'step-counter' } });

  container.append(
    h('h3', { class: 'panel-title', text: 'Optimisation: one step downhill' }),
    why.el,
    h('fieldset', { class: 'group', disabled: readonly },
      h('legend', { text: 'Optimiser' }),
      h('div', { class: 'row', role: 'radiogroup', 'aria-label': 'Optimiser' },
        h('label', { class: 'radio' }, sgd, ' SGD'), h('label', { class: 'radio' }, adam, ' Adam')),
      h('div', { class: 'row' }, field('Learning rate η', lr)),
      adamBox),
    h('div', { class: 'row' }, field('Show the update of', weightSelect)),
    h('div', { class: 'row buttons', hidden: readonly }, stepBtn, playBtn, clearBtn),
    message,
    stepHint,
    stepView,
    h('h4', { class: 'sub-title', text: 'Training: the loss, step by step' }),
    h('p', { class: 'counter-line' }, 'Steps taken: ', counter),
    h('div', { class: 'curve-wrap' }, curveSvg),
  );
  // Give radio names unique to this widget (several update panels may share a page).
  const radioName = `optimizer-${Math.random().toString(36).slice(2, 8)}`;
  sgd.name = radioName;
  adam.name = radioName;

  let last = null; // { beforeView, result, afterState, weight }
  let curve = [];
  let curveOwner = null; // state produced by our last step; other edits restart the curve
  let timer = 0;
  let runId = 0;
  let steps = 0;

  /**
   * A failed step's message for the reader: a step whose numbers stopped being finite was caused
   * by the learning rate (the state before it was fine), so it says to lower that.
   */
  function stepError(err, opts) {
    const raw = errorMessage(err);
    return isDivergence(raw) ? divergenceText(opts ? opts.learningRate : NaN) : raw;
  }
  let lastOpts = null; // the options of the step being taken

  function options() {
    const rate = parseNumber(lr.value);
    if (rate.error) throw new Error(`Learning rate: ${rate.error}`);
    const o = { optimizer: adam.checked ? 'adam' : 'sgd', learningRate: rate.value };
    if (adam.checked) {
      for (const [key, input] of [['beta1', beta1], ['beta2', beta2], ['epsilon', eps]]) {
        const p = parseNumber(input.value);
        if (p.error) throw new Error(`${key}: ${p.error}`);
        o[key] = p.value;
      }
    }
    return o;
  }

  /**
   * One step of the store's state (the compute client takes it on this thread or, for a large
   * model, in the worker), adopted: one undo entry, or part of training run `coalesce`.
   */
  async function takeStep(coalesce = null) {
    const beforeView = store.view;
    if (!beforeView.loss) throw new Error(noTargetMessage(beforeView));
    const opts = options();
    lastOpts = opts;
    if (beforeView.large) say('Taking one step in the background…');
    const { result, view } = await store.step(opts, coalesce);
    if (curveOwner !== beforeView.state) { curve = [result.lossBefore]; steps = 0; }
    last = { beforeView, result, afterState: view.state, options: opts };
    curveOwner = view.state;
    curve.push(result.lossAfter);
    steps += 1;
    return result;
  }

  // A large model trains in the worker, a few steps per request; the page stays responsive.
  const LARGE_CHUNK = 2; // steps per worker request while training
  function tickLarge(key) {
    let opts;
    try { opts = options(); } catch (err) { pause(errorMessage(err)); return; }
    lastOpts = opts;
    const beforeView = store.view;
    if (!beforeView.loss) { pause(`Training stopped: ${noTargetMessage(beforeView)}`); return; }
    timer = -1; // a request is in flight
    store.train(opts, LARGE_CHUNK, key).then(({ result, view }) => {
      if (curveOwner !== beforeView.state) { curve = [beforeView.loss.value]; steps = 0; }
      curve.push(...result.losses);
      steps += result.losses.length;
      curveOwner = view.state;
      if (result.stopped) {
        pause(`Training stopped after ${steps} step${steps === 1 ? '' : 's'}: ${sentence(stepError(result.stopped, opts))} The last good state is kept.`);
        return;
      }
      if (exploded()) { pause(explodedText(opts)); return; }
      if (!timer) return; // paused meanwhile
      say(`Training in the background… ${steps} step${steps === 1 ? '' : 's'}, loss ${fmt(curve[curve.length - 1], 4)}.`);
      timer = setTimeout(() => tick(key), 0);
    }, (err) => pause(`Training stopped after ${steps} step${steps === 1 ? '' : 's'}: ${sentence(stepError(err, opts))} The last good state is kept.`));
  }

  stepBtn.addEventListener('click', () => {
    pause();
    takeStep().then(
      (r) => say(stepTaken(r)),
      (err) => say(`No step was taken: ${sentence(stepError(err, lastOpts))}`, true),
    );
  });

  function pause(reason) {
    if (timer) clearTimeout(timer);
    timer = 0;
    playBtn.setAttribute('aria-pressed', 'false');
    setText(playBtn, 'Play training');
    if (reason) say(reason, true);
  }

  function tick(key) {
    if (store.view.large) { tickLarge(key); return; }
    timer = -1; // a step is being taken
    takeStep(key).then(() => {
      if (!timer) return; // paused meanwhile
      if (exploded()) { pause(explodedText(lastOpts)); return; }
      timer = setTimeout(() => tick(key), STEP_MS);
    }, (err) => {
      pause(`Training stopped after ${steps} step${steps === 1 ? '' : 's'}: ${sentence(stepError(err, lastOpts))} The last good state is kept.`);
    });
  }

  /** The report of a step; one that raised the loss says the learning rate is to blame. */
  function stepTaken(r) {
    const higher = r.lossAfter > r.lossBefore
      ? ' It went up: the step overshot, so the learning rate is too large for this spot; lower it.' : '';
    return `One step taken: the loss went from ${fmt(r.lossBefore, 4)} to ${fmt(r.lossAfter, 4)}.${higher} Undo puts the weights back.`;
  }

  // A run whose loss keeps growing far past where it started is diverging: stop it before the
  // numbers overflow, and say why.
  function exploded() {
    const first = curve[0];
    const now = curve[curve.length - 1];
    return curve.length > 1 && Number.isFinite(first) && now > EXPLODE_FACTOR * Math.max(first, 1);
  }
  function explodedText(opts) {
    return `Training stopped after ${steps} step${steps === 1 ? '' : 's'}: the loss grew from ${fmt(curve[0], 4)} to ${fmt(curve[curve.length - 1], 4)}, so the learning rate η = ${opts ? String(opts.learningRate) : '?'} is too large and each step overshoots. Lower the learning rate and try again; Undo goes back to before this run.`;
  }

  playBtn.addEventListener('click', () => {
    if (timer) { pause(); say(`Paused after ${steps} step${steps === 1 ? '' : 's'}. One undo goes back to before this run.`); return; }
    try { options(); } catch (err) { say(errorMessage(err), true); return; }
    runId += 1;
    playBtn.setAttribute('aria-pressed', 'true');
    setText(playBtn, 'Pause training');
    say('Training…');
    tick(`train-${runId}`);
  });
  clearBtn.addEventListener('click', () => { curve = []; steps = 0; curveOwner = null; paintCurve(); });
  for (const radio of [sgd, adam]) radio.addEventListener('change', () => { adamBox.hidden = !adam.checked; paintFormula(); });
  weightSelect.addEventListener('change', () => paintStep(store.view));
  adamBox.hidden = true;

  // The settings live in the store too, so the group's other update panels and share links
  // (share.js) follow them; a link's settings arrive the same way.
  function applySettings(t) {
    if (!t) return;
    (t.optimizer === 'adam' ? adam : sgd).checked = true;
    if (t.learningRate != null) lr.value = String(t.learningRate);
    if (t.beta1 != null) beta1.value = String(t.beta1);
    if (t.beta2 != null) beta2.value = String(t.beta2);
    if (t.epsilon != null) eps.value = String(t.epsilon);
    adamBox.hidden = !adam.checked;
    paintFormula();
  }
  // A half-typed number leaves the last good settings in place; the Python exports say so.
  const publish = () => {
    let t;
    try { t = options(); } catch (err) { store.trainingError = errorMessage(err); return; }
    store.setTraining(t, applySettings);
  };
  for (const el of [sgd, adam, lr, beta1, beta2, eps]) {
    el.addEventListener('change', publish);
    el.addEventListener('input', publish);
  }
  store.onTraining(applySettings);
  // A value typed while training runs would be overwritten by the next step (or typed into a
  // number that keeps changing): training waits for the reader.
  store.onEditStart(() => {
    if (timer) pause(`Training paused after ${steps} step${steps === 1 ? '' : 's'} while you type into a cell; press Play training to go on.`);
  });

  // Reset starts over: no curve, no step to show.
  store.onReset(() => {
    pause();
    curve = [];
    steps = 0;
    curveOwner = null;
    last = null;
    paintCurve();
    paintStep(store.view);
  });

  function paintFormula() {
    renderTex(formula, adam.checked
      ? tx`\begin{aligned} @adamM &\leftarrow @adamBeta1 @adamM + (1-@adamBeta1)\,@gradient, \quad @adamV \leftarrow @adamBeta2 @adamV + (1-@adamBeta2)\,@gradient^2 \\ @updated &= @weight - @learningRate\,\frac{@adamM/(1-@adamBeta1^@adamStep)}{\sqrt{@adamV/(1-@adamBeta2^@adamStep)} + @adamEps} \end{aligned}`
      : `${tx`@updated = @weight - @learningRate\,`} ${dL(sym('weight'))}`);
  }

  function paintStep(view) {
    const show = Boolean(last && view.state === last.afterState);
    stepView.hidden = !show;
    stepHint.hidden = show;
    if (!show) return;
    const name = weightSelect.value;
    const before = last.beforeView.state.weights[name];
    const after = last.afterState.weights[name];
    const grad = last.beforeView.backward.weights[name];
    const update = last.result.update[name];
    if (!before || !after || !grad || !update) { stepView.hidden = true; return; }
    const L = weightLabels(name, view);
    const wrap = (m) => (L.vector ? [m] : m);
    const info = WEIGHT_INFO[name];
    // The change W′ − W as the core applied it (step() returns it as `update`).
    const change = wrap(update);
    mats.before.update({ values: wrap(before), rows: L.rows, cols: L.cols, label: `${info.sym} before` });
    mats.grad.update({ values: wrap(grad), rows: L.rows, cols: L.cols, label: dLText(name) });
    mats.change.update({ values: change, rows: L.rows, cols: L.cols, label: 'Change (after − before)' });
    mats.after.update({ values: wrap(after), rows: L.rows, cols: L.cols, label: `${info.sym}′ after` });
    const { lossBefore, lossAfter } = last.result;
    lossLine.replaceChildren(
      h('span', { text: 'Loss before ' }),
      h('strong', { class: 'loss-before', title: full(lossBefore), dataset: { value: full(lossBefore) }, text: fmt(lossBefore, 4) }),
      h('span', { text: ' → after ' }),
      h('strong', { class: 'loss-after', title: full(lossAfter), dataset: { value: full(lossAfter) }, text: fmt(lossAfter, 4) }),
      h('span', { text: lossAfter < lossBefore ? ' (lower)' : lossAfter > lossBefore ? ' (higher: the step overshot; try a smaller learning rate)' : ' (unchanged)' }));
    const w0 = wrap(before)[0][0];
    const g0 = wrap(grad)[0][0];
    const a0 = wrap(after)[0][0];
    const sgdStep = last.options.optimizer === 'sgd';
    live.hidden = !sgdStep;
    if (sgdStep) {
      const eta = last.options.learningRate;
      const at = entry(name, L.vector ? [0] : [0, 0]);
      renderTex(live, `${at}' = ${at} - ${sym('learningRate')}\\, ${dL(at)} = ${tex(w0, 3)} - ${plainTex(eta)} \\times ${n(g0)} = ${tex(a0, 3)}`);
    }
  }

  function paintCurve() {
    setText(counter, String(steps));
    if (curve.length < 2) {
      curvePath.setAttribute('points', '');
      setText(yMax, curve.length ? fmt(curve[0], 3) : '');
      setText(yMin, '');
      setText(xMax, '');
      curveSvg.setAttribute('aria-label', 'Loss curve: no steps yet');
      return;
    }
    const finite = curve.filter(Number.isFinite);
    const hi = Math.max(...finite);
    const lo = Math.min(0, ...finite);
    const span = hi - lo || 1;
    const stride = Math.max(1, Math.ceil(curve.length / 800));
    const pts = [];
    for (let i = 0; i < curve.length; i += stride) pts.push(i);
    if (pts[pts.length - 1] !== curve.length - 1) pts.push(curve.length - 1);
    const x = (i) => PAD.l + (i / (curve.length - 1)) * (CURVE_W - PAD.l - PAD.r);
    const y = (v) => PAD.t + (1 - (v - lo) / span) * (CURVE_H - PAD.t - PAD.b);
    curvePath.setAttribute('points', pts.map((i) => `${x(i).toFixed(1)},${y(curve[i]).toFixed(1)}`).join(' '));
    setText(yMax, fmt(hi, 3));
    setText(yMin, fmt(lo, 3));
    setText(xMax, String(curve.length - 1));
    curveSvg.setAttribute('aria-label', `Loss curve over ${curve.length - 1} steps: from ${fmt(curve[0], 4)} to ${fmt(curve[curve.length - 1], 4)}`);
  }

  paintFormula();
  if (store.training) applySettings(store.training); else publish();
  let weightKey = '';
  return {
    update(view) {
      if (stale(view.state) && !timer) say('');
      const names = namesOf(view, 'weights');
      const key = names.join(',');
      if (key !== weightKey) {
        weightKey = key;
        const current = weightSelect.value || 'unembedding';
        weightSelect.replaceChildren(...names.map((k) => h('option', { value: k, text: WEIGHT_INFO[k].title, selected: k === current })));
        if (!names.includes(current)) weightSelect.value = names.includes('unembedding') ? 'unembedding' : names[0];
      }
      const hasLoss = Boolean(view.loss);
      why.show(hasLoss ? null : noTargetMessage(view));
      stepBtn.disabled = !hasLoss;
      playBtn.disabled = !hasLoss && !timer;
      if (!hasLoss && timer) pause('Training stopped: there is no loss to lower.');
      paintStep(view);
      paintCurve();
    },
  };
}
