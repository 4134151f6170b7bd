import numpy as np


def reference(x, mask, p, n):
    p32 = np.float32(p)  # solve receives p as a C float
    scale = 1.0 / (1.0 - np.float64(p32))
    return np.where(mask != 0, x.astype(np.float64) * scale, 0.0).astype(np.float32)


def generate(sizes, rng):
    n = sizes["n"]
    p = float(np.float32(rng.choice([0.1, 0.25, 0.5, 0.9])))
    mask = (rng.random(n) >= p).astype(np.uint8)
    return {"mask": mask, "p": p}


def work(x, mask, p, n):
    """Minimum work on this very input (scores use it; task.toml counts p = 0.9, the input that needs least): mask
    read and y written whole, x read only in the 32-byte sectors (8 floats) that hold a kept element."""
    kept = np.zeros(-(-n // 8) * 8, dtype=bool)
    kept[:n] = mask != 0
    sectors = int(kept.reshape(-1, 8).any(axis=1).sum())
    return n, 5 * n + 32 * sectors
