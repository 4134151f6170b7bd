"""Compile-ahead (compile_ahead.py): the same verdicts and report items with and without it, a compile error still
in its item's compile stage, a build in flight waited for instead of duplicated, and nothing left running or on
disk when the run ends."""

import json
import time

import pytest
from helpers.paths import SUITE

from pytest_cudabench.compile_ahead import AheadItem, CompileAhead
from pytest_cudabench.config import Settings
from pytest_cudabench.errors import StageFailure
from pytest_cudabench.pipeline import compile_settings
from pytest_cudabench.source import build_handover, compiler
from pytest_cudabench.tasks.loader import load_task

XDIST_MODES = {"no-xdist": ["-p", "no:xdist"], "n2": ["-n", "2"]}
BROKEN = '```cuda\nextern "C" void solve(const float* a, const float* b, float* c, int n) { c[0] = a[0] +; }\n```'
POOL_THREAD = "cudabench-compile-ahead"


def _task(task_id):
    return load_task(SUITE / task_id, SUITE)


def _build_ahead_and_take(tmp_path, answer):
    """The pool builds `answer` to basics/vector_add; the item compiles the same source while that is in flight.
    Returns (what the item got, or its StageFailure; nvcc processes started)."""
    task = _task("basics/vector_add")
    settings = Settings(model="reference", cache_dir=str(tmp_path / "cache"), runtime="gpu")
    source = answer.split("```cuda\n", 1)[1].rsplit("```", 1)[0] if "```cuda" in answer else answer
    arch, flags = compile_settings(task, settings)
    key = compiler.compile_key(source, arch, flags)
    before = compiler.nvcc_runs
    pool = CompileAhead(settings, depth=2)
    try:
        pool.offer([AheadItem("vector_add", task, lambda: answer)])
        deadline = time.monotonic() + 60
        while not build_handover.in_flight(key):  # the item arrives while nvcc runs for the pool
            assert time.monotonic() < deadline, "the pool never started the build"
            time.sleep(0.01)
        try:
            got = compiler.compile_library(source, cache_dir=settings.cache_path, arch=arch, extra_flags=flags)
        except StageFailure as exc:
            got = exc
    finally:
        pool.close()
    return got, compiler.nvcc_runs - before


def test_an_item_waits_for_the_build_in_flight_instead_of_building_again(tmp_path):
    answer = f"```cuda\n{_task('basics/vector_add').solution_source()}```"
    build, runs = _build_ahead_and_take(tmp_path, answer)
    assert runs == 1
    assert isinstance(build, compiler.CompileResult) and not build.cached  # as if the item had compiled it


def test_a_compile_error_built_ahead_is_the_items_own(tmp_path):
    failure, runs = _build_ahead_and_take(tmp_path, BROKEN)
    assert runs == 1
    assert isinstance(failure, StageFailure) and failure.stage == "compile" and "error" in failure.message


def _replay(pytester):
    """Three items: relu and sum right, vector_add with a compile error (not the first: it is built ahead)."""
    lines = [{"task": "ai/relu", "level": 1, "sample": 0,
              "content": f"```cuda\n{_task('ai/relu').solution_source()}```"},
             {"task": "basics/vector_add", "level": 1, "sample": 0, "content": BROKEN},
             {"task": "reduction/sum", "level": 1, "sample": 0,
              "content": f"```cuda\n{_task('reduction/sum').solution_source()}```"}]
    path = pytester.path / "answers.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _comparable(report):
    """What an item's report says, less the times and the sandbox's own measurements."""
    items = {}
    for item in report["items"]:
        stages = {name: {k: v for k, v in record.items() if k not in ("duration_s", "sandbox", "cases")}
                  for name, record in item["stages"].items()}
        items[item["nodeid"]] = (item["outcome"], item["failed_stage"], item["message"], item["compiled"],
                                 item["correct"], stages)
    return items


@pytest.mark.parametrize("mode", XDIST_MODES)
def test_the_same_verdicts_and_report_items_with_and_without_compile_ahead(pytester, suite_copy, mode):
    suite_copy("ai/relu", "basics/vector_add", "reduction/sum")
    answers = _replay(pytester)
    reports = {}
    for ahead in ("0", "4"):
        result = pytester.runpytest_subprocess(
            f"--cudabench-model=replay:{answers}", "--cudabench-levels=1", "--cudabench-seed=3",
            f"--cudabench-cache-dir=cache{ahead}", f"--cudabench-report-dir=out{ahead}",
            f"--cudabench-compile-ahead={ahead}", "-p", "no:cacheprovider", *XDIST_MODES[mode], "task_suite")
        result.assert_outcomes(passed=2, failed=1)
        reports[ahead] = _comparable(json.loads(next((pytester.path / f"out{ahead}").glob("*.json")).read_text()))
    assert reports["0"] == reports["4"]
    # The pool's CPU-runtime builds are the ones the items use (same key: source, sanitize, arch), none besides.
    cpu_builds = {ahead: sorted(p.parent.name for p in (pytester.path / f"cache{ahead}" / "cpu").rglob("libanswer_cpu.so"))
                  for ahead in ("0", "4")}
    assert cpu_builds["0"] == cpu_builds["4"] and cpu_builds["0"], cpu_builds
    broken = next(v for k, v in reports["4"].items() if "vector_add" in k)
    assert broken[1] == "compile" and broken[5]["compile"]["status"] == "failed", broken


WATCH = """
import json, os, threading
from pathlib import Path

seen = set()

def pytest_runtest_call(item):
    seen.update(t.name.rsplit("_", 1)[0] for t in threading.enumerate())

def pytest_unconfigure(config):
    Path("threads.json").write_text(json.dumps({
        "during": sorted(seen), "after": sorted(t.name for t in threading.enumerate() if t.is_alive()),
        "registered": config.pluginmanager.get_plugin("cudabench-compile-ahead") is not None}))
"""


@pytest.mark.parametrize("ahead, stop", [("4", "-x"), ("0", "")])
def test_the_pool_stops_with_the_run_and_leaves_nothing_behind(pytester, suite_copy, monkeypatch, ahead, stop):
    """-x stops the run at vector_add's compile error while the pool builds sum; `=0` runs no pool at all."""
    suite_copy("ai/relu", "basics/vector_add", "reduction/sum")
    answers = _replay(pytester)
    pytester.makeconftest(WATCH)
    scratch = pytester.path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # nvcc's and g++'s scratch directories go here
    result = pytester.runpytest_subprocess(
        f"--cudabench-model=replay:{answers}", "--cudabench-levels=1", "--cudabench-cache-dir=cache",
        "--cudabench-report-dir=out", f"--cudabench-compile-ahead={ahead}", "-p", "no:cacheprovider",
        "-p", "no:xdist", *([stop] if stop else []), "task_suite")
    result.assert_outcomes(passed=1, failed=1) if stop else result.assert_outcomes(passed=2, failed=1)
    threads = json.loads((pytester.path / "threads.json").read_text())
    assert threads["registered"] is (ahead != "0")
    assert (POOL_THREAD in threads["during"]) is (ahead != "0"), threads
    assert not [name for name in threads["after"] if name.startswith(POOL_THREAD)], threads
    assert not [p.name for p in scratch.iterdir() if p.name.startswith("cudabench-")]
