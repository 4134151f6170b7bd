import numpy as np


def reference(logits, rows, classes):
    x = logits.astype(np.float64)
    pred = x.argmax(axis=1)  # numpy returns the first (smallest) index among equal maxima
    m = x.max(axis=1, keepdims=True)
    conf = 1.0 / np.exp(x - m).sum(axis=1)
    return pred.astype(np.int32), conf.astype(np.float32)


def generate(sizes, rng):
    rows, classes = sizes["rows"], sizes["classes"]
    scale = rng.choice([0.1, 1.0, 30.0], size=(rows, 1))
    x = rng.standard_normal((rows, classes)) * scale
    # Half the rows are quantized to a coarse grid so several classes share the maximum exactly.
    coarse = rng.random(rows) < 0.5
    x[coarse] = np.round(x[coarse] * 2.0) / 2.0
    # and some rows carry a duplicated maximum placed at a later index than the first one
    for r in np.flatnonzero(rng.random(rows) < 0.2):
        if classes > 1:
            j = int(rng.integers(0, classes))
            x[r, j] = x[r].max()
    return {"logits": x.astype(np.float32)}
