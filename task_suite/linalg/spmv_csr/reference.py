import numpy as np


def reference(row_ptr, col_idx, vals, x, rows, cols, nnz):
    prod = vals.astype(np.float64) * x.astype(np.float64)[col_idx.astype(np.int64)]
    row_of = np.repeat(np.arange(rows), np.diff(row_ptr.astype(np.int64)))
    return np.bincount(row_of, weights=prod, minlength=rows).astype(np.float32)


def generate(sizes, rng):
    rows, cols, nnz = sizes["rows"], sizes["cols"], sizes["nnz"]
    # Heavy-tailed row weights (Pareto) with ~30% empty rows; a multinomial split gives exactly nnz entries.
    weights = rng.pareto(1.2, size=rows) + 1e-3
    weights[rng.random(rows) < 0.3] = 0.0
    if weights.sum() == 0:
        weights[int(rng.integers(0, rows))] = 1.0
    lengths = rng.multinomial(nnz, weights / weights.sum())
    row_ptr = np.concatenate([[0], np.cumsum(lengths)])
    # columns: mostly random, with a hot band so x has reuse; order within a row is random
    col_idx = rng.integers(0, cols, size=nnz)
    hot = rng.random(nnz) < 0.3
    col_idx[hot] = rng.integers(0, max(1, cols // 16), size=int(hot.sum()))
    return {"row_ptr": row_ptr.astype(np.int32), "col_idx": col_idx.astype(np.int32),
            "vals": rng.uniform(-1.0, 1.0, size=nnz).astype(np.float32)}
