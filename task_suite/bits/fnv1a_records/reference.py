import numpy as np


def reference(data, num, len):
    h = np.full(num, 2166136261, dtype=np.uint64)
    for j in range(data.shape[1]):
        h = ((h ^ data[:, j].astype(np.uint64)) * np.uint64(16777619)) & np.uint64(0xFFFFFFFF)
    return h.astype(np.uint32)


def generate(sizes, rng):
    num, length = sizes["num"], sizes["len"]
    data = rng.integers(0, 256, size=(num, length), dtype=np.uint8)
    # ASCII-like records, all-zero records, and near-duplicates of the previous record
    text = rng.random(num) < 0.3
    data[text] = rng.integers(32, 127, size=(int(text.sum()), length), dtype=np.uint8)
    data[rng.random(num) < 0.05] = 0
    for r in np.nonzero(rng.random(num) < 0.1)[0]:
        if r > 0:
            data[r] = data[r - 1]
            data[r, rng.integers(0, length)] ^= np.uint8(1 << int(rng.integers(0, 8)))
    return {"data": data}
