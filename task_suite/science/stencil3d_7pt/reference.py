import numpy as np


def reference(u, c0, c1, nz, ny, nx):
    c0, c1 = float(np.float32(c0)), float(np.float32(c1))
    v = u.astype(np.float64)
    out = v.copy()
    if nz > 2 and ny > 2 and nx > 2:
        c = v[1:-1, 1:-1, 1:-1]
        nb = (v[:-2, 1:-1, 1:-1] + v[2:, 1:-1, 1:-1] + v[1:-1, :-2, 1:-1] + v[1:-1, 2:, 1:-1]
              + v[1:-1, 1:-1, :-2] + v[1:-1, 1:-1, 2:])
        out[1:-1, 1:-1, 1:-1] = c0 * c + c1 * nb
    return out.astype(np.float32)


def generate(sizes, rng):
    c0 = float(np.float32(rng.uniform(-1.0, 1.0)))
    c1 = float(np.float32(rng.uniform(0.05, 0.3)))
    return {"c0": c0, "c1": c1}
