
# ------------------------------------------------------------------------------
# The training batch. SEQUENCES is the page's batch, STEP_SEQUENCES the sequences this step
# trains on (the whole batch, or the mini-batch the page drew), HELD_OUT the held-out set. The
# loss is the batch's: every targeted position of every sequence, one mean. TOKENS is the
# sentence the page shows; its activations' gradients count each copy of it in the batch.


def encode(seq):
    ids = torch.tensor([VOCAB.index(t) for t in seq])
    nexts = seq[1:] + ([EOS] if EOS is not None else [])
    return ids, torch.arange(len(nexts)), torch.tensor([VOCAB.index(t) for t in nexts], dtype=torch.long)


def batch_loss(w, probes, seqs):
    """L = (1/N)·Σ −ln P̂[target] over the N targeted positions of all of seqs; the probes are
    added to the shown sequence's activations in each copy of it."""
    global IDS
    total, n = 0.0, 0
    for seq in seqs:
        IDS, rows, targets = encode(seq)
        probed = probes if seq == TOKENS else None
        logits = model(w, lambda name, value: value + probed[name] if probed else value)
        total = total + F.cross_entropy(logits[rows], targets, reduction="sum")
        n += len(rows)
    return total / n


def run():
    """The page's training step on its batch in PyTorch; returns every number it shows."""
    global IDS, ROWS, TARGETS
    w = {name: torch.tensor(value, requires_grad=True) for name, value in WEIGHTS.items()}
    IDS, ROWS, TARGETS = encode(TOKENS)
    with torch.no_grad():
        _, seen, terms = loss_and_activations(w, None)  # the shown sentence, as the panels show it
    probes = {name: torch.zeros_like(value, requires_grad=True) for name, value in seen.items()}
    L = batch_loss(w, probes, SEQUENCES)
    L.backward()
    grad_w = {name: p.grad.clone() for name, p in w.items()}
    grad_a = {name: p.grad if p.grad is not None else torch.zeros_like(p) for name, p in probes.items()}
    IDS, ROWS, TARGETS = encode(TOKENS)
    copies = sum(seq == TOKENS for seq in SEQUENCES)
    N = sum(len(encode(seq)[1]) for seq in SEQUENCES)
    P_hat = torch.softmax(seen["logits"].detach(), dim=-1).requires_grad_()
    (-copies * torch.log(P_hat[ROWS, TARGETS]).sum() / N).backward()
    grad_a["probs"] = P_hat.grad
    grad_a["attention"] = grad_a["attention"] * torch.ones(len(TOKENS), len(TOKENS)).tril()
    for p in w.values():
        p.grad = None
    batch_loss(w, None, STEP_SEQUENCES).backward()
    step_grad = {name: p.grad.clone() for name, p in w.items()}

    if STEP["optimizer"] == "sgd":
        optimizer = torch.optim.SGD(w.values(), lr=STEP["learningRate"])
    else:
        optimizer = torch.optim.Adam(w.values(), lr=STEP["learningRate"],
                                     betas=(STEP["beta1"], STEP["beta2"]), eps=STEP["epsilon"])
        if ADAM_M is not None:
            for name, p in w.items():
                optimizer.state[p] = {"step": torch.tensor(float(ADAM_STEP)),
                                      "exp_avg": torch.tensor(ADAM_M[name]),
                                      "exp_avg_sq": torch.tensor(ADAM_V[name])}
    held = None
    if ("held-out", "L") in EXPECTED:
        with torch.no_grad():
            held = batch_loss(w, None, HELD_OUT).item()
    # As for one sentence, the update starts from the page's gradient of the step's sequences.
    for name, p in w.items():
        p.grad = torch.tensor(EXPECTED["step gradient", name])
    optimizer.step()
    with torch.no_grad():
        L_new = batch_loss(w, None, STEP_SEQUENCES)

    out = results(L, L_new, terms, seen, P_hat, grad_a, grad_w, w, optimizer)
    if held is not None:
        out["held-out", "L"] = held
    for name in w:
        out["step gradient", name] = step_grad[name].tolist()
    return out
