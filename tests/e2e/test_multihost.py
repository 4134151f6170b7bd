"""Several hosts: workers given as xdist --tx specs (here popen on loopback, the same code path as ssh= specs
without the network) report what a run without xdist reports, spec env reaches the workers (GPU pinning per
machine), and per-machine reports merge with `python -m pytest_cudabench merge`. See docs/multihost.md."""

import json
import sys

import pytest

TASKS = ("basics/vector_add", "reduction/sum")
PYTHON = f"popen//python={sys.executable}"


def run(pytester, shared_cache, out, *args, paths=("task_suite",)):
    return pytester.runpytest_subprocess(
        "--cudabench-model=reference", "--cudabench-seed=3", "--cudabench-levels=1,2",
        f"--cudabench-cache-dir={shared_cache}", f"--cudabench-report-dir={out}", "-p", "no:cacheprovider",
        *args, *paths)


def load_report(pytester, out) -> dict:
    reports = sorted((pytester.path / out).glob("*.json"))
    assert len(reports) == 1, reports
    return json.loads(reports[0].read_text())


def comparable(report: dict) -> tuple:
    items = {(i["task"], i["level"], i["sample"]): (i["outcome"], i["compiled"], i["correct"], i["failed_stage"])
             for i in report["items"]}
    return report["aggregates"], report["totals"], items


@pytest.fixture
def no_local_gpus(monkeypatch):
    """The controller sees no GPU, so the plugin leaves each spec's own CUDA_VISIBLE_DEVICES alone (on a
    controller with GPUs it pins workers round-robin to the controller's GPUs instead)."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")


TX_MODES = {
    "two-specs": ["-d", "--tx", PYTHON, "--tx", PYTHON],
    "2*popen-loadscope": ["--dist", "loadscope", "--tx", "2*popen"],
}


@pytest.mark.parametrize("mode", TX_MODES)
def test_tx_workers_report_what_a_single_process_reports(pytester, suite_copy, shared_cache, no_local_gpus, mode):
    suite_copy(*TASKS)
    run(pytester, shared_cache, "single", "-p", "no:xdist").assert_outcomes(passed=4)
    result = run(pytester, shared_cache, "tx", *TX_MODES[mode])
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["created: 2/2 workers", "2 workers [[]4 items[]]"])  # really two workers
    single, distributed = load_report(pytester, "single"), load_report(pytester, "tx")
    assert comparable(distributed) == comparable(single)
    assert distributed["run"]["workers"] == 2 and single["run"]["workers"] is None  # --tx specs count too
    assert {m["spec"] for m in distributed["run"]["worker_machines"].values()} == {"popen"}
    assert distributed["totals"] == {"passed": 4, "failed": 0, "skipped": 0, "error": 0, "collected": 4,
                                     "errors_by_kind": {}, "pytest": {"passed": 4, "failed": 0, "skipped": 0, "error": 0}}


def test_spec_env_pins_each_worker(pytester, suite_copy, shared_cache, no_local_gpus):
    suite_copy(*TASKS)
    pytester.makeconftest("""
import os
from pathlib import Path

def pytest_configure(config):
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker:
        Path("envs").mkdir(exist_ok=True)
        Path("envs", worker).write_text(os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
""")
    result = run(pytester, shared_cache, "tx", "-d",
                 "--tx", f"popen//env:CUDA_VISIBLE_DEVICES=1//python={sys.executable}",
                 "--tx", f"popen//env:CUDA_VISIBLE_DEVICES=0//python={sys.executable}")
    result.assert_outcomes(passed=4)
    envs = {path.name: path.read_text() for path in (pytester.path / "envs").iterdir()}
    assert envs == {"gw0": "1", "gw1": "0"}


def test_per_machine_reports_merge_into_the_whole_run(pytester, suite_copy, shared_cache):
    suite_copy(*TASKS)
    # "machine a" ran one task, "machine b" the other; the same model and seed.
    run(pytester, shared_cache, "a", "-p", "no:xdist", paths=["task_suite/basics/vector_add"]).assert_outcomes(passed=2)
    run(pytester, shared_cache, "b", "-p", "no:xdist", paths=["task_suite/reduction/sum"]).assert_outcomes(passed=2)
    run(pytester, shared_cache, "whole", "-p", "no:xdist").assert_outcomes(passed=4)
    a_path, b_path = (sorted((pytester.path / out).glob("*.json"))[0] for out in ("a", "b"))
    result = pytester.run(sys.executable, "-m", "pytest_cudabench", "merge", str(a_path), str(b_path),
                          "-o", "merged.json")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["merged 2 reports into *merged.json: 4 collected = 4 passed + 0 failed + 0 skipped"
                                 " + 0 errors"])
    assert "warning" not in result.stderr.str()
    a, b = json.loads(a_path.read_text()), json.loads(b_path.read_text())
    merged = json.loads((pytester.path / "merged.json").read_text())
    for key in ("passed", "failed", "skipped", "error", "collected"):
        assert merged["totals"][key] == a["totals"][key] + b["totals"][key]
    assert {i["task"] for i in a["items"]} == {"basics/vector_add"} and {i["task"] for i in b["items"]} == {"reduction/sum"}
    assert len(merged["items"]) == len(a["items"]) + len(b["items"]) == 4
    assert merged["aggregates"]["overall"]["n_items"] == 4
    assert set(merged["aggregates"]["by_domain"]) == {"basics", "reduction"}
    assert comparable(merged) == comparable(load_report(pytester, "whole"))
