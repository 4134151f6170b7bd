"""Shared helpers of the checker tests: load a built-in task, make a case with its expected outputs, call check()."""

from pathlib import Path

import numpy as np

from pytest_cudabench.tasks import inputs
from pytest_cudabench.tasks.loader import load_task

SUITE = Path(__file__).resolve().parents[2] / "task_suite"


def load(task_id):
    return load_task(SUITE / task_id, SUITE)


def case_for(task, sizes, seed=0):
    case = inputs.make_case(task, task.sizes.complete(sizes), np.random.default_rng(seed))
    inputs.expect(task, case)
    return case


def call_check(task, case, got):
    return task.check(inputs.reference_kwargs(task, case), {k: v.copy() for k, v in case.expected.items()}, got)
