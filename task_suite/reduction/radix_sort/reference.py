import numpy as np


def reference(keys, n):
    return np.sort(keys, kind="stable")


def generate(sizes, rng):
    n = sizes["n"]
    keys = rng.integers(0, 2**32, size=n, dtype=np.uint64)
    kind = int(rng.integers(0, 4))
    if kind == 1:  # few distinct values: long runs of equal keys
        keys = rng.choice(keys[: max(1, min(n, 16))], size=n)
    elif kind == 2:  # keys that differ only in the low byte, or only in the high byte (one digit carries the order)
        keys = (keys & 0xFF) | (np.uint64(0xABCDEF) << np.uint64(8)) if rng.random() < 0.5 else (keys & 0xFF000000)
    elif kind == 3:  # reverse-sorted with the extremes
        keys = np.sort(keys)[::-1].copy()
        keys[: min(n, 2)] = 0xFFFFFFFF
        keys[-1] = 0
    return {"keys": keys.astype(np.uint32)}
