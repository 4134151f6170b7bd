"""Every setting is checked when the run starts, with a message naming what the user wrote (option, ini key or
[tool.cudabench] key), before any item runs or is charged to the model."""

import pytest
from helpers.paths import REPO

pytest_plugins = ["pytester"]


@pytest.mark.parametrize("option, message", [
    ("--cudabench-seed=abc", "--cudabench-seed=abc: expected an integer >= 0"),
    ("--cudabench-seed=-5", "--cudabench-seed=-5: expected an integer >= 0"),
    ("--cudabench-timeout=-3", "--cudabench-timeout=-3: expected seconds > 0"),
    ("--cudabench-timeout=0", "--cudabench-timeout=0: expected seconds > 0"),
    ("--cudabench-timeout=soon", "--cudabench-timeout=soon: expected seconds"),
    ("--cudabench-arch=sm_xx", "--cudabench-arch=sm_xx: expected an nvcc architecture"),
    ("--cudabench-gpus=abc", "--cudabench-gpus=abc: expected GPU indices"),
    ("--cudabench-progress=soon", "--cudabench-progress=soon: expected seconds"),
    ("--cudabench-samples=0", "--cudabench-samples=0: expected a positive integer"),
    ("--cudabench-runtime=tpu", "--cudabench-runtime=tpu: use one of auto, gpu, cpu"),
    ("--cudabench-gpu-api=cupy", "--cudabench-gpu-api=cupy: use one of auto, cuda-bindings, pycuda"),
])
def test_a_bad_option_is_a_usage_error_naming_it(pytester, option, message):
    result = pytester.runpytest_subprocess("--cudabench-model=reference", option, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    assert message in result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_typo_in_the_project_table_is_refused_with_a_suggestion(pytester):
    pytester.makepyprojecttoml('[tool.cudabench]\nmodle = "reference"\n')
    result = pytester.runpytest_subprocess("--cudabench-model=reference", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown key(s) 'modle' (did you mean 'model'?)" in result.stderr.str()


def test_project_table_values_are_named_as_written_and_toml_lists_accepted(pytester):
    pytester.makepyprojecttoml('[tool.cudabench]\nmodel = "reference"\nlevels = [1, 2]\nseed = "x"\n')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "[tool.cudabench] seed=x: expected an integer >= 0" in result.stderr.str()
    assert "levels" not in result.stderr.str()


def test_an_ini_value_is_named_as_an_ini_key(pytester):
    pytester.makeini("[pytest]\ncudabench_timeout = -1\n")
    result = pytester.runpytest_subprocess("--cudabench-model=reference", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "ini key cudabench_timeout=-1: expected seconds > 0" in result.stderr.str()


def test_every_option_is_in_the_readme_table_and_has_an_ini_key(pytester):

    from pytest_cudabench.session.options import OPTIONS

    readme = (REPO / "README.md").read_text()
    missing = [o.cli for o in OPTIONS if f"| `{o.cli}` |" not in readme]
    assert not missing, f"document these in the README's option table: {missing}"
    config = pytester.parseconfig()
    assert all(config.getini(o.dest) is None for o in OPTIONS)  # registered ini keys (unset here)
