import numpy as np


def reference(vx, vy, px, py, v, n):
    ax, ay = vx.astype(np.float64), vy.astype(np.float64)
    bx, by = np.roll(ax, -1), np.roll(ay, -1)
    x, y = px.astype(np.float64)[:, None], py.astype(np.float64)[:, None]
    inside = np.zeros(n, dtype=bool)
    for start in range(0, n, 2048):
        xs, ys = x[start:start + 2048], y[start:start + 2048]
        straddle = (ay > ys) != (by > ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = xs < ax + (ys - ay) * (bx - ax) / (by - ay)
        inside[start:start + 2048] = np.logical_and(straddle, cross).sum(axis=1) % 2 == 1
    return inside.astype(np.uint8)


def _edge_distance(x, y, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = np.clip(((x - ax) * dx + (y - ay) * dy) / np.maximum(dx * dx + dy * dy, 1e-300), 0.0, 1.0)
    return np.hypot(x - (ax + t * dx), y - (ay + t * dy)).min(axis=1)


def generate(sizes, rng):
    v, n = sizes["v"], sizes["n"]
    # a star-shaped, usually non-convex polygon around the origin: random radii at sorted distinct angles
    theta = np.sort(rng.uniform(0.0, 2.0 * np.pi, size=v))
    radius = rng.uniform(0.3, 1.0, size=v)
    vx = (radius * np.cos(theta)).astype(np.float32)
    vy = (radius * np.sin(theta)).astype(np.float32)
    if rng.random() < 0.5:
        vx, vy = vx[::-1].copy(), vy[::-1].copy()
    ax, ay = vx.astype(np.float64), vy.astype(np.float64)
    bx, by = np.roll(ax, -1), np.roll(ay, -1)
    px = np.empty(n, dtype=np.float32)
    py = np.empty(n, dtype=np.float32)
    filled = 0
    while filled < n:
        m = max(64, 2 * (n - filled))
        x = rng.uniform(-1.1, 1.1, size=m).astype(np.float32)
        y = rng.uniform(-1.1, 1.1, size=m).astype(np.float32)
        # a quarter of the points share a vertex's y: the ray passes through that vertex (half-open rule)
        on_vertex_row = rng.random(m) < 0.25
        y[on_vertex_row] = vy[rng.integers(0, v, size=int(on_vertex_row.sum()))]
        d = np.concatenate([_edge_distance(x[s:s + 1024, None].astype(np.float64), y[s:s + 1024, None].astype(np.float64),
                                           ax, ay, bx, by) for s in range(0, m, 1024)])
        keep = np.nonzero(d > 1e-4)[0][: n - filled]
        px[filled:filled + keep.size] = x[keep]
        py[filled:filled + keep.size] = y[keep]
        filled += keep.size
    return {"vx": vx, "vy": vy, "px": px, "py": py}
