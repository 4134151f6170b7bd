"""--cudabench-arch: a value nvcc rejects stops the run at start, naming it (not every answer a wrong one)."""

import json

import pytest

from pytest_cudabench.errors import ConfigError
from pytest_cudabench.source.compiler import check_arch

XDIST_MODES = {"no-xdist": ["-p", "no:xdist"], "n2": ["-n", "2"]}


def test_a_rejected_arch_names_the_value_and_nvccs_message_and_the_verdict_is_cached(tmp_path):
    with pytest.raises(ConfigError, match=r"--cudabench-arch=sm_999: nvcc \(.*\) rejects this architecture: .*999"):
        check_arch("sm_999", tmp_path)
    check_arch("sm_80", tmp_path)
    verdicts = [json.loads(p.read_text()) for p in (tmp_path / "arch").glob("*.json")]
    assert sorted(v["ok"] for v in verdicts) == [False, True]
    for path in (tmp_path / "arch").glob("*.json"):  # a cached verdict is not probed again
        verdict = json.loads(path.read_text())
        path.write_text(json.dumps({"ok": not verdict["ok"], "message": "from the cache"}))
    check_arch("sm_999", tmp_path)
    with pytest.raises(ConfigError, match="from the cache"):
        check_arch("sm_80", tmp_path)


@pytest.mark.parametrize("mode", XDIST_MODES)
def test_the_run_stops_at_start_on_an_arch_nvcc_rejects(pytester, suite_copy, mode):
    suite_copy("basics/vector_add")
    result = pytester.runpytest_subprocess("task_suite", "--cudabench-model=reference", "--cudabench-arch=sm_999",
                                           "-p", "no:cacheprovider", *XDIST_MODES[mode])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert output.count("--cudabench-arch=sm_999: nvcc") == 1, output
    assert "rejects this architecture" in output and not (pytester.path / "reports").exists()
