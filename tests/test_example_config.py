"""docs/cudabench.example.toml stays valid: every model table resolves, and a run reads it (a run refuses unknown
keys, so the run also proves every key is known)."""

import shutil

import pytest
from helpers.paths import REPO

from pytest_cudabench.config import read_project_table
from pytest_cudabench.generation.remote import resolve_model_config

EXAMPLE = REPO / "docs" / "cudabench.example.toml"


def test_every_key_is_known_and_every_model_resolves(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "cudabench.toml")
    table = read_project_table(tmp_path)
    assert table["model"] == "reference" and table["levels"] == [1, 3]
    for alias in table["models"]:
        config = resolve_model_config(alias, table)
        assert config.base_url.startswith("http")
    priced = resolve_model_config("claude-priced", table)
    assert priced.cost(1_000_000, 1_000_000) == pytest.approx(18.0)


def test_a_run_uses_it(pytester, suite_copy):
    suite_copy("basics/vector_add")
    shutil.copy(EXAMPLE, pytester.path / "cudabench.toml")
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider", "task_suite")
    result.stdout.fnmatch_lines(["task_suite/basics/vector_add::level1[[]sample0[]]",
                                 "task_suite/basics/vector_add::level3[[]sample0[]]", "*2 tests collected*"])
