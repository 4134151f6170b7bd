import numpy as np


def reference(x, B, n, nlag):
    v = x.astype(np.float64)
    r = np.zeros((B, nlag))
    for k in range(min(nlag, n)):
        r[:, k] = np.einsum("bi,bi->b", v[:, : n - k], v[:, k:])
    return r.astype(np.float32)


def generate(sizes, rng):
    B, n = sizes["B"], sizes["n"]
    # AR(1) processes with different memory, so many lags carry signal
    phi = rng.uniform(-0.9, 0.95, (B, 1))
    e = rng.uniform(-1, 1, (B, n)) * np.sqrt(1 - phi ** 2)
    x = np.empty((B, n))
    x[:, 0] = e[:, 0]
    for i in range(1, n):
        x[:, i] = phi[:, 0] * x[:, i - 1] + e[:, i]
    return {"x": x.astype(np.float32)}
