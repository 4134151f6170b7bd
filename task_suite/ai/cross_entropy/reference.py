import numpy as np


def reference(logits, labels, rows, classes):
    x = logits.astype(np.float64)
    m = x.max(axis=1)
    lse = m + np.log(np.exp(x - m[:, None]).sum(axis=1))
    return (lse - x[np.arange(rows), labels.astype(np.int64)]).astype(np.float32)


def generate(sizes, rng):
    rows, classes = sizes["rows"], sizes["classes"]
    # Rows on very different scales: naive exp(x) overflows on the x50 rows (max logit ~150+).
    scale = rng.choice([0.1, 1.0, 50.0], size=(rows, 1))
    logits = rng.standard_normal((rows, classes)) * scale
    labels = rng.integers(0, classes, size=rows)
    # some rows labelled with their own argmax (loss near 0: tests accuracy of small results)
    confident = rng.random(rows) < 0.3
    labels[confident] = logits[confident].argmax(axis=1)
    return {"logits": logits.astype(np.float32), "labels": labels.astype(np.int32)}
