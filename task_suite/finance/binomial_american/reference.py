import numpy as np


def reference(spot, strike, years, r, sigma, n_opt, N):
    r, sigma = float(np.float32(r)), float(np.float32(sigma))
    out = np.empty(n_opt)
    for i in range(n_opt):
        S, K, T = float(spot[i]), float(strike[i]), float(years[i])
        dt = T / N
        vol = sigma * np.sqrt(dt)
        u = np.exp(vol)
        d = 1.0 / u
        p = (np.exp(r * dt) - d) / (u - d)
        disc = np.exp(-r * dt)
        j = np.arange(N + 1)
        V = np.maximum(K - S * np.exp((2 * j - N) * vol), 0.0)
        for k in range(N - 1, -1, -1):
            j = np.arange(k + 1)
            cont = disc * (p * V[1:] + (1 - p) * V[:-1])
            V = np.maximum(cont, K - S * np.exp((2 * j - k) * vol))
        out[i] = V[0]
    return out.astype(np.float32)


def generate(sizes, rng):
    n = sizes["n_opt"]
    return {
        "spot": rng.uniform(50, 150, n).astype(np.float32),
        "strike": rng.uniform(50, 150, n).astype(np.float32),
        "years": rng.uniform(0.25, 3.0, n).astype(np.float32),
        "r": float(np.float32(rng.choice([0.03, 0.05, 0.08]))),  # r > 0: early exercise has value
        "sigma": float(np.float32(rng.choice([0.1, 0.3, 0.5]))),
    }
