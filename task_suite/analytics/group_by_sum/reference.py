import numpy as np


def reference(keys, vals, n, num_groups):
    sums = np.zeros(num_groups, dtype=np.int64)
    np.add.at(sums, keys.astype(np.int64), vals.astype(np.int64))
    return sums


def generate(sizes, rng):
    n, g = sizes["n"], sizes["num_groups"]
    keys = rng.integers(0, g, size=n)
    hot = rng.integers(0, g, size=min(g, 3))
    hot_rows = rng.random(n) < 0.4
    keys[hot_rows] = rng.choice(hot, size=int(hot_rows.sum()))
    # values of both signs, some near the int32 limits: a per-group int32 sum overflows
    vals = rng.integers(-1000, 1001, size=n)
    big = rng.random(n) < 0.05
    vals[big] = rng.integers(-2**31, 2**31, size=int(big.sum()))
    return {"keys": keys.astype(np.int32), "vals": vals.astype(np.int32)}
