import numpy as np


def reference(x, n):
    s = np.cumsum(x.astype(np.int64)) - x.astype(np.int64)
    return (s & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def generate(sizes, rng):
    n = sizes["n"]
    x = rng.integers(-1000, 1001, size=n).astype(np.int64)
    # a few huge values make the running sum wrap around the int32 range (float or int64-then-saturate answers fail)
    big = rng.random(n) < 0.02
    x[big] = rng.integers(2**30, 2**31 - 1, size=int(big.sum())) * rng.choice([-1, 1], size=int(big.sum()))
    return {"x": x.astype(np.int32)}
