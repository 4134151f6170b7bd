"""The built-in task suite: its size and balance, and every task proven (format, reference, scales, prompts, and
its own solution.cu compiled with nvcc and passing on the CPU runtime)."""

from collections import Counter

import pytest
from helpers.paths import SUITE

from pytest_cudabench.tasks.loader import find_task_dirs, load_task
from pytest_cudabench.validate import validate_task

TASK_DIRS = find_task_dirs(SUITE)


def test_suite_breadth_and_balance():
    tasks = [load_task(path, SUITE) for path in TASK_DIRS]
    domains = Counter(t.domain for t in tasks)
    tiers = Counter(t.tier for t in tasks)
    assert len(tasks) >= 100, f"{len(tasks)} tasks"
    assert len(domains) >= 10, domains
    assert all(tiers[tier] >= 25 for tier in ("easy", "medium", "hard")), tiers


@pytest.mark.parametrize("path", TASK_DIRS, ids=[p.relative_to(SUITE).as_posix() for p in TASK_DIRS])
def test_task_is_proven(path, shared_cache):
    report = validate_task(path, cache_dir=shared_cache)
    assert report.ok, "\n".join(report.errors)


def test_task_table_in_the_authoring_guide_is_up_to_date():
    from pytest_cudabench.tasks.table import main

    assert main(["--check", "--suite", str(SUITE)]) == 0, "run: python -m pytest_cudabench table"
