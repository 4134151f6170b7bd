import base64

import numpy as np


def reference(data, n):
    return np.frombuffer(base64.b64encode(data.tobytes()), dtype=np.uint8).copy()
