import numpy as np


def reference(L, rhs, batch, n):
    low = np.tril(L.astype(np.float64))
    x = np.empty((batch, n), dtype=np.float64)
    r = rhs.astype(np.float64)
    for i in range(n):
        x[:, i] = (r[:, i] - np.einsum("bj,bj->b", low[:, i, :i], x[:, :i])) / low[:, i, i]
    return x.astype(np.float32)


def generate(sizes, rng):
    batch, n = sizes["batch"], sizes["n"]
    L = rng.uniform(-1.0, 1.0, size=(batch, n, n)) * (2.0 / n)
    idx = np.arange(n)
    L[:, idx, idx] = rng.uniform(1.0, 2.0, size=(batch, n)) * rng.choice([-1.0, 1.0], size=(batch, n))
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    L[:, upper] = rng.uniform(-1e3, 1e3, size=(batch, int(upper.sum())))  # garbage that must be ignored
    return {"L": L.astype(np.float32), "rhs": rng.uniform(-1.0, 1.0, size=(batch, n)).astype(np.float32)}
