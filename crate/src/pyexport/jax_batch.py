
# ------------------------------------------------------------------------------
# The training batch. SEQUENCES is the page's batch, STEP_SEQUENCES the sequences this step
# trains on (the whole batch, or the mini-batch the page drew), HELD_OUT the held-out set. The
# loss is the batch's: every targeted position of every sequence, one mean. TOKENS is the
# sentence the page shows; its activations' gradients count each copy of it in the batch.


def encode(seq):
    ids = jnp.array([VOCAB.index(t) for t in seq])
    nexts = seq[1:] + ([EOS] if EOS is not None else [])
    return ids, jnp.arange(len(nexts)), jnp.array([VOCAB.index(t) for t in nexts], dtype=jnp.int32)


def sequence_sum(w, probes, ids, rows, targets):
    """Σ −ln P̂[target] over one sequence's targeted positions (the sequence is an argument, so
    jit compiles once per length)."""
    global IDS
    IDS = ids
    logits = model(w, lambda name, value: value + probes[name] if probes else value)
    return optax.softmax_cross_entropy_with_integer_labels(logits[rows], targets).sum()


sequence_sum_jit = jax.jit(sequence_sum)


def batch_loss(w, probes, seqs):
    """L = (1/N)·Σ −ln P̂[target] over the N targeted positions of all of seqs; the probes are
    added to the shown sequence's activations in each copy of it."""
    total, n = 0.0, 0
    for seq in seqs:
        ids, rows, targets = encode(seq)
        total = total + sequence_sum_jit(w, probes if seq == TOKENS else None, ids, rows, targets)
        n += len(rows)
    return total / n


def run():
    """The page's training step on its batch in JAX; returns every number it shows."""
    global IDS, ROWS, TARGETS
    w = {name: jnp.array(value, dtype=jnp.float64) for name, value in WEIGHTS.items()}
    IDS, ROWS, TARGETS = encode(TOKENS)
    _, (seen, terms) = loss_and_activations(w, None)  # the shown sentence, as the panels show it
    probes = {name: jnp.zeros(value.shape) for name, value in seen.items()}
    L, (grad_w, grad_a) = jax.value_and_grad(batch_loss, argnums=(0, 1))(w, probes, SEQUENCES)
    IDS, ROWS, TARGETS = encode(TOKENS)
    copies = sum(seq == TOKENS for seq in SEQUENCES)
    N = sum(len(encode(seq)[1]) for seq in SEQUENCES)
    P_hat = jax.nn.softmax(seen["logits"], axis=-1)
    grad_a["probs"] = jax.grad(lambda P: -copies * jnp.log(P[ROWS, TARGETS]).sum() / N)(P_hat)
    grad_a["attention"] = grad_a["attention"] * jnp.tril(jnp.ones((len(TOKENS), len(TOKENS))))
    step_grad = jax.grad(lambda w: batch_loss(w, None, STEP_SEQUENCES))(w)

    if STEP["optimizer"] == "sgd":
        optimizer = optax.sgd(STEP["learningRate"])
        state = optimizer.init(w)
    else:
        optimizer = optax.adam(STEP["learningRate"], b1=STEP["beta1"], b2=STEP["beta2"], eps=STEP["epsilon"])
        state = optimizer.init(w)
        if ADAM_M is not None:
            memory = dict(count=jnp.asarray(ADAM_STEP, dtype=jnp.int32),
                          mu={n: jnp.array(m, dtype=jnp.float64) for n, m in ADAM_M.items()},
                          nu={n: jnp.array(v, dtype=jnp.float64) for n, v in ADAM_V.items()})
            state = tuple(s._replace(**memory) if isinstance(s, optax.ScaleByAdamState) else s
                          for s in state)
    # As for one sentence, the update starts from the page's gradient of the step's sequences.
    page_grad = {name: jnp.array(EXPECTED["step gradient", name], dtype=jnp.float64) for name in w}
    updates, state = optimizer.update(page_grad, state, w)
    w_new = optax.apply_updates(w, updates)
    L_new = batch_loss(w_new, None, STEP_SEQUENCES)

    out = results(L, L_new, terms, seen, P_hat, grad_a, grad_w, w_new, state)
    if ("held-out", "L") in EXPECTED:
        out["held-out", "L"] = float(batch_loss(w, None, HELD_OUT))
    for name in w:
        out["step gradient", name] = step_grad[name].tolist()
    return out
