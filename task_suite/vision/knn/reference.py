import numpy as np


def reference(queries, refs, nq, nr, k):
    q = queries.astype(np.int64)
    r = refs.astype(np.int64)
    idx = np.empty((nq, k), dtype=np.int32)
    dist = np.empty((nq, k), dtype=np.float32)
    for start in range(0, nq, 256):
        d = ((q[start:start + 256, None, :] - r[None, :, :]) ** 2).sum(-1)  # exact integers
        order = np.argsort(d, axis=1, kind="stable")[:, :k]  # stable: ties keep the smaller index first
        idx[start:start + 256] = order
        dist[start:start + 256] = np.take_along_axis(d, order, axis=1)
    return idx, dist


def generate(sizes, rng):
    nq, nr = sizes["nq"], sizes["nr"]
    # clustered integer points in a small cube (many exact distance ties) plus uniform ones
    def cloud(n):
        c = rng.integers(0, 1024, (4, 3))
        pts = c[rng.integers(0, 4, n)] + rng.integers(-20, 21, (n, 3))
        uni = rng.integers(0, 1024, (n, 3))
        return np.clip(np.where(rng.random((n, 1)) < 0.7, pts, uni), 0, 1023)
    refs = cloud(nr)
    if nr >= 4:
        refs[nr // 2] = refs[0]  # duplicated points: equal distances for every query
    return {"queries": cloud(nq).astype(np.float32), "refs": refs.astype(np.float32)}
