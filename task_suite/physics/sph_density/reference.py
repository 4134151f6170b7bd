import math

import numpy as np


def reference(pos, mass, n, G):
    h = float(np.float32(1.0 / G))
    h2 = h * h
    c = 315.0 / (64.0 * math.pi * h ** 9)
    p = pos.astype(np.float64)
    m = mass.astype(np.float64)
    # bucket particles by cell and compare each cell with its 27 neighbours
    cell = np.minimum((p * G).astype(np.int64), G - 1)
    key = (cell[:, 2] * G + cell[:, 1]) * G + cell[:, 0]
    order = np.argsort(key, kind="stable")
    starts = np.searchsorted(key[order], np.arange(G ** 3 + 1))
    rho = np.zeros(n)
    for cid in np.unique(key):
        mine = order[starts[cid]:starts[cid + 1]]
        cz, cy, cx = cid // (G * G), (cid // G) % G, cid % G
        nb = []
        for dz in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    z, y, x = cz + dz, cy + dy, cx + dx
                    if 0 <= z < G and 0 <= y < G and 0 <= x < G:
                        k = (z * G + y) * G + x
                        nb.append(order[starts[k]:starts[k + 1]])
        nb = np.concatenate(nb)
        d = p[mine][:, None, :] - p[nb][None, :, :]
        r2 = np.einsum("ijk,ijk->ij", d, d)
        w = np.where(r2 < h2, (h2 - r2) ** 3, 0.0)
        rho[mine] = c * (w @ m[nb])
    return rho.astype(np.float32)


def generate(sizes, rng):
    n = sizes["n"]
    # a dense blob and a sparse background: neighbour counts range from 1 (only itself) to hundreds
    blob = 0.5 + 0.08 * rng.standard_normal((n, 3))
    back = rng.random((n, 3))
    p = np.where(rng.random((n, 1)) < 0.4, blob, back)
    p = np.clip(p, 0.0, np.nextafter(1.0, 0.0))
    return {"pos": p.astype(np.float32)}
