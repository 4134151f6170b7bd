import numpy as np


def reference(k_cache, v_cache, k_new, v_new, lengths, B, H, S, D, T):
    k, v = k_cache.copy(), v_cache.copy()
    for b in range(B):
        start = int(lengths[b])
        k[b, :, start:start + T, :] = k_new[b]
        v[b, :, start:start + T, :] = v_new[b]
    return k, v


def generate(sizes, rng):
    B, T, S = sizes["B"], sizes["T"], sizes["S"]
    # Every sequence at its own fill level, including empty and full-after-append caches.
    lengths = rng.integers(0, S - T, size=B, endpoint=True)
    if B >= 3:
        lengths[0] = S - T
        lengths[-1] = 0
    return {"lengths": lengths.astype(np.int32)}
