import numpy as np


def reference(x, n):
    b = x.astype(np.uint32).view(np.uint8).reshape(-1, 4)
    return np.unpackbits(b, axis=1).sum(axis=1).astype(np.int32)


def generate(sizes, rng):
    n = sizes["n"]
    x = rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
    # sparse and dense words, and the extremes 0 and 0xFFFFFFFF (top bit set breaks signed shifts)
    kind = rng.integers(0, 4, size=n)
    sparse = x & rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32) & \
        rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
    x = np.where(kind == 1, sparse, x)
    x = np.where(kind == 2, ~sparse, x)
    x[rng.random(n) < 0.02] = 0
    x[rng.random(n) < 0.02] = 0xFFFFFFFF
    return {"x": x.astype(np.uint32)}
