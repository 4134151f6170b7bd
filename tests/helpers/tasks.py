"""Built-in tasks with judged inputs, for tests that run answers against them."""

from __future__ import annotations

from pytest_cudabench.tasks import inputs
from pytest_cudabench.tasks.loader import Task, load_task

from .paths import SUITE


def task_with_cases(name: str, seed: int, count: int) -> tuple[Task, list[inputs.Case]]:
    """The suite's task `name` (e.g. "basics/vector_add") and `count` correctness cases with their expected outputs."""
    task = load_task(SUITE / name, SUITE)
    cases = inputs.make_cases(task, seed=seed, count=count)
    for case in cases:
        inputs.expect(task, case)
    return task, cases
