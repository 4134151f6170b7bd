"""The package's averages of measured values (speedups, times, gains), one definition each."""

from __future__ import annotations

import math
from collections.abc import Iterable


def geomean(values: Iterable[float | None]) -> float | None:
    """Geometric mean of the positive numbers among `values`; None, zero, negatives and non-numbers are left out
    (a speedup or time that was not measured). None when no value is left."""
    kept = [float(v) for v in values if isinstance(v, (int, float)) and v > 0]
    return math.exp(sum(math.log(v) for v in kept) / len(kept)) if kept else None


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    kept = list(values)
    return sum(kept) / len(kept) if kept else None
