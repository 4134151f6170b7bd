import numpy as np


def reference(A, B, batch, M, N, K):
    return np.matmul(A.astype(np.float64), B.astype(np.float64)).astype(np.float32)
