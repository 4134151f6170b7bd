import numpy as np


def reference(offsets, indices, num_vertices, num_edges):
    out_deg = np.diff(offsets.astype(np.int64)).astype(np.int32)
    in_deg = np.bincount(indices, minlength=num_vertices).astype(np.int32)
    return out_deg, in_deg


def generate(sizes, rng):
    v, e = sizes["num_vertices"], sizes["num_edges"]
    # heavy-tailed out-degrees (many vertices without edges), hub targets, self-loops and repeated edges
    weights = rng.pareto(1.5, size=v) + 1e-3
    weights[rng.random(v) < 0.3] = 0.0
    if weights.sum() == 0:
        weights[0] = 1.0
    counts = rng.multinomial(e, weights / weights.sum())
    offsets = np.concatenate([[0], np.cumsum(counts)])
    targets = rng.integers(0, v, size=e)
    hubs = rng.integers(0, v, size=min(v, 4))
    to_hub = rng.random(e) < 0.3
    targets[to_hub] = rng.choice(hubs, size=int(to_hub.sum()))
    return {"offsets": offsets.astype(np.int32), "indices": targets.astype(np.int32)}
