"""The plugin end to end, in a pytester subprocess: collection, offline models, stages, reports, xdist."""

import json
import xml.etree.ElementTree as ET

import pytest

from pytest_cudabench.timing.policy import DEFAULT_POLICY

XDIST_MODES = {"no-xdist": ["-p", "no:xdist"], "n2": ["-n", "2"]}


def run(pytester, shared_cache, *args):
    return pytester.runpytest_subprocess(
        f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out", "-p", "no:cacheprovider", *args
    )


def only_report(pytester) -> dict:
    reports = sorted((pytester.path / "out").glob("*.json"))
    assert len(reports) == 1, reports
    return json.loads(reports[0].read_text())


def write_replay(pytester, records) -> str:
    path = pytester.path / "answers.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return str(path)


def test_collection_names_markers_and_selection(pytester, suite_copy, shared_cache):
    suite_copy("basics/vector_add", "linalg/sgemm")
    result = run(pytester, shared_cache, "--cudabench-model=reference", "--collect-only", "-q", "task_suite")
    result.stdout.fnmatch_lines([
        "task_suite/basics/vector_add::level1[[]sample0[]]",
        "task_suite/basics/vector_add::level2[[]sample0[]]",
        "task_suite/basics/vector_add::level3[[]sample0[]]",
        "task_suite/linalg/sgemm::level1[[]sample0[]]",
        "*6 tests collected*",
    ])
    result = run(pytester, shared_cache, "--cudabench-model=reference", "--collect-only", "-q",
                 "--cudabench-levels=2,3", "--cudabench-samples=2", "-m", "linalg and level2", "task_suite")
    result.stdout.fnmatch_lines(["task_suite/linalg/sgemm::level2[[]sample0[]]",
                                 "task_suite/linalg/sgemm::level2[[]sample1[]]", "*2/8 tests collected*"])
    result = run(pytester, shared_cache, "--cudabench-model=reference", "--collect-only", "-q", "-m", "easy",
                 "task_suite")
    result.stdout.fnmatch_lines(["*3/6 tests collected*"])


def test_without_model_option_task_directories_are_not_collected(pytester, suite_copy):
    suite_copy("basics/vector_add")
    result = pytester.runpytest_subprocess("--collect-only", "-q", "task_suite", "-p", "no:cacheprovider")
    assert "vector_add" not in result.stdout.str()


