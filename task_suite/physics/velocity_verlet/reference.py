import numpy as np


def _accel(p, k, lam):
    r2 = np.sum(p * p, axis=1, keepdims=True)
    return -k * p - lam * r2 * p


def reference(pos, vel, k, lam, dt, steps, n):
    k, lam, dt = (float(np.float32(s)) for s in (k, lam, dt))
    p = pos.astype(np.float64)
    v = vel.astype(np.float64)
    a = _accel(p, k, lam)
    for _ in range(steps):
        v = v + 0.5 * dt * a
        p = p + dt * v
        a = _accel(p, k, lam)
        v = v + 0.5 * dt * a
    return p.astype(np.float32), v.astype(np.float32)


def generate(sizes, rng):
    n = sizes["n"]
    return {
        "pos": rng.uniform(-1.5, 1.5, (n, 3)).astype(np.float32),
        "vel": rng.uniform(-1.0, 1.0, (n, 3)).astype(np.float32),
        "k": float(np.float32(rng.uniform(0.5, 2.0))),
        "lam": float(np.float32(rng.uniform(0.1, 1.0))),
        "dt": float(np.float32(rng.choice([0.01, 0.02, 0.05]))),
    }
