"""Distribution: the same aggregates with and without xdist, and nothing lost when a worker dies."""

import json

TASKS = ("basics/vector_add", "ai/relu", "reduction/sum", "analytics/histogram")


def run(pytester, shared_cache, *args):
    return pytester.runpytest_subprocess(
        "--cudabench-model=reference", "--cudabench-seed=5", f"--cudabench-cache-dir={shared_cache}",
        "--cudabench-report-dir=out", "-p", "no:cacheprovider", *args, "task_suite")


def load_report(pytester) -> dict:
    return json.loads(next((pytester.path / "out").glob("*.json")).read_text())


def comparable(report: dict) -> tuple:
    items = {(i["task"], i["level"], i["sample"]): (i["outcome"], i["compiled"], i["correct"], i["failed_stage"])
             for i in report["items"]}
    return report["aggregates"], report["totals"], items


def test_identical_aggregates_without_and_with_xdist(pytester, suite_copy, shared_cache):
    suite_copy(*TASKS)
    results = {}
    for label, args in {"none": ["-p", "no:xdist"], "n2": ["-n", "2"], "n3": ["-n", "3"]}.items():
        run(pytester, shared_cache, *args).assert_outcomes(passed=12)
        report = load_report(pytester)
        results[label] = comparable(report)
        machines = report["run"]["worker_machines"]
        expected_workers = {"none": None, "n2": {"gw0", "gw1"}, "n3": {"gw0", "gw1", "gw2"}}[label]
        assert (set(machines) if machines else None) == expected_workers, machines
        assert all(m["hostname"] and "gpu" in m for m in (machines or {}).values()), machines
        for path in (pytester.path / "out").iterdir():
            path.unlink()
    assert results["none"] == results["n2"] == results["n3"]


def test_a_crashed_worker_loses_nothing_else(pytester, suite_copy, shared_cache):
    suite_copy(*TASKS)
    pytester.makeconftest("""
import os

def pytest_runtest_call(item):
    if "relu" in item.nodeid and item.name.startswith("level2") and hasattr(item.config, "workerinput"):
        os._exit(17)  # the worker process dies mid-item
""")
    result = run(pytester, shared_cache, "-n", "2")  # loadscope, the default
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1 and outcomes.get("passed") == 11, result.stdout.str()
    report = load_report(pytester)
    totals = report["totals"]
    assert totals["collected"] == 12 == totals["passed"] + totals["failed"] + totals["skipped"] + totals["error"]
    crashed = [i for i in report["items"] if i["outcome"] == "failed"]
    assert len(crashed) == 1 and crashed[0]["task"] == "ai/relu" and crashed[0]["level"] == 2
    assert crashed[0]["failed_stage"] == "crash" and "crashed" in crashed[0]["message"].lower()
    assert report["aggregates"]["overall"]["n_items"] == 12
