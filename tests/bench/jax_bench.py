"""JAX's side of `npm run bench`: the same states through jax.jit(value_and_grad(loss)) in
float64, on one CPU thread, timed after warm-up.

    .venv/bin/python tests/bench/jax_bench.py STATES.json [MIN_SECONDS]

STATES.json is a list of {"name", "state", "loss"} (the core's state JSON and the core's loss for
it, which JAX's loss must match: the two sides compute the same thing). The model is the JAX
export's own (crate/src/pyexport/jax.py), so it is the page's block written in plain JAX.
Prints one JSON object: per state the µs per call, the process CPU time per wall time while
timing (about 1.0 when one core did the work), the loss difference, and the JAX version.

Run by tests/bench/run.mjs under `taskset -c 0` with XLA_FLAGS asking XLA for one thread.
"""

import json
import os
import resource
import sys
import time
from pathlib import Path

import jax

ROOT = Path(__file__).resolve().parents[2]


def model_namespace(state):
    """The export's functions with the state's globals, as an exported file would have them."""
    ns = {"__name__": "bench_model"}
    exec(compile((ROOT / "crate/src/pyexport/jax.py").read_text(), "jax.py", "exec"), ns)
    ns.update(VOCAB=state["vocab"], EOS=state["eos"], TOKENS=state["tokens"], CONFIG=state["config"])
    jnp = ns["jnp"]
    tokens, vocab = state["tokens"], state["vocab"]
    nexts = tokens[1:] + ([state["eos"]] if state["eos"] is not None else [])
    ns["IDS"] = jnp.array([vocab.index(t) for t in tokens])
    ns["ROWS"] = jnp.arange(len(nexts))
    ns["TARGETS"] = [vocab.index(t) for t in nexts]
    weights = {name: jnp.array(value, dtype=jnp.float64) for name, value in state["weights"].items()}
    return ns, weights


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(case, min_seconds):
    ns, w = model_namespace(case["state"])
    # Forward, loss and every weight's gradient, the activations kept (as the page's run() does).
    f = jax.jit(jax.value_and_grad(ns["loss_and_activations"], has_aux=True))
    for _ in range(20):  # compile and warm up
        (loss, _), grads = f(w, None)
        jax.block_until_ready(grads)
    calls, best = 0, float("inf")
    wall_total = cpu_total = 0.0
    for _ in range(5):  # five rounds of at least min_seconds/5, averaged as the wasm side is
        n, k = 0, 1
        c0, t0 = cpu_seconds(), time.perf_counter()
        t = t0
        while t - t0 < min_seconds / 5:
            for _ in range(k):
                out = f(w, None)
            jax.block_until_ready(out)
            n += k
            k *= 2
            t = time.perf_counter()
        wall_total += t - t0
        cpu_total += cpu_seconds() - c0
        calls += n
        best = min(best, (t - t0) / n)
    return {
        "us": wall_total / calls * 1e6,
        "usBest": best * 1e6,
        "cpuPerWall": cpu_total / wall_total,
        "lossDiff": abs(float(loss) - case["loss"]),
    }


def main():
    cases = json.loads(Path(sys.argv[1]).read_text())
    min_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
    jax.config.update("jax_enable_x64", True)
    out = {
        "jax": jax.__version__,
        "cpus": sorted(os.sched_getaffinity(0)),
        "devices": [str(d) for d in jax.devices()],
        "results": {c["name"]: measure(c, min_seconds) for c in cases},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
