import numpy as np


def reference(u, alpha, steps, ny, nx):
    alpha = float(np.float32(alpha))
    v = u.astype(np.float64)
    if ny > 2 and nx > 2:
        for _ in range(steps):
            c = v[1:-1, 1:-1]
            lap = v[:-2, 1:-1] + v[2:, 1:-1] + v[1:-1, :-2] + v[1:-1, 2:] - 4.0 * c
            v = v.copy()
            v[1:-1, 1:-1] = c + alpha * lap
    return v.astype(np.float32)


def generate(sizes, rng):
    ny, nx = sizes["ny"], sizes["nx"]
    u = rng.uniform(-1, 1, (ny, nx))
    u[0, :] = 1.0  # a hot edge
    return {"u": u.astype(np.float32), "alpha": float(np.float32(rng.choice([0.25, 0.2, 0.1])))}
