import numpy as np


def reference(lower, diag, upper, rhs, batch, n):
    a, b, c, d = (v.astype(np.float64) for v in (lower, diag, upper, rhs))
    x = np.empty((batch, n), dtype=np.float64)
    cp = np.empty((batch, n))
    dp = np.empty((batch, n))
    cp[:, 0] = c[:, 0] / b[:, 0]
    dp[:, 0] = d[:, 0] / b[:, 0]
    for i in range(1, n):  # Thomas algorithm, vectorised over the batch; stable for diagonally dominant systems
        m = b[:, i] - a[:, i] * cp[:, i - 1]
        cp[:, i] = c[:, i] / m
        dp[:, i] = (d[:, i] - a[:, i] * dp[:, i - 1]) / m
    x[:, n - 1] = dp[:, n - 1]
    for i in range(n - 2, -1, -1):
        x[:, i] = dp[:, i] - cp[:, i] * x[:, i + 1]
    return x.astype(np.float32)


def generate(sizes, rng):
    batch, n = sizes["batch"], sizes["n"]
    lower = rng.uniform(-1.0, 1.0, size=(batch, n))
    upper = rng.uniform(-1.0, 1.0, size=(batch, n))
    lower[:, 0] = rng.uniform(-1e3, 1e3, size=batch)  # outside the matrix: garbage that must be ignored
    upper[:, n - 1] = rng.uniform(-1e3, 1e3, size=batch)
    inner = np.abs(lower) + np.abs(upper)
    inner[:, 0] = np.abs(upper[:, 0]) if n > 1 else 0.0
    inner[:, n - 1] = np.abs(lower[:, n - 1]) if n > 1 else 0.0
    diag = (inner + rng.uniform(1.0, 2.0, size=(batch, n))) * rng.choice([-1.0, 1.0], size=(batch, n))
    return {"lower": lower.astype(np.float32), "diag": diag.astype(np.float32),
            "upper": upper.astype(np.float32), "rhs": rng.uniform(-1.0, 1.0, size=(batch, n)).astype(np.float32)}
