import numpy as np


def reference(x, y, alpha, n):
    a = np.float64(np.float32(alpha))  # solve receives alpha as a C float
    return (a * x.astype(np.float64) + y.astype(np.float64)).astype(np.float32)


def generate(sizes, rng):
    return {"alpha": float(np.float32(rng.choice([-3.0, -0.5, 0.75, 2.5]) + rng.uniform(-0.1, 0.1)))}
