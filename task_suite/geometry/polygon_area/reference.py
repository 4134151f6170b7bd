import numpy as np


def reference(xs, ys, p, v):
    x = xs.astype(np.float64)
    y = ys.astype(np.float64)
    x = x - x[:, :1]
    y = y - y[:, :1]
    s = (x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1)
    return (0.5 * np.abs(s)).astype(np.float32)


def generate(sizes, rng):
    p, v = sizes["p"], sizes["v"]
    # convex polygons: points on an ellipse at sorted random angles, rotated, far from the origin for most polygons
    centers = rng.uniform(-1000.0, 1000.0, size=(p, 2)) * rng.choice([0.0, 0.01, 1.0], size=(p, 1), p=[0.1, 0.2, 0.7])
    radius = np.exp(rng.uniform(np.log(0.5), np.log(20.0), size=(p, 1)))
    aspect = rng.uniform(0.2, 1.0, size=(p, 1))
    theta = np.sort(rng.uniform(0.0, 2.0 * np.pi, size=(p, v)), axis=1)
    rot = rng.uniform(0.0, 2.0 * np.pi, size=(p, 1))
    ex, ey = radius * np.cos(theta), radius * aspect * np.sin(theta)
    x = centers[:, :1] + ex * np.cos(rot) - ey * np.sin(rot)
    y = centers[:, 1:] + ex * np.sin(rot) + ey * np.cos(rot)
    flip = rng.random(p) < 0.5  # clockwise polygons: the signed sum is negative
    x[flip] = x[flip, ::-1]
    y[flip] = y[flip, ::-1]
    return {"xs": x.astype(np.float32), "ys": y.astype(np.float32)}
