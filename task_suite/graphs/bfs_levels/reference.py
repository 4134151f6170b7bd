import numpy as np


def reference(offsets, indices, source, num_vertices, num_edges):
    levels = np.full(num_vertices, -1, dtype=np.int32)
    levels[source] = 0
    src = np.repeat(np.arange(num_vertices), np.diff(offsets.astype(np.int64)))
    frontier = np.zeros(num_vertices, dtype=bool)
    frontier[source] = True
    depth = 0
    while frontier.any():
        reached = np.zeros(num_vertices, dtype=bool)
        reached[indices[frontier[src]]] = True
        frontier = reached & (levels == -1)
        depth += 1
        levels[frontier] = depth
    return levels


def generate(sizes, rng):
    offsets, indices, start = _directed_graph(sizes, rng)
    source = start if rng.random() < 0.9 else int(rng.integers(0, sizes["num_vertices"]))
    return {"offsets": offsets, "indices": indices, "source": source}


def _directed_graph(sizes, rng):
    """A directed multigraph with exactly num_edges edges and heavy-tailed out-degrees. Half of the cases are deep: a
    chain through a random permutation plus edges between near neighbours along it (with rare long jumps), so a
    traversal needs hundreds of rounds; the others are shallow random graphs with hub targets. Some vertices are
    unreachable. Returns (offsets, indices, a good source)."""
    v, e = sizes["num_vertices"], sizes["num_edges"]
    perm = rng.permutation(v)
    rank = np.empty(v, dtype=np.int64)
    rank[perm] = np.arange(v)
    deep = rng.random() < 0.5
    chain_len = min(v, e + 1, int(rng.integers(v // 2, v + 1))) if deep else 1
    chain_src, chain_dst = perm[: chain_len - 1], perm[1:chain_len]
    rest = e - chain_src.size
    weights = rng.pareto(1.5, size=v) + 1e-2
    weights[rng.random(v) < 0.2] = 0.0
    if weights.sum() == 0:
        weights[0] = 1.0
    src = np.repeat(np.arange(v), rng.multinomial(rest, weights / weights.sum()))
    if deep:
        dst = perm[np.clip(rank[src] + rng.integers(-3, 9, size=rest), 0, v - 1)]
        jump = rng.random(rest) < 0.002
        dst[jump] = rng.integers(0, v, size=int(jump.sum()))
    else:
        dst = rng.integers(0, v, size=rest)
        hubs = rng.integers(0, v, size=min(v, 3))
        to_hub = rng.random(rest) < 0.2
        dst[to_hub] = rng.choice(hubs, size=int(to_hub.sum()))
    src = np.concatenate([src, chain_src]).astype(np.int64)
    dst = np.concatenate([dst, chain_dst]).astype(np.int64)
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=v))])
    start = int(perm[0])
    if not deep and rng.random() < 0.9 and src.size:
        start = int(src[rng.integers(0, src.size)])  # a vertex with out-edges
    return offsets.astype(np.int32), dst.astype(np.int32), start


def work(offsets, indices, source, num_vertices, num_edges):
    """Minimum work on this very input (scores use it; the task.toml formulas model a full traversal): the edges
    of the vertices reachable from source are inspected, their CSR rows read once, and the output written whole.
    The source may reach one vertex or the whole graph, which no formula over the sizes can know."""
    reached = _reached(offsets, indices, source, num_vertices)
    vertices = int(reached.sum())
    edges = int(np.diff(offsets.astype(np.int64))[reached].sum())
    return 1 * edges, 4 * vertices + 4 + 4 * edges + 4 * num_vertices


def _reached(offsets, indices, source, num_vertices):
    """Vertices reachable from source, level by level over the frontier's own edges only (fast at 1 GB scales)."""
    off = offsets.astype(np.int64)
    seen = np.zeros(num_vertices, dtype=bool)
    seen[source] = True
    frontier = np.array([source], dtype=np.int64)
    while frontier.size:
        starts, counts = off[frontier], off[frontier + 1] - off[frontier]
        total = int(counts.sum())
        if total == 0:
            break
        positions = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
        targets = indices[positions].astype(np.int64)
        frontier = np.unique(targets[~seen[targets]])
        seen[frontier] = True
    return seen
