import numpy as np

_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def reference(data, n):
    out = np.empty(2 * n, dtype=np.uint8)
    out[0::2] = _DIGITS[data >> 4]
    out[1::2] = _DIGITS[data & 15]
    return out
