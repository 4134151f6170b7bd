import numpy as np


def reference(x, coef, n, ncoef):
    acc = np.full(n, float(coef[-1]), dtype=np.float64)
    x64 = x.astype(np.float64)
    for k in range(ncoef - 2, -1, -1):
        acc = acc * x64 + float(coef[k])
    return acc.astype(np.float32)


def generate(sizes, rng):
    n, ncoef = sizes["n"], sizes["ncoef"]
    # decaying coefficients (like a truncated series) with random signs, and points that reach |x| = 1
    coef = rng.uniform(-1, 1, ncoef) * 0.8 ** np.arange(ncoef)
    coef[-1] = rng.choice([-1, 1]) * rng.uniform(0.5, 1.0)  # a clearly non-zero leading term
    x = rng.uniform(-1, 1, n)
    x[: min(n, 2)] = [1.0, -1.0][: min(n, 2)]
    return {"x": x.astype(np.float32), "coef": coef.astype(np.float32)}
