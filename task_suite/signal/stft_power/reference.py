import numpy as np


def reference(x, F, logn):
    n = 2 ** logn
    hop = n // 2
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    idx = np.arange(F)[:, None] * hop + np.arange(n)[None, :]
    frames = x.astype(np.float64)[idx] * w
    X = np.fft.rfft(frames, axis=1)
    return (X.real ** 2 + X.imag ** 2).astype(np.float32)


def generate(sizes, rng):
    F, n = sizes["F"], sizes["n"]
    L = (F - 1) * (n // 2) + n
    t = np.arange(L)
    # a chirp-like tone on top of noise
    f0 = rng.uniform(0.01, 0.4)
    x = 0.1 * np.sin(2 * np.pi * (f0 * t + 1e-5 * t * t)) + rng.uniform(-0.9, 0.9, L)
    return {"x": x.astype(np.float32)}
