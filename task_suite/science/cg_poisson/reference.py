import numpy as np


def _apply(u, shift):
    v = (4.0 + shift) * u
    v[1:, :] -= u[:-1, :]
    v[:-1, :] -= u[1:, :]
    v[:, 1:] -= u[:, :-1]
    v[:, :-1] -= u[:, 1:]
    return v


def reference(b, shift, iters, ny, nx):
    shift = float(np.float32(shift))
    r = b.astype(np.float64)
    x = np.zeros_like(r)
    p = r.copy()
    rr = float(np.sum(r * r))
    for _ in range(iters):
        ap = _apply(p, shift)
        pap = float(np.sum(p * ap))
        alpha = rr / pap if pap != 0 else 0.0
        x += alpha * p
        r -= alpha * ap
        rr_new = float(np.sum(r * r))
        beta = rr_new / rr if rr != 0 else 0.0
        p = r + beta * p
        rr = rr_new
    return x.astype(np.float32)


def generate(sizes, rng):
    ny, nx = sizes["ny"], sizes["nx"]
    b = rng.uniform(-1, 1, (ny, nx)) * 0.5
    b[ny // 3, nx // 3] += 0.5  # a point source
    return {"b": b.astype(np.float32), "shift": float(np.float32(rng.choice([0.05, 0.1, 0.3, 1.0])))}
