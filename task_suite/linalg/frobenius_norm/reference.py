import numpy as np


def reference(A, rows, cols):
    a = A.astype(np.float64)
    m = np.abs(a).max()
    if m == 0:
        return np.zeros(1, dtype=np.float32)
    return np.array([m * np.sqrt(((a / m) ** 2).sum())], dtype=np.float32)


def generate(sizes, rng):
    rows, cols = sizes["rows"], sizes["cols"]
    # one magnitude per matrix, mostly 1e-20 or 1e20, whose squares leave float's range, sometimes 1
    exponent = rng.choice([-20.0, 0.0, 20.0], p=[0.4, 0.2, 0.4])
    a = rng.uniform(-1.0, 1.0, size=(rows, cols)) * 10.0 ** exponent
    return {"A": a.astype(np.float32)}
