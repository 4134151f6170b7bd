import numpy as np


def reference(a, b, m, n):
    diff = a.astype(np.float64)[:, None, :] - b.astype(np.float64)[None, :, :]
    return np.sqrt((diff * diff).sum(axis=2)).astype(np.float32)


def generate(sizes, rng):
    m, n = sizes["m"], sizes["n"]
    center = rng.uniform(-150.0, 150.0, size=3)
    spread = rng.choice([0.01, 1.0, 5.0])
    a = center + rng.standard_normal((m, 3)) * spread
    b = center + rng.standard_normal((n, 3)) * spread
    a = a.astype(np.float32)
    b = b.astype(np.float32)
    # coincident pairs: distance exactly 0
    dup = rng.random(n) < 0.1
    b[dup] = a[rng.integers(0, m, size=int(dup.sum()))]
    return {"a": a, "b": b}
