import numpy as np


def reference(x, n, k):
    order = np.argsort(-x.astype(np.float64), kind="stable")[:k]  # equal values keep index order
    return x[order], order.astype(np.int32)


def generate(sizes, rng):
    n = sizes["n"]
    x = rng.standard_normal(n) * float(rng.choice([1.0, 1e3, 1e-3]))
    kind = int(rng.integers(0, 4))
    if kind == 1:  # a coarse grid: many ties, also at the k-th place
        x = np.round(x * 4.0) / 4.0
    elif kind == 2:  # constant: the answer is the first k indices
        x[:] = -1.5
    elif kind == 3:  # a few distinct values, the largest ones repeated many times
        x = rng.choice([-2.0, 0.5, 3.0, 7.25], size=n)
    return {"x": (x + 0.0).astype(np.float32)}
