import numpy as np


def reference(offsets, indices, frontier, levels, level, num_vertices, num_edges):
    src = np.repeat(np.arange(num_vertices), np.diff(offsets.astype(np.int64)))
    reached = np.zeros(num_vertices, dtype=bool)
    reached[indices[frontier[src] != 0]] = True
    new = reached & (levels == -1)
    out = levels.copy()
    out[new] = level + 1
    return out, new.astype(np.uint8)


def generate(sizes, rng):
    v, e = sizes["num_vertices"], sizes["num_edges"]
    weights = rng.pareto(1.5, size=v) + 1e-2  # skewed out-degrees
    counts = rng.multinomial(e, weights / weights.sum())
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = rng.integers(0, v, size=e)
    # a consistent BFS state: run a few levels from one or more sources, then the last level is the frontier
    levels = np.full(v, -1, dtype=np.int64)
    sources = rng.choice(v, size=min(v, int(rng.integers(1, 4))), replace=False)
    levels[sources] = 0
    frontier = np.zeros(v, dtype=bool)
    frontier[sources] = True
    depth = 0
    src = np.repeat(np.arange(v), counts)
    for _ in range(int(rng.integers(0, 4))):
        reached = np.zeros(v, dtype=bool)
        reached[indices[frontier[src]]] = True
        new = reached & (levels == -1)
        if not new.any():
            break
        depth += 1
        levels[new] = depth
        frontier = new
    return {"offsets": offsets.astype(np.int32), "indices": indices.astype(np.int32),
            "frontier": frontier.astype(np.uint8), "levels": levels.astype(np.int32), "level": depth}


def work(offsets, indices, frontier, levels, level, num_vertices, num_edges):
    """Minimum work on this very input (scores use it; the task.toml formulas model a frontier covering the graph):
    every frontier flag read and next written whole, the frontier's CSR rows read, the level of each distinct
    target read and each newly reached vertex's written. generate() grows frontiers from one vertex to thousands."""
    off = offsets.astype(np.int64)
    members = np.flatnonzero(frontier)
    starts, counts = off[members], off[members + 1] - off[members]
    total = int(counts.sum())
    positions = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
    targets = np.unique(indices[positions])
    new = int((levels[targets] == -1).sum())
    return total, 2 * num_vertices + 4 * members.size + 4 + 4 * total + 4 * targets.size + 4 * new
