import sys

import jax
import jax.numpy as jnp
import optax

# The page computes in float64; JAX computes in float32 unless told otherwise.
jax.config.update("jax_enable_x64", True)


def layer_norm(X, gamma, beta):
    """Each row centred and scaled: (x − μ)/√(σ² + 10⁻⁵)·γ + β, σ² the biased variance (the
    core's convention, and PyTorch's nn.LayerNorm's: ε inside the square root)."""
    mu = X.mean(axis=-1, keepdims=True)
    var = ((X - mu) ** 2).mean(axis=-1, keepdims=True)
    return (X - mu) / jnp.sqrt(var + 1e-5) * gamma + beta


def act(U):
    if CONFIG["activation"] == "relu":
        return jax.nn.relu(U)  # its slope at exactly 0 is 0, as on the page
    # GELU in its tanh form: ½·u·(1 + tanh(√(2/π)·(u + 0.044715·u³))), as on the page.
    return jax.nn.gelu(U, approximate=True)


def model(w, tap):
    """The block in the article's notation, for the input IDS. tap(name, value) records an
    activation under the page's name and returns it, plus a zero "probe" whose gradient is
    ∂L/∂(that activation): autodiff then gives every gradient the page shows."""
    T, C, n_heads = len(IDS), CONFIG["dModel"], CONFIG["nHeads"]
    D = C // n_heads
    LN = CONFIG["layerNorm"]

    def heads(M):  # T×C → n_heads×T×D: head h owns columns h·D … h·D+D−1
        return M.reshape(T, n_heads, D).transpose(1, 0, 2)

    X = tap("x", w["embedding"][IDS] + w["position"][:T])  # X = E[ids] + P
    X_tilde = tap("attnIn", layer_norm(X, w["ln1Gain"], w["ln1Bias"]) if LN else X)
    Q = tap("q", X_tilde @ w["wq"])
    K = tap("k", X_tilde @ w["wk"])
    V = tap("v", X_tilde @ w["wv"])
    # S = Q Kᵀ/√D per head; position t sees only s ≤ t. A masked score is −∞, so softmax gives
    # it weight 0 (the page shows no number for it).
    causal = jnp.tril(jnp.ones((T, T), dtype=bool))
    S = tap("scores", jnp.where(causal, heads(Q) @ heads(K).transpose(0, 2, 1) / jnp.sqrt(D), -jnp.inf))
    A = tap("attention", jax.nn.softmax(S, axis=-1))
    Z = tap("z", (A @ heads(V)).transpose(1, 0, 2).reshape(T, C))  # heads side by side
    O = tap("attnOut", Z @ w["wo"])
    X_1 = tap("x1", X + O)
    if CONFIG["dFf"] > 0:
        X_1_tilde = tap("mlpIn", layer_norm(X_1, w["ln2Gain"], w["ln2Bias"]) if LN else X_1)
        U = tap("u", X_1_tilde @ w["w1"] + w["b1"])
        H = tap("hidden", act(U))
        M = tap("mlpOut", H @ w["w2"] + w["b2"])
        X_2 = tap("x2", X_1 + M)
    else:
        X_2 = tap("x2", X_1)
    X_f = tap("xf", layer_norm(X_2, w["lnfGain"], w["lnfBias"]) if LN else X_2)
    return tap("logits", X_f @ w["unembedding"])


def loss_and_activations(w, probes):
    """L = the mean cross-entropy over the positions that have a target (ROWS)."""
    seen = {}

    def tap(name, value):
        seen[name] = value
        return value + probes[name] if probes else value

    logits = model(w, tap)
    terms = optax.softmax_cross_entropy_with_integer_labels(logits[ROWS], jnp.array(TARGETS))
    return terms.mean(), (seen, terms)


