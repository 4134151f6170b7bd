import numpy as np


def reference(A, batch, n):
    return np.linalg.inv(A.astype(np.float64)).astype(np.float32)


def generate(sizes, rng):
    batch, n = sizes["batch"], sizes["n"]
    d = rng.uniform(1.0, 2.0, size=(batch, n)) * rng.choice([-1.0, 1.0], size=(batch, n))
    E = rng.uniform(-1.0, 1.0, size=(batch, n, n)) * (0.5 / n)  # row sums of |E| below 1/2
    M = E.copy()
    idx = np.arange(n)
    M[:, idx, idx] += d
    # permute rows so the large entries leave the diagonal; zero the new diagonal where it holds noise only
    A = np.empty_like(M)
    for b in range(batch):
        perm = rng.permutation(n)
        A[b] = M[b][perm]
        moved = perm != idx
        A[b, idx[moved], idx[moved]] = 0.0
    return {"A": A.astype(np.float32)}
