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


def run(state):
    cfg, vocab, tokens, eos = state["config"], state["vocab"], state["tokens"], state.get("eos")
    ids = jnp.array([vocab.index(t) for t in tokens])
    nexts = tokens[1:] + ([eos] if eos is not None else [])
    rows, targets = jnp.arange(len(nexts)), jnp.array([vocab.index(t) for t in nexts])
    T, C, H = len(tokens), cfg["dModel"], cfg["nHeads"]
    D, LN, F = C // H, cfg["layerNorm"], cfg["dFf"]
    causal = jnp.tril(jnp.ones((T, T), dtype=bool))

    def forward(w, probes):
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


if __name__ == "__main__":
    states = json.loads(Path(sys.argv[1]).read_text())
    out = Path(__file__).parent
    for name, state in states.items():
        (out / f"{name}.json").write_text(json.dumps(run(state), indent=None) + "\n")
        print(f"wrote tests/golden/{name}.json")
