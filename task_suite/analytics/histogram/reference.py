import numpy as np


def reference(x, n, num_bins):
    return np.bincount(x, minlength=num_bins).astype(np.int32)


def generate(sizes, rng):
    n, num_bins = sizes["n"], sizes["num_bins"]
    # Skewed values: a few hot bins stress atomics the way real data does, the rest stay uniform.
    hot = rng.integers(0, num_bins, size=min(num_bins, 4))
    x = rng.integers(0, num_bins, size=n, dtype=np.int32)
    hot_mask = rng.random(n) < 0.3
    x[hot_mask] = rng.choice(hot, size=int(hot_mask.sum()))
    return {"x": x}
