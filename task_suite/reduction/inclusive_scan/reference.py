import numpy as np


def reference(x, n):
    return np.cumsum(x.astype(np.float64)).astype(np.float32)
