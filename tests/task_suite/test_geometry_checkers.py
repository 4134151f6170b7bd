"""Custom checkers of geometry tasks: valid alternatives pass, wrong answers are named."""


import numpy as np
import pytest
from helpers.paths import SUITE

from pytest_cudabench.tasks import inputs
from pytest_cudabench.tasks.loader import load_task


@pytest.fixture(scope="module")
def centroid():
    return load_task(SUITE / "geometry/nearest_centroid", SUITE)


def make(task, points, centroids):
    n, dim = points.shape
    k = centroids.shape[0]
    sizes = {"n": n, "k": k, "dim": dim}
    case = inputs.Case(index=0, sizes=sizes, arrays={"points": points.astype(np.float32),
                       "centroids": centroids.astype(np.float32), "labels": np.zeros(n, np.int32)}, scalars=dict(sizes))
    inputs.expect(task, case)
    return case


def call_check(task, case, labels):
    return task.check(inputs.reference_kwargs(task, case), dict(case.expected), {"labels": np.asarray(labels, np.int32)})


def test_reference_answer_passes(centroid):
    case = inputs.make_case(centroid, centroid.sizes.complete({"n": 500, "k": 20, "dim": 3}), np.random.default_rng(2))
    inputs.expect(centroid, case)
    assert call_check(centroid, case, case.expected["labels"]) is None


def test_exact_tie_goes_to_the_smallest_index(centroid):
    # the point (0, 0) is at squared distance 1 from centroids 1 and 2; centroid 0 is farther
    case = make(centroid, np.array([[0.0, 0.0]]), np.array([[3.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    assert case.expected["labels"].tolist() == [1]
    assert call_check(centroid, case, [1]) is None
    assert "smaller index" in call_check(centroid, case, [2])
    assert "not the nearest" in call_check(centroid, case, [0])


def test_near_tie_within_float_rounding_may_go_either_way(centroid):
    c = np.array([[1.0, 0.0], [-1.0, 0.0]])
    p = np.array([[np.float32(1e-8), 0.5]])  # closer to centroid 0 by ~4e-8 in squared distance: a rounding-level tie
    case = make(centroid, p, c)
    assert case.expected["labels"].tolist() == [0]
    assert call_check(centroid, case, [0]) is None
    assert call_check(centroid, case, [1]) is None


def test_rejects_out_of_range_and_wrong_shape(centroid):
    case = make(centroid, np.array([[0.0], [5.0]]), np.array([[0.0], [4.0]]))
    assert case.expected["labels"].tolist() == [0, 1]
    assert "outside" in call_check(centroid, case, [0, 2])
    assert "outside" in call_check(centroid, case, [-1, 1])
    assert "shape" in call_check(centroid, case, [0])
    assert "not the nearest" in call_check(centroid, case, [1, 1])
