import numpy as np


def reference(pred, target, n):
    diff = pred.astype(np.float64) - target.astype(np.float64)
    return np.array([np.mean(diff * diff)], dtype=np.float32)


def generate(sizes, rng):
    n = sizes["n"]
    # Targets with an offset and predictions close to them, plus a share of outliers: the loss is not a constant of
    # the distribution, and an answer dropping the square (or the sign of the difference) fails.
    target = rng.uniform(-1.0, 1.0, n) + rng.uniform(-2.0, 2.0)
    pred = target + rng.normal(0.0, rng.uniform(0.05, 0.5), n) * rng.choice([1.0, 8.0], size=n, p=[0.95, 0.05])
    return {"pred": pred.astype(np.float32), "target": target.astype(np.float32)}
