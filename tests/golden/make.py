"""Writes tests/golden/*.json: the article's example (and a variant with every switch on) run
through JAX autodiff in float64, independently of the Rust core. tests/golden.rs compares the
core's forward pass, loss, every gradient and an SGD and an Adam step with these numbers.

    node tests/golden/states.mjs > /tmp/states.json      # the input states, from the core
    .venv/bin/python tests/golden/make.py /tmp/states.json

Only the input state comes from the core; every output below is JAX's.
"""
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)


def layer_norm(x, gain, bias):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)  # biased, ε = 1e-5 inside the root
    return (x - mu) / jnp.sqrt(var + 1e-5) * gain + bias


def forward_pass(w, cfg, ids, probes):
    """The model on one sequence of vocabulary indices: (logits, every activation by name). A
    probe (a zero matrix per activation) is added to each activation as it is produced, so its
    gradient is the loss's gradient with respect to that activation."""
    T, C, H = len(ids), cfg["dModel"], cfg["nHeads"]
    D, LN, F = C // H, cfg["layerNorm"], cfg["dFf"]
    causal = jnp.tril(jnp.ones((T, T), dtype=bool))
    seen = {}

    def tap(name, value):  # records an activation; its zero probe's gradient is ∂L/∂it
        seen[name] = value
        return value + probes[name] if probes else value

    heads = lambda m: m.reshape(T, H, D).transpose(1, 0, 2)
    x = tap("x", w["embedding"][ids] + w["position"][:T])
    xt = tap("attnIn", layer_norm(x, w["ln1Gain"], w["ln1Bias"]) if LN else x)
    q, k, v = tap("q", xt @ w["wq"]), tap("k", xt @ w["wk"]), tap("v", xt @ w["wv"])
    s = tap("scores", jnp.where(causal, heads(q) @ heads(k).transpose(0, 2, 1) / jnp.sqrt(D), -jnp.inf))
    a = tap("attention", jax.nn.softmax(s, axis=-1))
    z = tap("z", (a @ heads(v)).transpose(1, 0, 2).reshape(T, C))
    x1 = tap("x1", x + tap("attnOut", z @ w["wo"]))
    if F > 0:
        m_in = tap("mlpIn", layer_norm(x1, w["ln2Gain"], w["ln2Bias"]) if LN else x1)
        u = tap("u", m_in @ w["w1"] + w["b1"])
        act = jax.nn.relu(u) if cfg["activation"] == "relu" else jax.nn.gelu(u, approximate=True)
        x2 = tap("x2", x1 + tap("mlpOut", tap("hidden", act) @ w["w2"] + w["b2"]))
    else:
        x2 = tap("x2", x1)
    xf = tap("xf", layer_norm(x2, w["lnfGain"], w["lnfBias"]) if LN else x2)
    logits = tap("logits", xf @ w["unembedding"])
    return logits, seen


def run(state):
    cfg, vocab, tokens, eos = state["config"], state["vocab"], state["tokens"], state.get("eos")
    ids = jnp.array([vocab.index(t) for t in tokens])
    nexts = tokens[1:] + ([eos] if eos is not None else [])
    rows, targets = jnp.arange(len(nexts)), jnp.array([vocab.index(t) for t in nexts])
    T = len(tokens)
    causal = jnp.tril(jnp.ones((T, T), dtype=bool))

    def forward(w, probes):
        logits, seen = forward_pass(w, cfg, ids, probes)
        logp = jax.nn.log_softmax(logits, axis=-1)
        terms = -logp[rows, targets]
        return terms.mean(), (seen, terms)

    w = {n: jnp.array(m, dtype=jnp.float64) for n, m in state["weights"].items()}
    # Vectors are 1×C in the formulas above' broadcasting; the contract writes them as [C].
    _, (shapes, _) = jax.eval_shape(forward, w, None)
    probes = {n: jnp.zeros(s.shape) for n, s in shapes.items()}
    (L, (seen, terms)), (gw, ga) = jax.value_and_grad(forward, argnums=(0, 1), has_aux=True)(w, probes)
    probs = jax.nn.softmax(seen["logits"], axis=-1)
    ga["probs"] = jax.grad(lambda p: -jnp.log(p[rows, targets]).mean())(probs)
    ga["attention"] = ga["attention"] * causal  # a masked weight is the constant 0
    seen["probs"] = probs

    def masked(name, value):  # masked scores are null in the contract
        return jnp.where(causal, value, jnp.nan).tolist() if name == "scores" else value.tolist()

    def nulls(x):
        if isinstance(x, list):
            return [nulls(y) for y in x]
        return None if x != x else x

    sgd = {n: (w[n] - 0.1 * gw[n]).tolist() for n in w}
    # Adam's first step from zero moments (k = 1), β_m = 0.9, β_v = 0.999, ε = 1e-8, η = 0.01.
    m = {n: 0.1 * gw[n] for n in w}
    v = {n: 0.001 * gw[n] ** 2 for n in w}
    adam = {n: (w[n] - 0.01 * (m[n] / 0.1) / (jnp.sqrt(v[n] / 0.001) + 1e-8)).tolist() for n in w}
    return {
        "state": state,
        "forward": {n: nulls(masked(n, x)) for n, x in seen.items()},
        "loss": {"value": float(L), "terms": terms.tolist() + [None] * (T - len(nexts))},
        "backward": {
            "weights": {n: g.tolist() for n, g in gw.items()},
            "activations": {n: nulls(masked(n, g)) for n, g in ga.items()},
        },
        "sgd": {"learningRate": 0.1, "weights": sgd},
        "adam": {"learningRate": 0.01, "weights": adam,
                 "m": {n: x.tolist() for n, x in m.items()}, "v": {n: x.tolist() for n, x in v.items()}},
        "generator": f"tests/golden/make.py, JAX {jax.__version__}, float64",
    }


