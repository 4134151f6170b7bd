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
