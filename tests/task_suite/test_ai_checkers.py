"""Custom checkers of ai tasks: valid alternatives pass, wrong answers are named."""

import numpy as np
import pytest
from helpers.checker_support import call_check, case_for, load

from pytest_cudabench.tasks import inputs


@pytest.fixture(scope="module")
def quantize():
    return load("ai/quantize_int8")


def test_quantize_reference_answer_passes(quantize):
    case = case_for(quantize, {"rows": 20, "cols": 300})
    assert call_check(quantize, case, dict(case.expected)) is None


def test_quantize_accepts_either_rounding_of_a_tie(quantize):
    task = quantize
    x = np.array([[127.0, 0.5, -2.5, 1.0]], dtype=np.float32)  # scale 1: 0.5 and -2.5 are exact ties
    case = inputs.Case(index=0, sizes={"rows": 1, "cols": 4}, arrays={"x": x, "q": np.zeros((1, 4), np.int8),
                       "scale": np.zeros(1, np.float32)}, scalars={"rows": 1, "cols": 4})
    inputs.expect(task, case)
    assert case.expected["q"].tolist() == [[127, 0, -2, 1]]  # halves to even
    away = {"q": np.array([[127, 1, -3, 1]], np.int8), "scale": case.expected["scale"].copy()}
    assert call_check(task, case, away) is None


def test_quantize_rejects_off_by_one_away_from_a_tie(quantize):
    case = case_for(quantize, {"rows": 8, "cols": 64}, seed=3)
    got = {k: v.copy() for k, v in case.expected.items()}
    x = case.arrays["x"].astype(np.float64) / case.expected["scale"].astype(np.float64)[:, None]
    frac = np.abs(x - np.floor(x) - 0.5)
    r, c = np.unravel_index(np.argmax(frac), frac.shape)  # the element farthest from a tie
    got["q"][r, c] = np.int8(got["q"][r, c] + (1 if got["q"][r, c] < 127 else -1))
    message = call_check(quantize, case, got)
    assert message and "q: 1 of" in message


def test_quantize_rejects_wrong_scale_and_nan(quantize):
    case = case_for(quantize, {"rows": 8, "cols": 64}, seed=4)
    got = {k: v.copy() for k, v in case.expected.items()}
    got["scale"][2] *= 1.001
    assert "scale" in call_check(quantize, case, got)
    got["scale"][2] = np.nan
    assert "scale" in call_check(quantize, case, got)


def test_quantize_rejects_unclamped_and_zero_row_mistakes(quantize):
    case = case_for(quantize, {"rows": 8, "cols": 64}, seed=5)
    got = {k: v.copy() for k, v in case.expected.items()}
    r = int(np.argmax(np.abs(case.arrays["x"]).max(axis=1)))
    c = int(np.argmax(np.abs(case.arrays["x"][r])))
    got["q"][r, c] = np.int8(-128)  # outside [-127, 127]
    assert "q:" in call_check(quantize, case, got)
    got = {k: v.copy() for k, v in case.expected.items()}
    got["scale"][4] = 0.0  # row 4 is the all-zero row: its scale must be 1
    assert np.all(case.arrays["x"][4] == 0)
    assert "scale" in call_check(quantize, case, got)