def run():
    """The page's training step in JAX; returns every number it shows, keyed like EXPECTED."""
    global IDS, ROWS, TARGETS
    IDS = jnp.array([VOCAB.index(t) for t in TOKENS])
    # The target of position t is the next input token; the last position's is EOS, if set.
    nexts = TOKENS[1:] + ([EOS] if EOS is not None else [])
    ROWS = jnp.arange(len(nexts))
    TARGETS = [VOCAB.index(t) for t in nexts]

    w = {name: jnp.array(value, dtype=jnp.float64) for name, value in WEIGHTS.items()}
    _, (shapes, _) = jax.eval_shape(loss_and_activations, w, None)
    probes = {name: jnp.zeros(value.shape) for name, value in shapes.items()}
    # jit: one compilation of the whole pass is quicker than compiling each operation on its own.
    (L, (seen, terms)), (grad_w, grad_a) = jax.jit(jax.value_and_grad(
        loss_and_activations, argnums=(0, 1), has_aux=True))(w, probes)

    P_hat = jax.nn.softmax(seen["logits"], axis=-1)
    # The page's ∂L/∂P̂ is the slope of L written through the probabilities, −mean ln P̂[target].
    grad_a["probs"] = jax.grad(lambda P: -jnp.log(P[ROWS, jnp.array(TARGETS)]).mean())(P_hat)
    # A masked attention weight is the constant 0, not a function of any weight: the page gives
    # it no gradient (autodiff's ∂L/∂A there is what a non-zero weight would feel).
    grad_a["attention"] = grad_a["attention"] * jnp.tril(jnp.ones((len(TOKENS), len(TOKENS))))

    if STEP["optimizer"] == "sgd":
        optimizer = optax.sgd(STEP["learningRate"])
        state = optimizer.init(w)
    else:
        optimizer = optax.adam(STEP["learningRate"], b1=STEP["beta1"], b2=STEP["beta2"], eps=STEP["epsilon"])
        state = optimizer.init(w)
        if ADAM_M is not None:  # Adam's memory from the page's earlier steps
            memory = dict(count=jnp.asarray(ADAM_STEP, dtype=jnp.int32),
                          mu={n: jnp.array(m, dtype=jnp.float64) for n, m in ADAM_M.items()},
                          nu={n: jnp.array(v, dtype=jnp.float64) for n, v in ADAM_V.items()})
            state = tuple(s._replace(**memory) if isinstance(s, optax.ScaleByAdamState) else s
                          for s in state)
    # The step starts from the page's gradient (compared with autodiff's above), so that the step
    # is checked on its own: Adam moves a weight by about η·g/(|g| + ε), and where g cancels to
    # rounding noise (the page's exact 0 against autodiff's 7e-15, say) two correct programs
    # would step η·7e-15/ε ≈ 1e-9 apart, beyond the tolerance though neither is wrong.
    page_grad = {name: jnp.array(EXPECTED["weight gradient", name], dtype=jnp.float64) for name in w}
    updates, state = jax.jit(optimizer.update)(page_grad, state, w)
    w_new = optax.apply_updates(w, updates)
    L_new, _ = jax.jit(loss_and_activations)(w_new, None)

    return results(L, L_new, terms, seen, P_hat, grad_a, grad_w, w_new, state)


def results(L, L_new, terms, seen, P_hat, grad_a, grad_w, w_new, state):
    """Every number the page shows, by (what, name), as EXPECTED holds them."""
    out = {("loss", "L"): float(L), ("after the step", "L"): float(L_new)}
    out["loss", "terms"] = terms.tolist() + [None] * (len(TOKENS) - len(TARGETS))
    for name, value in {**seen, "probs": P_hat}.items():
        out["forward", name] = value.tolist()
    for name, value in grad_a.items():
        out["activation gradient", name] = value.tolist()
    for name in w_new:
        out["weight gradient", name] = grad_w[name].tolist()
        out["after the step", name] = w_new[name].tolist()
    for s in state if STEP["optimizer"] == "adam" else ():
        if isinstance(s, optax.ScaleByAdamState):
            for name in w_new:
                out["Adam m", name] = s.mu[name].tolist()
                out["Adam v", name] = s.nu[name].tolist()
    return out
