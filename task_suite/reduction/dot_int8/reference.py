import numpy as np


def reference(a, b, n):
    s = int(np.dot(a.astype(np.int64), b.astype(np.int64)))
    return np.array([s & 0xFFFFFFFF], dtype=np.uint32).view(np.int32)


def generate(sizes, rng):
    n = sizes["n"]
    a = rng.integers(-128, 128, size=n)
    b = rng.integers(-128, 128, size=n)
    # correlated vectors with extreme values: the sum leaves the int32 range at large n and wraps
    if rng.random() < 0.5:
        b = np.where(rng.random(n) < 0.9, a, b)
        a[rng.random(n) < 0.3] = -128
        b[a == -128] = -128
    return {"a": a.astype(np.int8), "b": b.astype(np.int8)}
