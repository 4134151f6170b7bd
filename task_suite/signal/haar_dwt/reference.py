import numpy as np


def reference(x, B, logn):
    a = x.astype(np.float64)
    details = []
    s = np.sqrt(0.5)
    while a.shape[1] > 1:
        even, odd = a[:, 0::2], a[:, 1::2]
        details.append((even - odd) * s)
        a = (even + odd) * s
    return np.concatenate([a] + details[::-1], axis=1).astype(np.float32)


def generate(sizes, rng):
    B, n = sizes["B"], sizes["n"]
    t = np.arange(n)[None, :]
    # piecewise-smooth rows: steps plus oscillation plus noise, so details at every level are non-zero
    x = 0.4 * np.sign(np.sin(t * rng.uniform(0.01, 0.2, (B, 1)))) + 0.3 * np.cos(t / 9.0) + rng.uniform(-0.3, 0.3, (B, n))
    return {"x": x.astype(np.float32)}
