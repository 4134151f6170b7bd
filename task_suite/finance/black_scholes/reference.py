import math

import numpy as np

_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _ncdf(x):
    return 0.5 * _erfc(-x / math.sqrt(2.0))


def reference(price, strike, years, r, sigma, n):
    r, sigma = float(np.float32(r)), float(np.float32(sigma))
    S, K, T = (a.astype(np.float64) for a in (price, strike, years))
    sqrt_t = np.sqrt(T)
    d1 = (np.log(S / K) + (r + 0.5 * sigma * sigma) * T) / (sigma * sqrt_t)
    d2 = d1 - sigma * sqrt_t
    disc = K * np.exp(-r * T)
    call = S * _ncdf(d1) - disc * _ncdf(d2)
    put = disc * _ncdf(-d2) - S * _ncdf(-d1)
    return call.astype(np.float32), put.astype(np.float32)


def generate(sizes, rng):
    n = sizes["n"]
    # the ranges of NVIDIA's classic sample: deep in and out of the money, short and long maturities
    return {
        "price": rng.uniform(5.0, 30.0, n).astype(np.float32),
        "strike": rng.uniform(1.0, 100.0, n).astype(np.float32),
        "years": rng.uniform(0.25, 10.0, n).astype(np.float32),
        "r": float(np.float32(rng.choice([0.02, 0.05, 0.0]))),
        "sigma": float(np.float32(rng.choice([0.3, 0.15, 0.6]))),
    }
