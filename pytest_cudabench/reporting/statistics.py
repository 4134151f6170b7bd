"""Intervals and tests for comparing models: Wilson intervals, exact McNemar, Holm, a cluster bootstrap over tasks.

Plain numbers in, plain numbers out (numpy and the standard library only). Why these, in short (the long version
is the shared note on statistics):
- a rate over n items gets the Wilson score interval: right at 0 % and 100 % and for small n, where p ± 1.96·se
  leaves [0, 1] or has zero width;
- two models judged on the same items are paired: exact McNemar on the discordant items (concordant ones carry no
  information about the difference), p = min(1, 2 · P[X <= min(b, c)]), X ~ Binomial(b + c, 1/2), summed exactly
  with integers;
- items of one task are correlated (a model that cannot do a radix sort fails all its levels), so what resamples
  resamples tasks (a cluster bootstrap), never items; numpy's Generator with a seed the output records;
- m(m-1)/2 pairs are many tests: Holm's step-down adjustment keeps the family-wise error at alpha.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from statistics import NormalDist

import numpy as np

CONFIDENCE = 0.95
ALPHA = 0.05
BOOTSTRAP_SEED = 20261207  # the default; every output that uses it records it
BOOTSTRAP_RESAMPLES = 4000

Interval = tuple[float, float]


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval | None:
    """Wilson score interval of the rate successes / n; None when n is 0 (nothing judged, no interval)."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # at 0 and n the exact bound is 0 or 1; floating point may miss it by an ulp
    return (0.0 if successes == 0 else max(0.0, centre - half), 1.0 if successes == n else min(1.0, centre + half))


def binomial_cdf_half(k: int, n: int) -> float:
    """P[X <= k] for X ~ Binomial(n, 1/2), exact: integer binomial coefficients over 2**n (no underflow at any n)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts: items only A got right, items only B got right.
    1.0 when there is no discordant item (no evidence either way)."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    return min(1.0, 2 * binomial_cdf_half(min(only_a, only_b), n))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given: sorted ascending, the i-th (from 0) is multiplied by
    m - i, kept monotone and capped at 1. A hypothesis is rejected at alpha when its adjusted p-value <= alpha,
    which is Holm's procedure (compare the i-th smallest with alpha / (m - i), stop at the first that fails)."""
    m = len(p_values)
    adjusted = [1.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


@lru_cache(maxsize=32)
def _draw_weights(n_clusters: int, seed: int, resamples: int) -> np.ndarray:
    """How often each cluster is drawn in each resample (resamples x n_clusters): n_clusters draws with replacement
    are one multinomial. Cached, read-only: statistics over the same number of clusters share their draws."""
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=resamples).astype(float)
    weights.flags.writeable = False
    return weights


def bootstrap_means(clusters: Sequence[Sequence[float]], seed: int = BOOTSTRAP_SEED,
                    resamples: int = BOOTSTRAP_RESAMPLES) -> np.ndarray | None:
    """Cluster bootstrap of a mean over items: resample clusters (tasks) with replacement, `resamples` times, and
    take the mean over all items of the drawn clusters (so a task with more items weighs more, as in the point
    estimate). Draws whose clusters hold no item are dropped. None when no cluster holds an item."""
    sums = np.array([float(sum(values)) for values in clusters])
    counts = np.array([len(values) for values in clusters], dtype=float)
    if not len(clusters) or counts.sum() == 0:
        return None
    weights = _draw_weights(len(clusters), seed, resamples)
    # einsum, not `@`: a multithreaded BLAS on a busy machine makes this small product 50x slower
    drawn_counts = np.einsum("ij,j->i", weights, counts)
    kept = drawn_counts > 0
    return np.asarray(np.einsum("ij,j->i", weights, sums)[kept] / drawn_counts[kept])


def percentile_interval(means: np.ndarray | None, confidence: float = CONFIDENCE) -> Interval | None:
    if means is None or not len(means):
        return None
    low, high = np.percentile(means, [50 * (1 - confidence), 50 * (1 + confidence)])
    return float(low), float(high)


def bootstrap_interval(clusters: Sequence[Sequence[float]], seed: int = BOOTSTRAP_SEED,
                       resamples: int = BOOTSTRAP_RESAMPLES, confidence: float = CONFIDENCE) -> Interval | None:
    """Percentile interval of a mean over items from a bootstrap over clusters (see `bootstrap_means`)."""
    return percentile_interval(bootstrap_means(clusters, seed, resamples), confidence)


def bootstrap_p_value(means: np.ndarray | None) -> float | None:
    """Two-sided bootstrap p-value that a mean difference is 0: twice the smaller share of resampled means on
    either side of 0, counted as (k + 1) / (B + 1) so that it is never 0 (B resamples cannot show less than
    1 / (B + 1)), capped at 1."""
    if means is None or not len(means):
        return None
    beyond = min(int(np.sum(means <= 0)), int(np.sum(means >= 0)))
    return min(1.0, 2 * (beyond + 1) / (len(means) + 1))
