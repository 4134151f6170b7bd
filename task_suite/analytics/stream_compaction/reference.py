import numpy as np


def reference(x, threshold, n):
    kept = x[x > np.float32(threshold)]
    out = np.zeros(n, dtype=np.float32)
    out[: kept.size] = kept
    return out, np.array([kept.size], dtype=np.int32)


def generate(sizes, rng):
    n = sizes["n"]
    x = rng.standard_normal(n) * rng.choice([1.0, 100.0])
    coarse = rng.random(n) < 0.5
    x[coarse] = np.round(x[coarse] * 4.0) / 4.0  # many exact ties, also at the threshold
    x = (x + 0.0).astype(np.float32)
    # keep about 1 %, 50 % or 99 % of the values, all of them, or none
    kind = int(rng.integers(0, 5))
    if kind < 3:
        threshold = float(np.quantile(x, [0.99, 0.5, 0.01][kind], method="nearest"))
    elif kind == 3:
        threshold = float(x.min()) - 1.0
    else:
        threshold = float(x.max())
    return {"x": x, "threshold": float(np.float32(threshold))}


def check(inputs, expected, got):
    n = int(inputs["n"])
    count = got["count"]
    if count.shape != (1,):
        return f"count: shape {count.shape}, expected (1,)"
    want = int(expected["count"][0])
    if int(count[0]) != want:
        return f"count: expected {want} kept values, got {int(count[0])}"
    out = got["out"]
    if out.shape != (n,):
        return f"out: shape {out.shape}, expected ({n},)"
    a, b = expected["out"][:want], out[:want]
    bad = np.nonzero(~((a == b) & (np.signbit(a) == np.signbit(b))))[0]
    if bad.size:
        k = int(bad[0])
        return (f"out: {bad.size} of the {want} kept values differ (order matters); first at [{k}]: expected "
                f"{a[k]!r}, got {b[k]!r}")
    return None
