import json
import math

import numpy as np
import pytest

from pytest_cudabench.timing.stats import (
    StoppingRule,
    quantiles,
    rel_se_median,
    relative_difference,
    summarize,
    tukey_filter,
)


def test_quantiles_hand_computed():
    # Linear interpolation on sorted [1,2,3,4,5,6,7,8]: q1 at position 1.75 -> 2.75, median 4.5, q3 at 5.25 -> 6.25.
    assert quantiles([8, 1, 7, 2, 6, 3, 5, 4]) == (2.75, 4.5, 6.25)
    assert quantiles([3, 1, 2]) == (1.5, 2.0, 2.5)


def test_summary_hand_computed():
    s = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert s["median_s"] == 3.0
    assert (s["q1_s"], s["q3_s"], s["iqr_s"]) == (2.0, 4.0, 2.0)
    assert (s["min_s"], s["max_s"], s["mean_s"]) == (1.0, 5.0, 3.0)
    assert s["stddev_s"] == pytest.approx(math.sqrt(2.5))
    assert s["rel_se"] == pytest.approx(1.2533141 * math.sqrt(2.5) / math.sqrt(5) / 3.0)
    assert s["n"] == 5 and s["outliers_dropped"] == 0
    json.dumps(s)


def test_summary_empty_and_single():
    assert summarize([])["median_s"] is None
    one = summarize([2e-3])
    assert one["median_s"] == 2e-3 and one["stddev_s"] == 0.0 and one["rel_se"] is None


def test_tukey_drops_far_outliers_only():
    base = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.02, 0.98]
    kept, dropped = tukey_filter(base + [50.0, 0.001])
    assert dropped == 2 and sorted(kept) == sorted(base)
    # Quantised timer: identical samples and one a tick away are all kept (IQR floor).
    kept, dropped = tukey_filter([1.0] * 20 + [1.005])
    assert dropped == 0


def test_relative_difference():
    assert relative_difference(1.0, 2.0) == 0.5
    assert relative_difference(2.0, 1.0) == 0.5
    assert relative_difference(0.0, 0.0) == 0.0
    assert relative_difference(0.0, 3.0) == 1.0


def test_constant_samples_converge_at_min_samples():
    rule = StoppingRule(rel_se_target=0.01, min_samples=10, min_time_s=0.1, max_time_s=3.0)
    n = 0
    while not rule.done:
        rule.add(0.02)
        n += 1
    assert n == 10 and rule.converged


def test_min_time_keeps_sampling_short_kernels():
    rule = StoppingRule(min_samples=10, min_time_s=1e-3, max_time_s=3.0)
    n = 0
    while not rule.done:
        rule.add(1e-5)
        n += 1
    assert n == 100 and rule.converged  # 100 x 10 us reach the 1 ms minimum


def test_noisy_lognormal_stops_at_cap_unconverged():
    rng = np.random.default_rng(0)
    rule = StoppingRule(rel_se_target=1e-3, min_samples=10, min_time_s=0.1, max_time_s=3.0)
    while not rule.done:
        rule.add(float(1e-3 * rng.lognormal(0.0, 0.5)))
    assert not rule.converged and rule.capped
    s = rule.summary()
    assert s["converged"] is False and s["elapsed_s"] >= 3.0
    assert 2000 < s["n_raw"] < 4000


def test_cost_counts_against_cap():
    rule = StoppingRule(rel_se_target=0.0, min_samples=10, min_time_s=10.0, max_time_s=1.0)
    n = 0
    while not rule.done:
        rule.add(1e-6, cost_s=0.25)
        n += 1
    assert n == 4 and not rule.converged


def test_heavy_outliers_dropped_in_summary():
    rng = np.random.default_rng(1)
    rule = StoppingRule(rel_se_target=0.01, min_samples=10, min_time_s=0.0, max_time_s=10.0)
    for i in range(200):
        rule.add(float(1e-3 * (1 + 0.01 * rng.standard_normal())) if i % 20 else 0.05)
    s = rule.summary()
    assert s["outliers_dropped"] == 10
    assert s["max_s"] < 1.1e-3 and s["median_s"] == pytest.approx(1e-3, rel=0.01)
    assert rule.converged


def test_rel_se_inf_when_degenerate():
    assert math.isinf(rel_se_median([1.0]))
    assert math.isinf(rel_se_median([0.0, 0.0]))
