import numpy as np


def reference(offsets, indices, num_vertices, num_edges):
    parent = np.arange(num_vertices)

    def find(v):
        root = v
        while parent[root] != root:
            root = parent[root]
        while parent[v] != root:
            parent[v], v = root, parent[v]
        return root

    src = np.repeat(np.arange(num_vertices), np.diff(offsets.astype(np.int64)))
    for u, v in zip(src.tolist(), indices.tolist()):
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[max(ru, rv)] = min(ru, rv)  # roots stay the smallest ids
    return np.array([find(v) for v in range(num_vertices)], dtype=np.int32)


def generate(sizes, rng):
    v, e = sizes["num_vertices"], sizes["num_edges"]
    half = e // 2
    # components of very different sizes over a random permutation of the ids: some long paths (many propagation
    # rounds), some dense random pieces, isolated vertices; the smallest id of a component sits anywhere in it
    perm = rng.permutation(v)
    cuts = np.sort(rng.choice(np.arange(1, v), size=min(v - 1, int(rng.integers(0, 12))), replace=False)) if v > 1 else []
    pieces = np.split(perm, cuts)
    us, vs = [], []
    budget = half
    for piece in pieces:
        if piece.size < 2 or budget <= 0:
            continue
        path = piece[:-1], piece[1:]  # a path through the piece keeps it connected
        take = min(budget, piece.size - 1)
        us.append(path[0][:take])
        vs.append(path[1][:take])
        budget -= take
    extra = budget
    if extra > 0:
        # extra edges inside pieces (never between them), mostly between path neighbours a few steps apart
        owner = np.repeat(np.arange(len(pieces)), [p.size for p in pieces])
        position = np.concatenate([np.arange(p.size) for p in pieces])
        flat = np.concatenate(pieces)
        a = rng.integers(0, v, size=extra)
        piece_of = owner[a]
        size_of = np.array([p.size for p in pieces])[piece_of]
        step = rng.integers(-3, 4, size=extra)
        b_pos = np.clip(position[a] + step, 0, size_of - 1)
        start = np.concatenate([[0], np.cumsum([p.size for p in pieces])[:-1]])[piece_of]
        us.append(flat[a])
        vs.append(flat[start + b_pos])
    u = np.concatenate(us) if us else np.zeros(0, np.int64)
    w = np.concatenate(vs) if vs else np.zeros(0, np.int64)
    src = np.concatenate([u, w])
    dst = np.concatenate([w, u])
    if e % 2 == 1:  # an odd count: one self-loop, listed once
        loop = int(rng.integers(0, v))
        src = np.concatenate([src, [loop]])
        dst = np.concatenate([dst, [loop]])
    while src.size < e:  # pieces too small to hold the edges: pad with self-loop pairs
        loop = int(rng.integers(0, v))
        src = np.concatenate([src, [loop, loop]])
        dst = np.concatenate([dst, [loop, loop]])
    order = np.argsort(src, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=v))])
    return {"offsets": offsets.astype(np.int32), "indices": dst[order].astype(np.int32)}
