import numpy as np


def reference(a, b, n):
    return (a + b).astype(np.float32)
