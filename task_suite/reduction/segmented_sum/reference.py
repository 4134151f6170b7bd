import numpy as np


def reference(values, offsets, n, num_segments):
    seg = np.repeat(np.arange(num_segments), np.diff(offsets.astype(np.int64)))
    return np.bincount(seg, weights=values.astype(np.float64), minlength=num_segments).astype(np.float32)


def generate(sizes, rng):
    n, s = sizes["n"], sizes["num_segments"]
    # heavy-tailed lengths (Pareto) with ~30 % empty segments; a multinomial split gives exactly n values
    weights = rng.pareto(1.1, size=s) + 1e-3
    weights[rng.random(s) < 0.3] = 0.0
    if weights.sum() == 0:
        weights[int(rng.integers(0, s))] = 1.0
    lengths = rng.multinomial(n, weights / weights.sum())
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return {"values": rng.uniform(-1.0, 1.0, size=n).astype(np.float32), "offsets": offsets.astype(np.int32)}
