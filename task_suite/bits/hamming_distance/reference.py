import numpy as np


def reference(db, q, n, w):
    x = np.bitwise_xor(db, q[None, :]).astype(np.uint32)
    bits = np.unpackbits(x.view(np.uint8).reshape(n, 4 * w), axis=1)
    return bits.sum(axis=1).astype(np.int32)


def generate(sizes, rng):
    n, w = sizes["n"], sizes["w"]
    q = rng.integers(0, 2**32, size=w, dtype=np.uint64).astype(np.uint32)
    db = rng.integers(0, 2**32, size=(n, w), dtype=np.uint64).astype(np.uint32)
    # exact matches (distance 0), complements (distance 32 w) and near neighbours (a few flipped bits)
    kind = rng.integers(0, 8, size=n)
    db[kind == 0] = q
    db[kind == 1] = ~q
    near = np.nonzero(kind == 2)[0]
    db[near] = q
    for _ in range(3):
        words = rng.integers(0, w, size=near.size)
        db[near, words] ^= (np.uint32(1) << rng.integers(0, 32, size=near.size).astype(np.uint32))
    return {"db": db, "q": q}
