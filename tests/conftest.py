import shutil
from pathlib import Path

import pytest
from helpers.paths import SUITE
from helpers.runtime import pin_runtime

# The fake chat-completions server module provides the `fake_openai` fixture.
pytest_plugins = ["pytester", "helpers.fake_openai_server"]


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


# ---------------------------------------------------------------- runtime pinning and the GPU marker
#
# Sessions the tests start run the CPU runtime unless a test names a runtime itself (helpers/runtime.py says why);
# GPU behaviour lives in tests marked `gpu`, skipped with the reason where there is none.


@pytest.fixture
def pytester(pytester):
    for name in ("runpytest", "runpytest_inprocess", "runpytest_subprocess"):
        run = getattr(pytester, name)
        setattr(pytester, name, lambda *args, _run=run, **kwargs: _run(*pin_runtime(args), **kwargs))
    return pytester


def gpu_missing_reason() -> str | None:
    from pytest_cudabench.execution.runner import gpu_unusable_reason

    return gpu_unusable_reason()


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    reason = gpu_missing_reason()
    for item in gpu_items if reason else ():
        item.add_marker(pytest.mark.skip(reason=f"GPU test: {reason}"))
