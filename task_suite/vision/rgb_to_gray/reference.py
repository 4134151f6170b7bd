import numpy as np


def reference(rgb, height, width):
    c = rgb.astype(np.float64)
    return (0.299 * c[..., 0] + 0.587 * c[..., 1] + 0.114 * c[..., 2]).astype(np.float32)
