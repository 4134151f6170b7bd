import numpy as np


def reference(x, dy, gamma, rows, cols):
    x64, dy64, g64 = x.astype(np.float64), dy.astype(np.float64), gamma.astype(np.float64)
    mu = x64.mean(axis=1, keepdims=True)
    rstd = 1.0 / np.sqrt(((x64 - mu) ** 2).mean(axis=1, keepdims=True) + 1e-5)
    xhat = (x64 - mu) * rstd
    g = dy64 * g64
    dx = rstd * (g - g.mean(axis=1, keepdims=True) - xhat * (g * xhat).mean(axis=1, keepdims=True))
    return dx.astype(np.float32), (dy64 * xhat).sum(axis=0).astype(np.float32), dy64.sum(axis=0).astype(np.float32)


def generate(sizes, rng):
    rows, cols = sizes["rows"], sizes["cols"]
    offset = rng.uniform(-5.0, 5.0, size=(rows, 1))
    spread = rng.choice([0.5, 1.0, 2.0], size=(rows, 1))
    z = rng.standard_normal((rows, cols))
    if cols > 1:
        # standardize each row so its variance is exactly spread^2: a short row whose values happen to nearly
        # coincide would have a huge rstd and a dx made of pure cancellation, which no float32 answer gets right
        z = (z - z.mean(axis=1, keepdims=True)) / z.std(axis=1, keepdims=True)
    x = offset + spread * z
    dy = rng.standard_normal((rows, cols))
    gamma = rng.uniform(0.5, 1.5, size=cols)
    return {"x": x.astype(np.float32), "dy": dy.astype(np.float32), "gamma": gamma.astype(np.float32)}
