import numpy as np


def reference(x, y, group, n, num_groups):
    bbox = np.empty((num_groups, 4), dtype=np.float32)
    bbox[:, :2] = np.inf
    bbox[:, 2:] = -np.inf
    g = group.astype(np.int64)
    np.minimum.at(bbox[:, 0], g, x)
    np.minimum.at(bbox[:, 1], g, y)
    np.maximum.at(bbox[:, 2], g, x)
    np.maximum.at(bbox[:, 3], g, y)
    return bbox


def generate(sizes, rng):
    n, num_groups = sizes["n"], sizes["num_groups"]
    # skewed group sizes (some groups empty), each group a cluster around its own centre, coordinates of both signs
    weights = rng.pareto(1.0, size=num_groups) + 1e-3
    weights[rng.random(num_groups) < 0.2] = 0.0
    if weights.sum() == 0:
        weights[0] = 1.0
    group = rng.choice(num_groups, size=n, p=weights / weights.sum())
    centres = rng.uniform(-1000.0, 1000.0, size=(num_groups, 2))
    scale = rng.uniform(0.01, 50.0, size=num_groups)
    x = centres[group, 0] + scale[group] * rng.standard_normal(n)
    y = centres[group, 1] + scale[group] * rng.standard_normal(n)
    return {"x": (x + 0.0).astype(np.float32), "y": (y + 0.0).astype(np.float32), "group": group.astype(np.int32)}
