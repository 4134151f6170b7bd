import numpy as np


def reference(x, N, C, H, W):
    OH, OW = (H - 1) // 2 + 1, (W - 1) // 2 + 1
    padded = np.full((N, C, H + 2, W + 2), -np.inf, dtype=np.float32)
    padded[:, :, 1:H + 1, 1:W + 1] = x
    y = np.full((N, C, OH, OW), -np.inf, dtype=np.float32)
    for dh in range(3):
        for dw in range(3):
            # output (oh, ow) reads padded row 2*oh + dh, column 2*ow + dw
            tap = padded[:, :, dh:dh + 2 * OH:2, dw:dw + 2 * OW:2]
            y = np.maximum(y, tap)
    return y
