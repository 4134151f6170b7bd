import numpy as np


def reference(keys, vals, n):
    order = np.argsort(keys, kind="stable")
    return keys[order], vals[order]


def generate(sizes, rng):
    n = sizes["n"]
    # heavily duplicated keys of both signs (stability is visible through the values), with the int32 extremes
    distinct = int(rng.choice([3, 50, max(1, n // 2)]))
    pool = rng.integers(-2**31, 2**31, size=distinct)
    pool[: min(distinct, 3)] = [-2**31, 2**31 - 1, -1][: min(distinct, 3)]
    if rng.random() < 0.5:
        pool = rng.integers(-1000, 1000, size=distinct)  # small keys: only the low digits (and the sign) differ
    keys = pool[rng.integers(0, distinct, size=n)]
    vals = rng.permutation(n)  # distinct values: any reordering of equal keys is visible
    return {"keys": keys.astype(np.int32), "vals": vals.astype(np.int32)}
