import numpy as np


def reference(pos, mass, eps2, B, n):
    eps2 = float(np.float32(eps2))
    p = pos.astype(np.float64)
    m = mass.astype(np.float64)
    acc = np.empty((B, n, 3))
    for b in range(B):
        d = p[b][None, :, :] - p[b][:, None, :]  # d[i, j] = r_j - r_i
        r2 = np.einsum("ijk,ijk->ij", d, d) + eps2
        w = m[b][None, :] / (r2 * np.sqrt(r2))
        acc[b] = np.einsum("ij,ijk->ik", w, d)
    return acc.astype(np.float32)


def generate(sizes, rng):
    B, n = sizes["B"], sizes["n"]
    # clustered bodies (close pairs make the softening matter), total mass 1 per system
    centers = rng.uniform(-1, 1, (B, 4, 3))
    which = rng.integers(0, 4, (B, n))
    pos = centers[np.arange(B)[:, None], which] + 0.2 * rng.standard_normal((B, n, 3))
    mass = rng.uniform(0.5, 1.5, (B, n))
    mass /= mass.sum(axis=1, keepdims=True)
    return {"pos": pos.astype(np.float32), "mass": mass.astype(np.float32),
            "eps2": float(np.float32(rng.choice([0.01, 0.005, 0.05])))}
