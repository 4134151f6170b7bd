import numpy as np


def reference(u, n):
    v = u.astype(np.float64)
    return np.array([np.mean(np.exp(-np.sum(v * v, axis=1)))], dtype=np.float32)
