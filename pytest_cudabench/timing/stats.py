"""Sample statistics and the stopping rule for timing loops.

The stopping rule (when to stop sampling, which samples to trust) lives here, apart from what is measured
(measure.py), as in nvbench: the timing loop only feeds samples to a `StoppingRule` and asks `done`. Its numbers
come from the measurement policy (policy.py).

Choices, and why:
- Quantiles use numpy's default linear interpolation (Hyndman-Fan type 7), so they match `numpy.percentile`.
- Relative standard error of the median = 1.2533 * stdev / sqrt(n) / median. 1.2533 = sqrt(pi/2) is the asymptotic
  efficiency factor of the median for normal data. It is closed-form and deterministic (a bootstrap would need
  a seed and cost O(n * resamples) on every check), and it is computed after outliers are dropped, where timing
  samples are close enough to normal for the factor to hold.
- Outliers: Tukey fences with k = 3 ("far out"): keep q1 - 3*IQR <= x <= q3 + 3*IQR. The IQR is floored at 1 % of the
  median, because CUDA event timers are quantised (0.5 us) and a run of identical samples has IQR 0, which would
  otherwise throw away every sample one tick away from the mode.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from .policy import DEFAULT_POLICY, MeasurementPolicy

MEDIAN_SE_FACTOR = math.sqrt(math.pi / 2)  # 1.2533...
TUKEY_K = 3.0
IQR_FLOOR_REL = 0.01


def quantiles(samples: Sequence[float]) -> tuple[float, float, float]:
    """(q1, median, q3) with linear interpolation."""
    q1, med, q3 = np.percentile(np.asarray(samples, dtype=float), [25, 50, 75])
    return float(q1), float(med), float(q3)


def tukey_filter(samples: Sequence[float], k: float = TUKEY_K) -> tuple[list[float], int]:
    """Samples inside the Tukey fences (order kept) and the number dropped. Fewer than 4 samples: nothing is dropped,
    since quartiles of 1-3 points say nothing about outliers."""
    values = [float(x) for x in samples]
    if len(values) < 4:
        return values, 0
    q1, med, q3 = quantiles(values)
    spread = max(q3 - q1, IQR_FLOOR_REL * abs(med))
    lo, hi = q1 - k * spread, q3 + k * spread
    kept = [x for x in values if lo <= x <= hi]
    return kept, len(values) - len(kept)


def rel_se_median(samples: Sequence[float]) -> float:
    """Relative standard error of the median (see module docstring); inf when it cannot be estimated."""
    n = len(samples)
    if n < 2:
        return math.inf
    arr = np.asarray(samples, dtype=float)
    med = float(np.median(arr))
    if med == 0:
        return math.inf
    return float(MEDIAN_SE_FACTOR * arr.std(ddof=1) / math.sqrt(n) / abs(med))


def summarize(samples: Iterable[float], *, drop_outliers: bool = True) -> dict:
    """Plain-dict summary of timing samples in seconds.

    Keys: median_s, q1_s, q3_s, iqr_s (= q3 - q1), min_s, max_s, mean_s, stddev_s (sample stdev, ddof=1),
    n (samples kept), n_raw (samples given), outliers_dropped, rel_se (of the median; None when not estimable).
    All statistics are over the kept samples. Empty input gives n = 0 and None for every statistic.
    """
    raw = [float(x) for x in samples]
    kept, dropped = tukey_filter(raw) if drop_outliers else (raw, 0)
    out: dict = {"n": len(kept), "n_raw": len(raw), "outliers_dropped": dropped}
    if not kept:
        for key in ("median_s", "q1_s", "q3_s", "iqr_s", "min_s", "max_s", "mean_s", "stddev_s", "rel_se"):
            out[key] = None
        return out
    arr = np.asarray(kept, dtype=float)
    q1, med, q3 = quantiles(kept)
    rse = rel_se_median(kept)
    out.update(
        median_s=med,
        q1_s=q1,
        q3_s=q3,
        iqr_s=q3 - q1,
        min_s=float(arr.min()),
        max_s=float(arr.max()),
        mean_s=float(arr.mean()),
        stddev_s=float(arr.std(ddof=1)) if len(kept) > 1 else 0.0,
        rel_se=None if math.isinf(rse) else rse,
    )
    return out


def relative_difference(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|): symmetric and bounded in [0, 1] (so never inf in JSON); 0 when both are 0.
    0.5 means the larger is twice the smaller."""
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


class StoppingRule:
    """Decides when a timing loop has enough samples.

    Done when either
    - converged: at least `min_samples` samples, at least `min_time_s` of accumulated sample time, and the relative
      standard error of the median (after Tukey filtering) at most `rel_se_target`; or
    - capped: `max_time_s` of elapsed time spent, or `max_samples` samples taken.

    `add(sample_s, cost_s=None)`: `cost_s` is the wall time this sample really cost (flushes, syncs, launch overhead);
    it counts against `max_time_s` so the cap bounds real time, while `min_time_s` counts measured time only, like
    nvbench's --min-time. It defaults to `sample_s`.
    The convergence test re-sorts the samples, so after the minimums are met it runs on every sample while n < 100
    and then every n // 50 samples, keeping a long loop of tiny kernels O(n log n) overall.
    """

    def __init__(
        self,
        rel_se_target: float = DEFAULT_POLICY.rel_se_target,
        min_samples: int = DEFAULT_POLICY.min_samples,
        min_time_s: float = DEFAULT_POLICY.min_time_s,
        max_time_s: float = DEFAULT_POLICY.item_cap_s,
        max_samples: int = DEFAULT_POLICY.max_samples,
    ):
        self.rel_se_target = rel_se_target
        self.min_samples = min_samples
        self.min_time_s = min_time_s
        self.max_time_s = max_time_s
        self.max_samples = max_samples
        self.samples: list[float] = []
        self.total_time_s = 0.0
        self.elapsed_s = 0.0
        self._converged = False
        self._next_check = 0

    def add(self, sample_s: float, cost_s: float | None = None) -> None:
        self.samples.append(float(sample_s))
        self.total_time_s += float(sample_s)
        self.elapsed_s += float(sample_s if cost_s is None else cost_s)
        n = len(self.samples)
        if self._converged or n < self.min_samples or self.total_time_s < self.min_time_s or n < self._next_check:
            return
        kept, _ = tukey_filter(self.samples)
        self._converged = len(kept) >= self.min_samples and rel_se_median(kept) <= self.rel_se_target
        self._next_check = n + (1 if n < 100 else n // 50)

    @classmethod
    def of(cls, policy: MeasurementPolicy, max_time_s: float) -> StoppingRule:
        """The policy's stopping criterion, capped at `max_time_s` of elapsed time."""
        return cls(rel_se_target=policy.rel_se_target, min_samples=policy.min_samples, min_time_s=policy.min_time_s,
                   max_time_s=max_time_s, max_samples=policy.max_samples)

    @property
    def converged(self) -> bool:
        return self._converged

    @property
    def capped(self) -> bool:
        return self.elapsed_s >= self.max_time_s or len(self.samples) >= self.max_samples

    @property
    def done(self) -> bool:
        return self._converged or self.capped

    def summary(self) -> dict:
        """`summarize()` of the samples plus: converged (bool), total_time_s (sum of samples), elapsed_s (sum of
        costs), rel_se_target."""
        out = summarize(self.samples)
        out.update(
            converged=self._converged,
            total_time_s=self.total_time_s,
            elapsed_s=self.elapsed_s,
            rel_se_target=self.rel_se_target,
        )
        return out
