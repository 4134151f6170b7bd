import numpy as np


def reference(logits, T, E):
    x = logits.astype(np.float64)
    order = np.argsort(-x, axis=1, kind="stable")[:, :2]  # stable: ties go to the smaller expert index
    l1 = np.take_along_axis(x, order[:, :1], axis=1)[:, 0]
    l2 = np.take_along_axis(x, order[:, 1:2], axis=1)[:, 0]
    g1 = 1.0 / (1.0 + np.exp(l2 - l1))
    gates = np.stack([g1, 1.0 - g1], axis=1)
    flat = order.reshape(-1)  # assignment id a = 2t + slot
    counts = np.bincount(flat, minlength=E)
    dispatch = np.argsort(flat, kind="stable")  # by expert, then by assignment id
    return {"experts": order.astype(np.int32), "gates": gates.astype(np.float32),
            "counts": counts.astype(np.int32), "dispatch": dispatch.astype(np.int32)}


def generate(sizes, rng):
    T, E = sizes["T"], sizes["E"]
    # skewed expert popularity (a few hot experts), and a third of the tokens on a coarse grid so exact ties occur
    bias = rng.standard_normal(E) * 1.5
    x = rng.standard_normal((T, E)) + bias
    coarse = rng.random(T) < 0.3
    x[coarse] = np.round(x[coarse])
    return {"logits": (x + 0.0).astype(np.float32)}
