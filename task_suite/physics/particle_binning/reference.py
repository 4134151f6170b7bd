import numpy as np


def cells(pos, gx, gy):
    # single-precision products, truncated; the generator keeps positions away from cell boundaries
    ix = np.minimum((pos[:, 0] * np.float32(gx)).astype(np.int64), gx - 1)
    iy = np.minimum((pos[:, 1] * np.float32(gy)).astype(np.int64), gy - 1)
    return iy * gx + ix


def reference(pos, n, gx, gy):
    c = cells(pos, gx, gy)
    counts = np.bincount(c, minlength=gx * gy)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    order = np.argsort(c, kind="stable").astype(np.int32)
    return offsets, order


def _away_from_edges(u, g, rng):
    # keep u * g at least 1e-3 cells away from an integer, so rounding of the product cannot change the cell
    v = u * g
    frac = v - np.floor(v)
    bad = (frac < 1e-3) | (frac > 1 - 1e-3)
    v[bad] = np.floor(v[bad]) + 0.5
    return np.clip(v / g, 0, np.nextafter(np.float32(1), np.float32(0)))


def generate(sizes, rng):
    n, gx, gy = sizes["n"], sizes["gx"], sizes["gy"]
    # clustered particles: dense clumps (many particles per cell) and a uniform background (many empty cells)
    k = rng.integers(1, 6)
    centers = rng.uniform(0.1, 0.9, (k, 2))
    clumped = centers[rng.integers(0, k, n)] + 0.05 * rng.standard_normal((n, 2))
    uniform = rng.random((n, 2))
    p = np.where(rng.random((n, 1)) < 0.5, clumped, uniform) % 1.0
    p[:, 0] = _away_from_edges(p[:, 0], gx, rng)
    p[:, 1] = _away_from_edges(p[:, 1], gy, rng)
    return {"pos": p.astype(np.float32)}