def test_bad_options_fail_fast(pytester, suite_copy):
    suite_copy("basics/vector_add")
    result = pytester.runpytest_subprocess("--cudabench-model=reference", "--cudabench-levels=4", "task_suite")
    result.stderr.fnmatch_lines(["*--cudabench-levels=4: levels are 1 (guided), 2 (algorithmic) and 3*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result = pytester.runpytest_subprocess("--cudabench-model=nonexistent-model-xyz", "task_suite")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.str().count("nonexistent-model-xyz") >= 1
    result = pytester.runpytest_subprocess("--cudabench-model=reference", "--cudabench-perf=nsys", "task_suite")
    result.stderr.fnmatch_lines(["*--cudabench-perf=nsys: use one of roofline, ncu*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


@pytest.mark.parametrize("mode", XDIST_MODES)
def test_reference_model_passes_and_writes_reports(pytester, suite_copy, shared_cache, mode):
    suite_copy("basics/vector_add", "reduction/sum")
    result = run(pytester, shared_cache, "--cudabench-model=reference", "--cudabench-levels=1,3",
                 "--cudabench-seed=7", "--junitxml=junit.xml", *XDIST_MODES[mode], "task_suite")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*cudabench: reference, seed 7*", "*overall: 4 items, 4 judged; of the judged: compiled 100.0%*",
                                 "*JSON report:*"])
    report = only_report(pytester)
    assert report["schema"] == "pytest-cudabench/report/1"
    assert report["run"]["seed"] == 7 and report["run"]["model"] == "reference"
    assert report["run"]["measurement"] == DEFAULT_POLICY.to_dict()  # the rules the time stage measures by
    assert report["totals"] == {"passed": 4, "failed": 0, "skipped": 0, "error": 0, "collected": 4,
                                "errors_by_kind": {}, "pytest": {"passed": 4, "failed": 0, "skipped": 0, "error": 0}}
    assert report["aggregates"]["overall"]["compile_rate"] == 1.0
    assert set(report["aggregates"]["by_level"]) == {"1", "3"}
    item = report["items"][0]
    assert item["task"] == "basics/vector_add" and item["level"] == 1 and item["outcome"] == "passed"
    assert item["stages"]["compile"]["status"] == "passed"
    assert item["source"].startswith("#include")
    testcase = ET.parse(pytester.path / "junit.xml").getroot().find(
        ".//testcase[@classname='task_suite.basics.vector_add']")
    props = {p.get("name"): p.get("value") for p in testcase.iter("property")}
    assert props["cudabench.task"] == "basics/vector_add" and props["cudabench.compiled"] == "true"


def test_replay_failures_name_their_stage(pytester, suite_copy, shared_cache):
    suite_copy("basics/vector_add")
    good = (pytester.path / "task_suite/basics/vector_add/solution.cu").read_text()
    path = write_replay(pytester, [
        {"task": "basics/vector_add", "level": 1, "sample": 0, "content": "Sorry, I can't write CUDA."},
        {"task": "basics/vector_add", "level": 2, "sample": 0,
         "content": "```cuda\n" + good.replace("c[i] = a[i] + b[i];", "c[i] = a[i] + undefined_b[i];") + "```"},
    ])
    result = run(pytester, shared_cache, f"--cudabench-model=replay:{path}", "task_suite", "-rs")
    result.assert_outcomes(failed=2, skipped=1)
    result.stdout.fnmatch_lines([
        "*stage 'extract' failed: the answer contains no fenced code block*",
        "*stage 'compile' failed: nvcc failed*",
        '*answer.cu(*): error: identifier "undefined_b" is undefined*',
        "*SKIPPED*no recorded answer for task basics/vector_add level 3 sample 0*",
    ])
    assert "Traceback" not in result.stdout.str()
    items = {i["level"]: i for i in only_report(pytester)["items"]}
    assert items[1]["failed_stage"] == "extract" and items[2]["failed_stage"] == "compile"
    assert items[3]["outcome"] == "skipped"


def test_static_check_rejects_forbidden_calls_and_libraries(pytester, suite_copy, shared_cache):
    suite_copy("basics/vector_add")
    good = (pytester.path / "task_suite/basics/vector_add/solution.cu").read_text()
    path = write_replay(pytester, [
        {"task": "basics/vector_add", "level": 1, "sample": 0,
         "content": "```cuda\n#include <cstdlib>\n"
                    + good.replace("const int block", 'system("rm -rf /");\n    const int block') + "```"},
        {"task": "basics/vector_add", "level": 2, "sample": 0,
         "content": "```cuda\n#include <cublas_v2.h>\n"
                    + good.replace("const int block", "cublasHandle_t h;\n    cublasCreate(&h);\n    const int block")
                    + "```"},
        {"task": "basics/vector_add", "level": 3, "sample": 0,
         "content": "```cuda\n#include <cstdlib>\n#define RUN(x) sys##tem(x)\n"
                    + good.replace("const int block", 'RUN("id");\n    const int block') + "```"},
    ])
    result = run(pytester, shared_cache, f"--cudabench-model=replay:{path}", "task_suite")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines([
        "*stage 'static-check' failed: line *: call to `system` (runs a shell command) is not allowed*",
        "*stage 'static-check' failed: line *: `cublasCreate` uses cublas, which this task does not allow*",
        "*stage 'compile' failed: the compiled answer imports `system` (runs a shell command)*",
    ])


def test_missing_extern_c_is_reported(pytester, suite_copy, shared_cache):
    suite_copy("basics/vector_add")
    good = (pytester.path / "task_suite/basics/vector_add/solution.cu").read_text()
    path = write_replay(pytester, [{"task": "basics/vector_add", "level": 1, "sample": 0,
                                    "content": "```cuda\n" + good.replace('extern "C" ', "") + "```"}])
    result = run(pytester, shared_cache, f"--cudabench-model=replay:{path}", "--cudabench-levels=1", "task_suite")
    result.stdout.fnmatch_lines(["*does not export `solve`: declare it extern \"C\"*"])


@pytest.mark.parametrize("mode", XDIST_MODES)
def test_broken_task_is_a_collection_error_for_that_task_only(pytester, suite_copy, shared_cache, mode):
    suite = suite_copy("basics/vector_add", "ai/relu")
    toml = suite / "ai/relu/task.toml"
    toml.write_text(toml.read_text().replace('test = { n = [1, 100003] }', 'test = { n = [0, 100003] }'))
    result = run(pytester, shared_cache, "--cudabench-model=reference", "--cudabench-levels=1",
                 *XDIST_MODES[mode], "task_suite")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*task_suite/ai/relu/task.toml: [[]sizes.test[]] 'n' must be a positive integer*"])
    report = only_report(pytester)
    assert report["totals"]["collected"] == 2 and report["totals"]["error"] == 1
    assert "sizes.test" in report["collection_errors"][0]["message"]


def test_replay_file_errors_fail_fast(pytester, suite_copy):
    suite_copy("basics/vector_add")
    (pytester.path / "bad.jsonl").write_text('{"task": "basics/vector_add", "level": "one"}\n')
    result = pytester.runpytest_subprocess("--cudabench-model=replay:bad.jsonl", "task_suite")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*bad.jsonl:1: 'level' must be an integer*"])
