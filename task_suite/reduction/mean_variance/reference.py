import numpy as np


def reference(x, n):
    x64 = x.astype(np.float64)
    mean = x64.mean()
    return np.array([mean, ((x64 - mean) ** 2).mean()], dtype=np.float32)


def generate(sizes, rng):
    n = sizes["n"]
    spread = float(rng.choice([1.0, 10.0]))
    offset = float(rng.choice([0.0, 100.0, 1e4])) * spread * float(rng.choice([-1.0, 1.0]))
    x = offset + spread * rng.standard_normal(n) * rng.uniform(0.5, 2.0)
    return {"x": x.astype(np.float32)}
