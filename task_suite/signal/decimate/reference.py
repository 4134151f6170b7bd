import numpy as np


def reference(x, h, M, D, K):
    full = np.convolve(x.astype(np.float64), h.astype(np.float64), mode="valid")
    return full[::D][:M].astype(np.float32)


def generate(sizes, rng):
    M, D, K = sizes["M"], sizes["D"], sizes["K"]
    n = (M - 1) * D + K
    # a windowed-sinc low-pass at cutoff 1/D, normalised to unit gain, times an asymmetric ramp so that a
    # correlation (unreversed taps) differs from the convolution
    k = np.arange(K) - (K - 1) / 2
    h = np.sinc(k / D) * np.hamming(K) if K > 1 else np.ones(1)
    h = h / h.sum() * np.linspace(0.6, 1.4, K) * rng.uniform(0.9, 1.1, K)
    t = np.arange(n)
    x = 0.5 * np.sin(2 * np.pi * t * rng.uniform(0.001, 0.05)) + rng.uniform(-0.5, 0.5, n)
    return {"x": x.astype(np.float32), "h": h.astype(np.float32)}
