import numpy as np


def reference(X, y, batch, m, p):
    beta = np.empty((batch, p), dtype=np.float64)
    for b in range(batch):
        beta[b] = np.linalg.lstsq(X[b], y[b], rcond=None)[0]  # QR/SVD based: more exact than any normal-equation answer
    return beta


def generate(sizes, rng):
    batch, m, p = sizes["batch"], sizes["m"], sizes["p"]
    col_scale = 10.0 ** rng.uniform(-1, 1, size=(batch, 1, p))
    X = rng.standard_normal((batch, m, p)) * col_scale
    X[:, :, 0] = np.abs(X[:, :, 0]) + 1.0 if p > 1 else X[:, :, 0]  # a positive, intercept-like column
    true_beta = rng.uniform(-2.0, 2.0, size=(batch, p, 1))
    y = (X @ true_beta)[:, :, 0] + 0.1 * rng.standard_normal((batch, m))
    return {"X": X, "y": y}
