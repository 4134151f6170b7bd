import numpy as np


def reference(img, height, width):
    return np.cumsum(np.cumsum(img.astype(np.int64), axis=0), axis=1)
