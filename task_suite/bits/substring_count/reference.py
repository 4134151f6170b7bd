import numpy as np


def reference(text, pattern, n, m):
    windows = np.lib.stride_tricks.sliding_window_view(text, m)
    return np.array([int(np.all(windows == pattern[None, :], axis=1).sum())], dtype=np.int32)


def generate(sizes, rng):
    n, m = sizes["n"], sizes["m"]
    # a small alphabet makes matches and near-matches frequent; a periodic pattern ("abab", "aaaa") overlaps itself
    alphabet = np.frombuffer(rng.choice([b"ab", b"abc", b"acgt"]), dtype=np.uint8)
    text = alphabet[rng.integers(0, alphabet.size, size=n)]
    kind = int(rng.integers(0, 3))
    if kind == 0:
        start = int(rng.integers(0, n - m + 1))
        pattern = text[start:start + m].copy()
    else:
        period = int(rng.integers(1, 3))
        unit = alphabet[rng.integers(0, alphabet.size, size=period)]
        pattern = np.resize(unit, m)
        # plant repeats of the pattern's unit so overlapping matches occur
        for _ in range(max(1, n // (20 * m + 20))):
            start = int(rng.integers(0, n - m + 1))
            length = min(n - start, int(rng.integers(m, 3 * m + 1)))
            text[start:start + length] = np.resize(unit, length)
    if rng.random() < 0.1:  # a byte that never occurs: no match at all
        pattern = pattern.copy()
        pattern[-1] = 0
    return {"text": text.astype(np.uint8), "pattern": pattern.astype(np.uint8)}
