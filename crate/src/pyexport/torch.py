import math
import sys

import torch
import torch.nn.functional as F

# The page computes in float64; PyTorch's default is float32.
torch.set_default_dtype(torch.float64)


def layer_norm(X, gamma, beta):
    # ε = 10⁻⁵ inside the square root, biased variance: the core's convention and PyTorch's.
    return F.layer_norm(X, X.shape[-1:], gamma, beta, eps=1e-5)


def act(U):
    if CONFIG["activation"] == "relu":
        return F.relu(U)  # its slope at exactly 0 is 0, as on the page
    # The page's GELU is the tanh form; PyTorch's default is the exact (erf) one, so say so.
    return F.gelu(U, approximate="tanh")


def model(w, tap):
    """The block in the article's notation, for the input IDS. tap(name, value) records an
    activation under the page's name and returns it, plus a zero "probe" whose gradient is
    ∂L/∂(that activation): autograd then gives every gradient the page shows."""
    T, C, n_heads = len(IDS), CONFIG["dModel"], CONFIG["nHeads"]
    D = C // n_heads
    LN = CONFIG["layerNorm"]

    def heads(M):  # T×C → n_heads×T×D: head h owns columns h·D … h·D+D−1
        return M.reshape(T, n_heads, D).transpose(0, 1)

    X = tap("x", w["embedding"][IDS] + w["position"][:T])  # X = E[ids] + P
    X_tilde = tap("attnIn", layer_norm(X, w["ln1Gain"], w["ln1Bias"]) if LN else X)
    Q = tap("q", X_tilde @ w["wq"])
    K = tap("k", X_tilde @ w["wk"])
    V = tap("v", X_tilde @ w["wv"])
    # S = Q Kᵀ/√D per head; position t sees only s ≤ t. A masked score is −∞, so softmax gives
    # it weight 0 (the page shows no number for it).
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    S = tap("scores", (heads(Q) @ heads(K).transpose(1, 2) / math.sqrt(D)).masked_fill(~causal, -math.inf))
    A = tap("attention", torch.softmax(S, dim=-1))
    Z = tap("z", (A @ heads(V)).transpose(0, 1).reshape(T, C))  # heads side by side
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
    terms = F.cross_entropy(logits[ROWS], TARGETS, reduction="none")
    return F.cross_entropy(logits[ROWS], TARGETS), seen, terms


def run():
    """The page's training step in PyTorch; returns every number it shows, keyed like EXPECTED."""
    global IDS, ROWS, TARGETS
    IDS = torch.tensor([VOCAB.index(t) for t in TOKENS])
    # The target of position t is the next input token; the last position's is EOS, if set.
    nexts = TOKENS[1:] + ([EOS] if EOS is not None else [])
    ROWS = torch.arange(len(nexts))
    TARGETS = torch.tensor([VOCAB.index(t) for t in nexts])

    w = {name: torch.tensor(value, requires_grad=True) for name, value in WEIGHTS.items()}
    with torch.no_grad():
        _, shapes, _ = loss_and_activations(w, None)
    probes = {name: torch.zeros_like(value, requires_grad=True) for name, value in shapes.items()}
    L, seen, terms = loss_and_activations(w, probes)
    L.backward()
    grad_a = {name: p.grad for name, p in probes.items()}

    P_hat = torch.softmax(seen["logits"].detach(), dim=-1).requires_grad_()
    # The page's ∂L/∂P̂ is the slope of L written through the probabilities, −mean ln P̂[target]
    # (the targets' entries taken first: ln of an underflowed non-target 0 would make a NaN).
    (-torch.log(P_hat[ROWS, TARGETS]).mean()).backward()
    grad_a["probs"] = P_hat.grad
    # A masked attention weight is the constant 0, not a function of any weight: the page gives
    # it no gradient (autograd's ∂L/∂A there is what a non-zero weight would feel).
    grad_a["attention"] = grad_a["attention"] * torch.ones(len(TOKENS), len(TOKENS)).tril()

    if STEP["optimizer"] == "sgd":
        optimizer = torch.optim.SGD(w.values(), lr=STEP["learningRate"])
    else:
        optimizer = torch.optim.Adam(w.values(), lr=STEP["learningRate"],
                                     betas=(STEP["beta1"], STEP["beta2"]), eps=STEP["epsilon"])
        if ADAM_M is not None:  # Adam's memory from the page's earlier steps
            for name, p in w.items():
                optimizer.state[p] = {"step": torch.tensor(float(ADAM_STEP)),
                                      "exp_avg": torch.tensor(ADAM_M[name]),
                                      "exp_avg_sq": torch.tensor(ADAM_V[name])}
    grad_w = {name: p.grad.clone() for name, p in w.items()}
    # The step starts from the page's gradient (compared with autograd's above), so that the step
    # is checked on its own: Adam moves a weight by about η·g/(|g| + ε), and where g cancels to
    # rounding noise (the page's exact 0 against autograd's 7e-15, say) two correct programs
    # would step η·7e-15/ε ≈ 1e-9 apart, beyond the tolerance though neither is wrong.
    for name, p in w.items():
        p.grad = torch.tensor(EXPECTED["weight gradient", name])
    optimizer.step()
    with torch.no_grad():
        L_new, _, _ = loss_and_activations(w, None)

    return results(L, L_new, terms, seen, P_hat, grad_a, grad_w, w, optimizer)


def results(L, L_new, terms, seen, P_hat, grad_a, grad_w, w, optimizer):
    """Every number the page shows, by (what, name), as EXPECTED holds them (w: after the step)."""
    out = {("loss", "L"): L.item(), ("after the step", "L"): L_new.item()}
    out["loss", "terms"] = terms.tolist() + [None] * (len(TOKENS) - len(TARGETS))
    for name, value in {**seen, "probs": P_hat}.items():
        out["forward", name] = value.tolist()
    for name, value in grad_a.items():
        out["activation gradient", name] = value.tolist()
    for name, p in w.items():
        out["weight gradient", name] = grad_w[name].tolist()
        out["after the step", name] = p.tolist()
        if STEP["optimizer"] == "adam":
            out["Adam m", name] = optimizer.state[p]["exp_avg"].tolist()
            out["Adam v", name] = optimizer.state[p]["exp_avg_sq"].tolist()
    return out
