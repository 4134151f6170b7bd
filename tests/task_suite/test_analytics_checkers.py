"""Custom checkers of analytics tasks: valid alternatives pass, wrong answers are named."""

import numpy as np
import pytest
from helpers.checker_support import call_check, case_for, load

from pytest_cudabench.tasks import inputs


def copy(expected):
    return {k: v.copy() for k, v in expected.items()}


@pytest.fixture(scope="module")
def compaction():
    return load("analytics/stream_compaction")


@pytest.fixture(scope="module")
def rle():
    return load("analytics/run_length_encoding")


def compaction_case(task, kept_at_least=3):
    for seed in range(50):
        case = case_for(task, {"n": 500}, seed)
        if kept_at_least <= int(case.expected["count"][0]) < 500:
            return case
    raise AssertionError("no case keeps a part of the values")


def test_compaction_reference_and_any_tail_pass(compaction):
    case = compaction_case(compaction)
    assert call_check(compaction, case, copy(case.expected)) is None
    got = copy(case.expected)
    count = int(got["count"][0])
    got["out"][count:] = np.float32(np.nan)  # whatever lies beyond count is not checked
    assert call_check(compaction, case, got) is None


def test_compaction_rejects_wrong_count_order_and_values(compaction):
    case = compaction_case(compaction)
    count = int(case.expected["count"][0])
    got = copy(case.expected)
    got["count"][0] += 1
    assert "count" in call_check(compaction, case, got)
    got = copy(case.expected)
    kept = got["out"][:count]
    first_diff = int(np.nonzero(kept != kept[0])[0][0])  # a value different from the first: swapping changes order
    kept[[0, first_diff]] = kept[[first_diff, 0]]
    assert "order" in call_check(compaction, case, got)
    got = copy(case.expected)
    got["out"][count - 1] = np.float32(inputs_threshold(case)) - 1  # a dropped value in place of a kept one
    assert "out" in call_check(compaction, case, got)


def inputs_threshold(case):
    return case.scalars["threshold"]


def test_compaction_rejects_unordered_append(compaction):
    case = compaction_case(compaction, kept_at_least=10)
    count = int(case.expected["count"][0])
    got = copy(case.expected)
    got["out"][:count] = np.sort(got["out"][:count])  # the set is right, the order is not (atomic append)
    if np.array_equal(got["out"][:count], case.expected["out"][:count]):
        pytest.skip("kept values happen to be sorted")
    assert "order" in call_check(compaction, case, got)


def test_rle_reference_and_any_tail_pass(rle):
    case = case_for(rle, {"n": 400}, seed=1)
    assert call_check(rle, case, copy(case.expected)) is None
    got = copy(case.expected)
    runs = int(got["num_runs"][0])
    assert runs < 400
    got["values"][runs:] = -7
    got["lengths"][runs:] = 123
    assert call_check(rle, case, got) is None


def test_rle_rejects_wrong_counts_lengths_and_unmerged_runs(rle):
    x = np.array([5, 5, 3, 3, 3, 5, 7, 7], dtype=np.int32)
    case = inputs.Case(index=0, sizes={"n": 8}, arrays={"x": x, "values": np.zeros(8, np.int32),
                       "lengths": np.zeros(8, np.int32), "num_runs": np.zeros(1, np.int32)}, scalars={"n": 8})
    inputs.expect(rle, case)
    assert case.expected["num_runs"].tolist() == [4]
    assert case.expected["values"][:4].tolist() == [5, 3, 5, 7]
    assert case.expected["lengths"][:4].tolist() == [2, 3, 1, 2]
    got = copy(case.expected)
    got["num_runs"][0] = 3
    assert "num_runs" in call_check(rle, case, got)
    got = copy(case.expected)
    got["lengths"][1] = 2
    assert "lengths" in call_check(rle, case, got)
    got = copy(case.expected)
    got["values"][[0, 2]] = got["values"][[2, 0]]
    got["values"][1] = 4
    assert "values" in call_check(rle, case, got)
    # a run split in two is not maximal: 5 runs instead of 4
    split = {"values": np.array([5, 5, 3, 5, 7, 0, 0, 0], np.int32), "lengths": np.array([1, 1, 3, 1, 2, 0, 0, 0], np.int32),
             "num_runs": np.array([5], np.int32)}
    assert "num_runs" in call_check(rle, case, split)
