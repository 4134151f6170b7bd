import numpy as np


def reference(x, n, k):
    order = np.argsort(-x.astype(np.float64), kind="stable")[:k]  # equal values keep index order
    return x[order], order.astype(np.int32)


def generate(sizes, rng):
    n = sizes["n"]
    scale = float(rng.choice([1.0, 1e3, 1e-3]))
    x = rng.standard_normal(n) * scale
    kind = int(rng.choice(4, p=[0.2, 0.35, 0.1, 0.35]))
    if kind == 1:  # a coarse grid: many ties, also at the k-th place
        x = np.round(x / scale * 2.0) / 2.0 * scale
    elif kind == 2:  # constant: the answer is the first k indices
        x[:] = -1.5
    elif kind == 3:  # a few distinct values, the largest ones repeated many times
        x = rng.choice(np.round(rng.standard_normal(int(rng.integers(100, 400))) * 8.0) / 8.0 * scale, size=n)
    return {"x": (x + 0.0).astype(np.float32)}
