import numpy as np


def reference(x, w, bias, N, C_in, C_out, H, W):
    xp = np.zeros((N, C_in, H + 2, W + 2), dtype=np.float64)
    xp[:, :, 1:H + 1, 1:W + 1] = x
    w64 = w.astype(np.float64)
    y = np.broadcast_to(bias.astype(np.float64)[None, :, None, None], (N, C_out, H, W)).copy()
    for kh in range(3):
        for kw in range(3):
            patch = xp[:, :, kh:kh + H, kw:kw + W]  # N x C_in x H x W
            y += np.einsum("nchw,oc->nohw", patch, w64[:, :, kh, kw])
    return y.astype(np.float32)
