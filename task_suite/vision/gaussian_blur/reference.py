import numpy as np


def reference(img, weights, height, width, R):
    w = weights.astype(np.float64)
    p = np.pad(img.astype(np.float64), ((0, 0), (R, R)), mode="edge")
    tmp = sum(w[t] * p[:, t:t + width] for t in range(2 * R + 1))
    p = np.pad(tmp, ((R, R), (0, 0)), mode="edge")
    out = sum(w[t] * p[t:t + height, :] for t in range(2 * R + 1))
    return out.astype(np.float32)


def generate(sizes, rng):
    h, w, R = sizes["height"], sizes["width"], sizes["R"]
    sigma = rng.uniform(0.3, 1.0) * max(R, 1) / 2 + 0.3
    t = np.arange(-R, R + 1)
    g = np.exp(-0.5 * (t / sigma) ** 2)
    yy, xx = np.mgrid[0:h, 0:w]
    img = 0.5 * (((xx // 7) + (yy // 5)) % 2) + 0.5 * rng.random((h, w))  # checkerboard plus noise
    return {"img": img.astype(np.float32), "weights": (g / g.sum()).astype(np.float32)}
