import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
SUITE = REPO / "task_suite"


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One compile cache for the whole test session: identical sources are built once."""
    return tmp_path_factory.mktemp("cudabench-cache")


@pytest.fixture
def suite_copy(pytester):
    """Copies named tasks of the built-in suite into the pytester directory; returns a function."""

    def copy(*task_ids: str) -> Path:
        for task_id in task_ids:
            shutil.copytree(SUITE / task_id, pytester.path / "task_suite" / task_id)
        return pytester.path / "task_suite"

    return copy
