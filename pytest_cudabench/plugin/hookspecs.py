"""Hooks that pytest-cudabench offers to other plugins and conftest.py files."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec(firstresult=True)
def pytest_cudabench_model(spec: str, project: dict[str, Any]) -> Any:
    """A model of your own kind for `--cudabench-model=<spec>`: return an object with a `name` and
    `generate(request) -> generation.models.Generation`, or None to leave the spec to the next kind (the
    built-in ones: reference, replay:PATH, remote OpenAI-compatible models). `project` is the [tool.cudabench]
    table. Called in the controller and in every xdist worker."""
