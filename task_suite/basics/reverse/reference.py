import numpy as np


def reference(x, n):
    return np.ascontiguousarray(x[::-1])


def generate(sizes, rng):
    # Distinct-looking values over the whole int32 range, so a shifted or partly reversed answer shows.
    return {"x": rng.integers(-2**31, 2**31, sizes["n"], dtype=np.int64).astype(np.int32)}
