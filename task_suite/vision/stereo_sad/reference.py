import numpy as np


def reference(left, right, height, width, R, D):
    L = left.astype(np.int32)
    Rt = right.astype(np.int32)
    ys = np.clip(np.arange(height)[:, None] + np.arange(-R, R + 1)[None, :], 0, height - 1)  # (h, 2R+1)
    best = np.full((height, width), np.iinfo(np.int64).max, dtype=np.int64)
    disp = np.zeros((height, width), dtype=np.int32)
    xs = np.arange(width)[:, None] + np.arange(-R, R + 1)[None, :]  # (w, 2R+1)
    xl = np.clip(xs, 0, width - 1)
    for d in range(D):
        xr = np.clip(xs - d, 0, width - 1)
        diff = np.abs(L[ys][:, :, xl] - Rt[ys][:, :, xr])  # (h, 2R+1, w, 2R+1)
        cost = diff.sum(axis=(1, 3))
        better = cost < best
        best[better] = cost[better]
        disp[better] = d
    return disp


def generate(sizes, rng):
    h, w, D = sizes["height"], sizes["width"], sizes["D"]
    # a textured right image, the left image is it shifted by a piecewise-constant true disparity, plus noise
    right = rng.integers(0, 256, (h, w))
    true_d = np.minimum(((np.arange(w)[None, :] // 23 + np.arange(h)[:, None] // 17) * 5) % max(D, 1), D - 1)
    xs = np.clip(np.arange(w)[None, :] - true_d, 0, w - 1)
    left = right[np.arange(h)[:, None], xs] + rng.integers(-8, 9, (h, w))
    flat = rng.random((h, w)) < 0.05  # a few flat patches produce ties
    left[flat] = 128
    return {"left": np.clip(left, 0, 255).astype(np.uint8), "right": right.astype(np.uint8)}
