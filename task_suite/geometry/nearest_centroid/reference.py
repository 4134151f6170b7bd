import numpy as np

# squared distances computed in float32 in any order differ from exact ones by a few ulp
_RTOL, _ATOL = 1e-5, 1e-6


def _distances(points, centroids):
    diff = points.astype(np.float64)[:, None, :] - centroids.astype(np.float64)[None, :, :]
    return (diff * diff).sum(axis=2)


def reference(points, centroids, n, k, dim):
    return np.argmin(_distances(points, centroids), axis=1).astype(np.int32)  # first minimum: smallest index


def generate(sizes, rng):
    n, k, dim = sizes["n"], sizes["k"], sizes["dim"]
    if rng.random() < 0.5:
        # integer grid: many exact ties between distinct centroids, which only the smallest index may win
        points = rng.integers(-4, 5, size=(n, dim)).astype(np.float32)
        centroids = rng.integers(-4, 5, size=(k, dim)).astype(np.float32)
    else:
        centroids = rng.standard_normal((k, dim)).astype(np.float32)
        points = (centroids[rng.integers(0, k, size=n)] + 0.7 * rng.standard_normal((n, dim))).astype(np.float32)
    # duplicated centroids: exact ties in any evaluation order
    dup = np.nonzero(rng.random(k) < 0.2)[0]
    if k > 1 and dup.size:
        centroids[dup] = centroids[rng.integers(0, k, size=dup.size)]
    return {"points": points, "centroids": centroids}


def check(inputs, expected, got):
    labels = got["labels"]
    n, k = int(inputs["n"]), int(inputs["k"])
    if labels.shape != (n,):
        return f"labels: shape {labels.shape}, expected ({n},)"
    bad = np.nonzero((labels < 0) | (labels >= k))[0]
    if bad.size:
        return f"labels: {bad.size} label(s) outside [0, {k}); first at [{int(bad[0])}]: {int(labels[bad[0]])}"
    d = _distances(inputs["points"], inputs["centroids"])
    rows = np.arange(n)
    best = d.min(axis=1)
    mine = d[rows, labels]
    # a label is right when its centroid is nearest up to float32 rounding, and no smaller index is exactly as near
    far = mine > best * (1 + _RTOL) + _ATOL
    lower_tie = ((np.arange(k)[None, :] < labels[:, None]) & (d == mine[:, None])).any(axis=1)
    wrong = np.nonzero(far | lower_tie)[0]
    if wrong.size:
        i = int(wrong[0])
        why = "is not the nearest" if far[i] else "ties with a smaller index"
        return (f"labels: {wrong.size} of {n} point(s) wrong; first at [{i}]: expected {int(expected['labels'][i])}, "
                f"got {int(labels[i])} which {why} (squared distances {best[i]:.7g} vs {mine[i]:.7g})")
    return None
