import numpy as np

_REV8 = np.array([int(f"{b:08b}"[::-1], 2) for b in range(256)], dtype=np.uint32)


def reference(x, n):
    b = x.astype(np.uint32)
    r = (_REV8[b & 0xFF] << 24) | (_REV8[(b >> 8) & 0xFF] << 16) | (_REV8[(b >> 16) & 0xFF] << 8) | _REV8[b >> 24]
    return r.astype(np.uint32)


def generate(sizes, rng):
    n = sizes["n"]
    x = rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
    # single bits (palindromes are rare, so an identity answer fails) and the high bit, which signed shifts break
    single = rng.random(n) < 0.1
    x[single] = (np.uint32(1) << rng.integers(0, 32, size=int(single.sum())).astype(np.uint32))
    x[rng.random(n) < 0.05] = 0x80000000
    return {"x": x}
