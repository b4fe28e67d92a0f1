# ------------------------------------------------------------------------------
# The comparison: plain Python, the same for every framework.
import unicodedata

# The page's symbols (www/js/notation.js), so each report line names what the reader sees.
SYMBOLS = {
    "embedding": "E", "position": "P", "wq": "W_Q", "wk": "W_K", "wv": "W_V", "wo": "W_O",
    "w1": "W₁", "b1": "b₁", "w2": "W₂", "b2": "b₂", "ln1Gain": "γ₁", "ln1Bias": "β₁",
    "ln2Gain": "γ₂", "ln2Bias": "β₂", "lnfGain": "γ_f", "lnfBias": "β_f", "unembedding": "W_U",
    "x": "X", "attnIn": "X̃", "q": "Q", "k": "K", "v": "V", "scores": "S", "attention": "A",
    "z": "Z", "attnOut": "O", "x1": "X₁", "mlpIn": "X̃₁", "u": "U", "hidden": "H", "mlpOut": "M",
    "x2": "X₂", "xf": "X_f", "logits": "logits", "probs": "P̂", "L": "L", "terms": "−ln P̂",
}


def label(group, name):
    s = SYMBOLS.get(name, name)
    if group in ("weight gradient", "activation gradient"):
        return "∂L/∂" + s
    if group == "after the step":
        return s + "′" if name != "L" else "L′"
    if group in ("Adam m", "Adam v"):
        return group.split()[1] + "[" + s + "]"
    return s


def padded(text, width):
    """text padded to width columns (a combining accent, as in X̃, takes none)."""
    return text + " " * max(0, width - sum(not unicodedata.combining(c) for c in text))


def flatten(x):
    """Every number of a (nested) list, row after row; None stays None."""
    if isinstance(x, (list, tuple)):
        return [y for item in x for y in flatten(item)]
    return [x]


def compare(computed, expected):
    """max|a − b| over the entries the page has (None: a masked score) and the tolerance."""
    a, b = flatten(computed), flatten(expected)
    if len(a) != len(b):
        return float("inf"), 0.0, f"{len(a)} numbers, the page has {len(b)}"
    pairs = [(x, y) for x, y in zip(a, b) if y is not None]
    scale = max((abs(y) for _, y in pairs), default=0.0)
    tol = 1e-9 * scale + 1e-14
    err = 0.0
    for x, y in pairs:
        d = abs(x - y) if x is not None else float("inf")
        err = max(err, d if d == d else float("inf"))  # a NaN counts as the largest error
    return err, tol, ""


def main(run, version):
    print(f"How LLMs learn: one training step in {FRAMEWORK} {version} against the page's numbers")
    print("(each matrix: max|a − b| ≤ 1e-9·max|b| + 1e-14, a = " + FRAMEWORK + ", b = the page)")
    computed = run()
    bad = []
    for key, expected in EXPECTED.items():
        group, name = key
        if key in computed:
            err, tol, why = compare(computed[key], expected)
        else:
            err, tol, why = float("inf"), 0.0, "not computed"
        ok = err <= tol
        where = f"{group} {name}"
        detail = why or f"max|a − b| = {err:.1e}" + ("" if ok else f" > {tol:.1e}")
        print(f"  {'OK      ' if ok else 'MISMATCH'}  {padded(label(group, name), 10)} {where:<32} {detail}")
        if not ok:
            bad.append(where)
    if bad:
        print(f"{len(bad)} of {len(EXPECTED)} matrices disagree: " + ", ".join(bad))
        return 1
    print(f"All {len(EXPECTED)} matrices agree.")
    return 0
