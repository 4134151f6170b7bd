import zlib

import numpy as np


def reference(data, num, len):
    return np.array([zlib.crc32(row.tobytes()) for row in data], dtype=np.uint32)


def generate(sizes, rng):
    num, length = sizes["num"], sizes["len"]
    data = rng.integers(0, 256, size=(num, length), dtype=np.uint8)
    # some all-zero and all-0xFF records (the initial value and final xor matter there), and records differing from
    # their neighbour in one bit
    data[rng.random(num) < 0.05] = 0
    data[rng.random(num) < 0.05] = 255
    for r in np.nonzero(rng.random(num) < 0.1)[0]:
        if r > 0:
            data[r] = data[r - 1]
            data[r, rng.integers(0, length)] ^= np.uint8(1 << int(rng.integers(0, 8)))
    return {"data": data}
