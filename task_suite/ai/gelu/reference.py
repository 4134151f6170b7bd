import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def reference(x, n):
    x64 = x.astype(np.float64)
    return (0.5 * x64 * (1.0 + _erf(x64 / math.sqrt(2.0)))).astype(np.float32)