M64 = 2**64


def splitmix64_indices(n, size, seed, step):
    """The core's documented mini-batch draw (docs/API.md, *The draw*), written again here."""
    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % M64
        return z ^ (z >> 31)

    state, order = mix(seed) ^ step, list(range(n))
    for i in range(size):
        state = (state + 0x9E3779B97F4A7C15) % M64
        j = i + (mix(state) * (n - i) >> 64)
        order[i], order[j] = order[j], order[i]
    return order[:size]


def run_batch(state):
    """A state with `sequences` and `heldOut`: L = (1/N) Σ over every targeted position of every
    sequence; the activation gradients are those of the shown sequence (`tokens`), its probes
    added in every copy of it in the batch."""
    cfg, vocab, eos = state["config"], state["vocab"], state.get("eos")
    shown = state["tokens"]

    def parts(seqs):
        out = []
        for seq in seqs:
            nexts = seq[1:] + ([eos] if eos is not None else [])
            out.append((seq, jnp.array([vocab.index(t) for t in seq]), jnp.arange(len(nexts)),
                        jnp.array([vocab.index(t) for t in nexts], dtype=jnp.int32)))
        return out

    def batch_loss(w, probes, seqs):
        total, n, sums, seen_shown = 0.0, 0, [], None
        for seq, ids, rows, targets in parts(seqs):
            logits, seen = forward_pass(w, cfg, ids, probes if seq == shown else None)
            if seq == shown:
                seen_shown = seen
            terms = -jax.nn.log_softmax(logits, axis=-1)[rows, targets]
            total, n = total + terms.sum(), n + len(rows)
            sums.append((terms.sum(), len(rows)))
        return total / n, (seen_shown, sums)

    w = {n: jnp.array(m, dtype=jnp.float64) for n, m in state["weights"].items()}
    seqs = state["sequences"]
    _, (shapes, _) = jax.eval_shape(lambda w: batch_loss(w, None, seqs), w)
    probes = {n: jnp.zeros(s.shape) for n, s in shapes.items()}
    (L, (_, sums)), (gw, ga) = jax.value_and_grad(batch_loss, argnums=(0, 1), has_aux=True)(w, probes, seqs)
    T = len(shown)
    causal = jnp.tril(jnp.ones((T, T), dtype=bool))
    ga["attention"] = ga["attention"] * causal  # a masked weight is the constant 0
    held, _ = batch_loss(w, None, state["heldOut"])
    draw = splitmix64_indices(len(seqs), 2, 5, 1)
    mini = [seqs[i] for i in draw]
    g_mini = jax.grad(lambda w: batch_loss(w, None, mini)[0])(w)

    def masked(name, value):
        return jnp.where(causal, value, jnp.nan).tolist() if name == "scores" else value.tolist()

    def nulls(x):
        if isinstance(x, list):
            return [nulls(y) for y in x]
        return None if x != x else x

    m = {n: 0.1 * gw[n] for n in w}
    v = {n: 0.001 * gw[n] ** 2 for n in w}
    return {
        "state": state,
        "loss": {"value": float(L), "positions": sum(c for _, c in sums),
                 "sequences": [{"value": float(s / c) if c else 0.0, "positions": c} for s, c in sums],
                 "heldOut": float(held)},
        "backward": {
            "weights": {n: g.tolist() for n, g in gw.items()},
            "activations": {n: nulls(masked(n, g)) for n, g in ga.items() if n != "probs"},
        },
        "sgd": {"learningRate": 0.1, "weights": {n: (w[n] - 0.1 * gw[n]).tolist() for n in w}},
        "adam": {"learningRate": 0.01,
                 "weights": {n: (w[n] - 0.01 * (m[n] / 0.1) / (jnp.sqrt(v[n] / 0.001) + 1e-8)).tolist() for n in w}},
        "miniBatch": {"size": 2, "seed": 5, "step": 1, "indices": draw, "learningRate": 0.1,
                      "weights": {n: (w[n] - 0.1 * g_mini[n]).tolist() for n in w}},
        "generator": f"tests/golden/make.py, JAX {jax.__version__}, float64",
    }


if __name__ == "__main__":
    states = json.loads(Path(sys.argv[1]).read_text())
    out = Path(__file__).parent
    for name, state in states.items():
        result = run_batch(state) if "sequences" in state else run(state)
        (out / f"{name}.json").write_text(json.dumps(result, indent=None) + "\n")
        print(f"wrote tests/golden/{name}.json")
