"""How much of its tolerance a passing answer used (reported per case, and warned about by validate)."""


import numpy as np
import pytest
from helpers.paths import SUITE

from pytest_cudabench.tasks.compare import compare_outputs, tolerance_used
from pytest_cudabench.tasks.loader import load_task


def test_tolerance_used_is_the_worst_element_relative_to_its_own_bound():
    task = load_task(SUITE / "basics" / "vector_add", SUITE)
    atol, rtol = task.outputs[0].tolerance(task.tolerance)
    expected = {"c": np.array([0.0, 100.0, np.nan, 1.0], np.float32)}
    got = {"c": np.array([0.5 * atol, 100.0 + 0.9 * (atol + rtol * 100.0), np.nan, 1.0], np.float32)}
    assert compare_outputs(task, expected, got, {}) is None
    assert tolerance_used(task, expected, got) == pytest.approx(0.9, rel=1e-2)  # float32 rounding near 100
    assert tolerance_used(task, expected, expected) == 0.0


def test_tolerance_used_is_none_for_integers_and_checkers():
    histogram = load_task(SUITE / "analytics" / "histogram", SUITE)
    counts = {a.name: np.arange(4, dtype=a.dtype.numpy) for a in histogram.outputs}
    assert tolerance_used(histogram, counts, counts) is None
    compaction = load_task(SUITE / "analytics" / "stream_compaction", SUITE)
    assert compaction.check is not None
    assert tolerance_used(compaction, {}, {}) is None
