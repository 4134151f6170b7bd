import numpy as np


def reference(x, n):
    i_min, i_max = int(np.argmin(x)), int(np.argmax(x))  # numpy returns the first occurrence
    return np.array([x[i_min], x[i_max]], dtype=np.float32), np.array([i_min, i_max], dtype=np.int32)


def generate(sizes, rng):
    n = sizes["n"]
    x = rng.standard_normal(n) * rng.choice([1.0, 1e30])
    kind = int(rng.integers(0, 4))
    if kind == 1:  # coarse grid: the extremes repeat many times
        x = np.round(x)
    elif kind == 2:  # constant: every index ties, the answer is 0 and 0
        x[:] = 2.5
    elif kind == 3:  # the extremes sit at the end, and once more at the beginning of the last stretch
        x = np.clip(x, -3.0, 3.0)
        x[-1], x[max(0, n - 2)] = 4.0, -4.0
    return {"x": (x + 0.0).astype(np.float32)}
