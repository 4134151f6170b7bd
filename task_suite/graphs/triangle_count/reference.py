import numpy as np


def reference(offsets, indices, num_vertices, num_edges):
    # count each triangle a < b < c once: for every edge (a, b) with a < b, |{c > b : c in N(a) and c in N(b)}|
    off = offsets.astype(np.int64)
    neigh = [set(indices[off[u]:off[u + 1]].tolist()) for u in range(num_vertices)]
    total = 0
    for a in range(num_vertices):
        na = neigh[a]
        for b in na:
            if b > a:
                total += sum(1 for c in neigh[b] if c > b and c in na)
    return np.array([total], dtype=np.int64)


def generate(sizes, rng):
    v, e = sizes["num_vertices"], sizes["num_edges"]
    m = e // 2
    total = v * (v - 1) // 2
    if m * 3 >= total:
        # dense: a uniform sample of all pairs
        pick = rng.choice(total, size=m, replace=False)
        a, b = np.triu_indices(v, k=1)
        u, w = a[pick], b[pick]
    else:
        # sparse with communities: most edges join vertices close in a random order (many triangles), the rest are
        # random; a few hub vertices get many edges (skewed degrees)
        perm = rng.permutation(v)
        rank = np.empty(v, dtype=np.int64)
        rank[perm] = np.arange(v)
        keys = np.zeros(0, dtype=np.int64)
        while keys.size < m:
            need = 2 * (m - keys.size) + 16
            x = rng.integers(0, v, size=need)
            local = rng.random(need) < 0.7
            y = rng.integers(0, v, size=need)
            y[local] = perm[np.clip(rank[x[local]] + rng.integers(1, 9, size=int(local.sum())), 0, v - 1)]
            hubs = rng.random(need) < 0.05
            y[hubs] = perm[rng.integers(0, min(v, 4), size=int(hubs.sum()))]
            lo, hi = np.minimum(x, y), np.maximum(x, y)
            ok = lo != hi
            new = lo[ok] * v + hi[ok]
            keys = np.unique(np.concatenate([keys, new]))
        keys = rng.permutation(keys)[:m]
        u, w = keys // v, keys % v
    src = np.concatenate([u, w])
    dst = np.concatenate([w, u])
    order = np.lexsort((dst, src))  # by source, then target: sorted neighbour lists
    offsets = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=v))])
    return {"offsets": offsets.astype(np.int32), "indices": dst[order].astype(np.int32)}
