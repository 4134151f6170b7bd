import numpy as np


def reference(x, n):
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore"):
        return (1.0 / (1.0 + np.exp(-x64))).astype(np.float32)


def generate(sizes, rng):
    n = sizes["n"]
    # Mostly moderate values plus a share of large ones (|x| up to 100) where exp(-x) overflows.
    x = rng.standard_normal(n) * rng.choice([1.0, 4.0, 40.0], size=n, p=[0.5, 0.3, 0.2])
    return {"x": np.clip(x, -100.0, 100.0).astype(np.float32)}
