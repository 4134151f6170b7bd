import numpy as np


def reference(price, volume, offsets, n, S):
    out = np.zeros(S)
    for s in np.nonzero(offsets[1:] > offsets[:-1])[0]:
        a, b = offsets[s], offsets[s + 1]
        v = volume[a:b].astype(np.float64)
        out[s] = np.dot(price[a:b].astype(np.float64), v) / v.sum()
    return out.astype(np.float32)


def generate(sizes, rng):
    n, S = sizes["n"], sizes["S"]
    # skewed segment lengths: Zipf-like weights, some symbols empty
    w = rng.pareto(0.8, S) + 1e-3
    w[rng.random(S) < 0.1] = 0.0
    if w.sum() == 0:
        w[0] = 1.0
    counts = rng.multinomial(n, w / w.sum())
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    base = np.repeat(rng.uniform(60, 140, S), counts)
    price = base * (1 + 0.05 * rng.standard_normal(n))
    volume = np.floor(rng.pareto(1.2, n) * 50 + 1).clip(1, 1000)
    return {"price": np.clip(price, 50, 150).astype(np.float32), "volume": volume.astype(np.float32),
            "offsets": offsets}
