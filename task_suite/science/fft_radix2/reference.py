import numpy as np


def reference(x, B, logn):
    z = x[..., 0].astype(np.float64) + 1j * x[..., 1].astype(np.float64)
    X = np.fft.fft(z, axis=1)
    return np.stack([X.real, X.imag], axis=-1).astype(np.float32)


def generate(sizes, rng):
    B, n = sizes["B"], sizes["n"]
    t = np.arange(n)[None, :]
    # random noise plus a pure tone per row (a sharp spectral peak of height 0.03 n: the float32 rounding of a
    # transform spreads ~ulp * logn * peak to every bin, so the tone stays small enough for the fixed atol)
    f = rng.integers(0, n, (B, 1))
    phase = 2 * np.pi * (f * t % n) / n
    re = rng.uniform(-0.5, 0.5, (B, n)) + 0.03 * np.cos(phase)
    im = rng.uniform(-0.5, 0.5, (B, n)) + 0.03 * np.sin(phase)
    return {"x": np.stack([re, im], axis=-1).astype(np.float32)}
