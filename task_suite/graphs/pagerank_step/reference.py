import numpy as np


def reference(in_offsets, in_sources, out_degree, rank, damping, num_vertices, num_edges):
    d = float(np.float32(damping))
    r = rank.astype(np.float64)
    deg = out_degree.astype(np.float64)
    dangling = r[out_degree == 0].sum()
    contrib = np.where(out_degree > 0, r / np.maximum(deg, 1.0), 0.0)
    target = np.repeat(np.arange(num_vertices), np.diff(in_offsets.astype(np.int64)))
    pulled = np.bincount(target, weights=contrib[in_sources], minlength=num_vertices)
    return ((1.0 - d) / num_vertices + d * (pulled + dangling / num_vertices)).astype(np.float32)


def generate(sizes, rng):
    v, e = sizes["num_vertices"], sizes["num_edges"]
    # sources: heavy-tailed out-degrees with ~20 % dangling vertices; targets: a few hubs take a large share
    weights = rng.pareto(1.5, size=v) + 1e-2
    weights[rng.random(v) < 0.2] = 0.0
    if weights.sum() == 0:
        weights[0] = 1.0
    src = np.repeat(np.arange(v), rng.multinomial(e, weights / weights.sum()))
    tw = rng.pareto(1.0, size=v) + 1e-2
    dst = rng.choice(v, size=e, p=tw / tw.sum())
    order = np.argsort(dst, kind="stable")
    in_offsets = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=v))])
    rank = rng.uniform(0.1, 1.0, size=v)
    rank /= rank.sum()
    return {"in_offsets": in_offsets.astype(np.int32), "in_sources": src[order].astype(np.int32),
            "out_degree": np.bincount(src, minlength=v).astype(np.int32), "rank": rank.astype(np.float32),
            "damping": float(np.float32(rng.choice([0.85, 0.5, 0.99])))}
