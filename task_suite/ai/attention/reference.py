import numpy as np


def reference(Q, K, V, batch, Lq, Lk, d):
    s = np.matmul(Q.astype(np.float64), K.astype(np.float64).transpose(0, 2, 1)) / np.sqrt(d)
    s -= s.max(axis=2, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=2, keepdims=True)
    return np.matmul(p, V.astype(np.float64)).astype(np.float32)


def generate(sizes, rng):
    batch, Lq, Lk, d = sizes["batch"], sizes["Lq"], sizes["Lk"], sizes["d"]
    # per-batch query scale: x1 gives flat attention, x30 gives near-one-hot rows with scores up to ~100
    scale = rng.choice([1.0, 5.0, 30.0], size=(batch, 1, 1))
    Q = rng.standard_normal((batch, Lq, d)) * scale / np.sqrt(np.sqrt(d))
    K = rng.standard_normal((batch, Lk, d)) / np.sqrt(np.sqrt(d))
    V = rng.uniform(-1.0, 1.0, size=(batch, Lk, d))
    return {"Q": Q.astype(np.float32), "K": K.astype(np.float32), "V": V.astype(np.float32)}
