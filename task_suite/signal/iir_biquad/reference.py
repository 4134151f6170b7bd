import numpy as np


def reference(x, coef, T, C):
    c = coef.astype(np.float64)
    b0, b1, b2, a1, a2 = (c[:, k] for k in range(5))
    xs = x.astype(np.float64)
    y = np.empty((T, C), dtype=np.float64)
    x1 = x2 = y1 = y2 = np.zeros(C)
    for t in range(T):
        yt = b0 * xs[t] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        y[t] = yt
        x2, x1, y2, y1 = x1, xs[t], y1, yt
    return y.astype(np.float32)


def generate(sizes, rng):
    T, C = sizes["T"], sizes["C"]
    # stable resonant sections: complex poles of radius 0.3..0.95 at random angles, random zeros/gains
    r = rng.uniform(0.3, 0.95, C)
    theta = rng.uniform(0.05, 3.0, C)
    coef = np.empty((C, 5))
    coef[:, 0:3] = rng.uniform(-1, 1, (C, 3))
    coef[:, 3] = -2 * r * np.cos(theta)
    coef[:, 4] = r * r
    x = rng.uniform(-1, 1, (T, C))
    x[: min(T, 3)] += 2.0  # a step at the start: the zero initial state matters
    return {"x": x.astype(np.float32), "coef": coef.astype(np.float32)}
