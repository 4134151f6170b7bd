"""Shared helpers of the checker tests: load a built-in task, make a case with its expected outputs, call check()."""


import numpy as np

from helpers.paths import SUITE
from pytest_cudabench.tasks import inputs
from pytest_cudabench.tasks.loader import load_task


def load(task_id):
    return load_task(SUITE / task_id, SUITE)


def case_for(task, sizes, seed=0):
    case = inputs.make_case(task, task.sizes.complete(sizes), np.random.default_rng(seed))
    inputs.expect(task, case)
    return case


def call_check(task, case, got):
    return task.check(inputs.reference_kwargs(task, case), {k: v.copy() for k, v in case.expected.items()}, got)
