import numpy as np


def reference(x, rows, n):
    p = np.pad(x, ((0, 0), (2, 2)), mode="edge")
    windows = np.stack([p[:, k:k + n] for k in range(5)], axis=0)
    return np.sort(windows, axis=0)[2].astype(np.float32)


def generate(sizes, rng):
    rows, n = sizes["rows"], sizes["n"]
    # a smooth signal with impulse noise (what median filters are for) and repeated values (ties)
    t = np.arange(n)[None, :]
    x = np.sin(t / 17.0 + rng.uniform(0, 6, (rows, 1)))
    spikes = rng.random((rows, n)) < 0.1
    x[spikes] = rng.choice([-5.0, 5.0], size=int(spikes.sum()))
    x = np.round(x * 64) / 64  # quantized: many equal values
    return {"x": x.astype(np.float32)}
