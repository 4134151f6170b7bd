import numpy as np


def reference(spot, strike, years, z, r, sigma, n_opt, paths):
    r, sigma = float(np.float32(r)), float(np.float32(sigma))
    S, K, T = (a.astype(np.float64)[:, None] for a in (spot, strike, years))
    st = S * np.exp((r - 0.5 * sigma * sigma) * T + sigma * np.sqrt(T) * z.astype(np.float64))
    payoff = np.maximum(st - K, 0.0).mean(axis=1)
    return (np.exp(-r * T[:, 0]) * payoff).astype(np.float32)


def generate(sizes, rng):
    n, p = sizes["n_opt"], sizes["paths"]
    return {
        "spot": rng.uniform(50, 150, n).astype(np.float32),
        "strike": rng.uniform(50, 150, n).astype(np.float32),
        "years": rng.uniform(0.25, 3.0, n).astype(np.float32),
        "z": rng.standard_normal((n, p)).astype(np.float32),
        "r": float(np.float32(rng.choice([0.03, 0.0, 0.08]))),
        "sigma": float(np.float32(rng.choice([0.25, 0.1, 0.5]))),
    }
