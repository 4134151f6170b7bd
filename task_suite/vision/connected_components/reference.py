import numpy as np


def reference(img, height, width):
    fg = img.reshape(-1) != 0
    n = height * width
    parent = np.arange(n)

    def find(a):
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return root

    idx = np.arange(n).reshape(height, width)
    edges = []
    if width > 1:
        m = fg.reshape(height, width)[:, 1:] & fg.reshape(height, width)[:, :-1]
        edges.append(np.stack([idx[:, 1:][m], idx[:, :-1][m]], axis=1))
    if height > 1:
        m = fg.reshape(height, width)[1:, :] & fg.reshape(height, width)[:-1, :]
        edges.append(np.stack([idx[1:, :][m], idx[:-1, :][m]], axis=1))
    for a, b in (np.concatenate(edges) if edges else np.empty((0, 2), dtype=np.int64)):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the root is always the component's minimum index
    roots = np.array([find(i) for i in range(n)])
    return np.where(fg, roots + 1, 0).reshape(height, width).astype(np.int32)


def generate(sizes, rng):
    h, w = sizes["height"], sizes["width"]
    # smoothed noise thresholded near the percolation point: components of every size, winding shapes, holes
    noise = rng.random((h + 4, w + 4))
    smooth = sum(np.roll(np.roll(noise, dy, 0), dx, 1) for dy in range(-2, 3) for dx in range(-2, 3))[2:-2, 2:-2]
    thr = np.quantile(smooth, rng.uniform(0.35, 0.55)) if smooth.size > 1 else 0.5
    img = (smooth > thr).astype(np.uint8)
    # a serpentine path (one long component) in a corner region
    if h >= 6 and w >= 6:
        ph, pw = h // 2, w // 2
        img[:ph, :pw] = 0
        img[0:ph:2, 0:pw] = 1
        for r in range(1, ph, 2):
            img[r, (pw - 1) if (r // 2) % 2 == 0 else 0] = 1
    return {"img": img}
