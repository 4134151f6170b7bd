import numpy as np


def reference(x, rows, cols, k):
    # a stable sort of -x keeps equal values in index order: exactly the task's total order
    order = np.argsort(-x.astype(np.float64), axis=1, kind="stable")[:, :k]
    return np.take_along_axis(x, order, axis=1), order.astype(np.int32)


def generate(sizes, rng):
    rows, cols = sizes["rows"], sizes["cols"]
    x = rng.standard_normal((rows, cols)) * rng.choice([1.0, 100.0], size=(rows, 1))
    # most rows on a coarse grid: many exact ties, also among the top-k and at the k-th place
    coarse = rng.random(rows) < 0.6
    x[coarse] = np.round(x[coarse] * 2.0) / 2.0
    # a few constant rows: everything ties, the answer is the first k indices
    x[rng.random(rows) < 0.1] = 1.5
    return {"x": (x + 0.0).astype(np.float32)}  # + 0.0 turns -0.0 into 0.0
