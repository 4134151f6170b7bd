import numpy as np


def reference(A, batch, n):
    return np.linalg.cholesky(A.astype(np.float64))


def generate(sizes, rng):
    batch, n = sizes["batch"], sizes["n"]
    M = rng.standard_normal((batch, n, n))
    A = np.matmul(M, M.transpose(0, 2, 1)) / n + np.eye(n)
    # per-matrix scale: factors of size 1e-3..1e3 catch absolute-tolerance shortcuts
    A *= (10.0 ** rng.uniform(-3, 3, size=(batch, 1, 1)))
    return {"A": (A + A.transpose(0, 2, 1)) / 2}
