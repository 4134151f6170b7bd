"""pytest's own habits work on benchmark items: --lf, node-id selection, error counting apart from wrong answers,
with and without xdist (pytester subprocesses)."""

import json

import pytest

XDIST_MODES = {"no-xdist": ["-p", "no:xdist"], "n2": ["-n", "2"]}
NO_CODE = "no code here"


def write_replay(pytester, records) -> str:
    path = pytester.path / "answers.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return str(path)


def reports(pytester) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((pytester.path / "out").glob("*.json"))
            if not p.name.endswith(".benchmark.json")]


@pytest.mark.parametrize("mode", XDIST_MODES)
def test_last_failed_reruns_only_the_failed_item(pytester, suite_copy, shared_cache, mode):
    suite_copy("basics/vector_add")
    replay = write_replay(pytester, [{"task": "basics/vector_add", "level": 1, "sample": 0, "content": NO_CODE}])
    common = (f"--cudabench-model=replay:{replay}", f"--cudabench-cache-dir={shared_cache}",
              "--cudabench-report-dir=out", *XDIST_MODES[mode])
    first = pytester.runpytest_subprocess(*common, "task_suite")
    first.assert_outcomes(failed=1, skipped=2)  # levels 2 and 3 have no replay line
    again = pytester.runpytest_subprocess(*common, "--lf", "task_suite")
    again.assert_outcomes(failed=1)
    assert "known failures not in selected tests" not in again.stdout.str()
    assert [i["nodeid"] for i in reports(pytester)[-1]["items"]] == ["task_suite/basics/vector_add::level1[sample0]"]


@pytest.mark.parametrize("mode", XDIST_MODES)
def test_the_node_id_pytest_prints_selects_that_item(pytester, suite_copy, shared_cache, mode):
    suite_copy("basics/vector_add", "ai/relu")
    common = ("--cudabench-model=reference", f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out",
              "-p", "no:cacheprovider", *XDIST_MODES[mode])
    result = pytester.runpytest_subprocess(*common, "task_suite/basics/vector_add::level2[sample0]", "-v")
    result.assert_outcomes(passed=1)
    assert "task_suite/basics/vector_add::level2[sample0]" in result.stdout.str()
    # a level without its sample selects every sample of that level; two arguments, two tasks
    result = pytester.runpytest_subprocess(*common, "--cudabench-levels=1,3", "--cudabench-samples=2",
                                           "task_suite/basics/vector_add::level3", "task_suite/ai/relu::level1[sample1]",
                                           "--collect-only", "-q")
    result.stdout.fnmatch_lines(["task_suite/basics/vector_add::level3[[]sample0[]]",
                                 "task_suite/basics/vector_add::level3[[]sample1[]]",
                                 "task_suite/ai/relu::level1[[]sample1[]]", "*3/8 tests collected*"])
    result = pytester.runpytest_subprocess(*common, "task_suite/basics/vector_add::level4[sample0]")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*not found: task_suite/basics/vector_add::level4[[]sample0[]]*"])


def test_errors_are_counted_apart_from_wrong_answers(pytester, suite_copy, shared_cache):
    """A task whose reference raises is the task's error: it is in neither rate's denominator, and the summary
    says how pytest counted the same items."""
    suite = suite_copy("basics/vector_add", "ai/relu")
    reference = suite / "ai/relu/reference.py"
    reference.write_text(reference.read_text().replace("def reference(", "def reference(*_a, **_k):\n"
                                                      "    raise RuntimeError('broken on purpose')\n\n\ndef _old("))
    result = pytester.runpytest_subprocess("--cudabench-levels=1",
                                           f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out",
                                           "-p", "no:cacheprovider", "--cudabench-model=reference", "task_suite")
    report = reports(pytester)[-1]
    relu = next(i for i in report["items"] if i["task"] == "ai/relu")
    assert relu["outcome"] == "error" and relu["error_kind"] in ("task", "harness"), relu
    overall = report["aggregates"]["overall"]
    assert overall["n_errors"] == 1 and overall["n_judged"] == 1 and overall["correct_rate"] == 1.0
    assert report["totals"]["error"] == 1 and report["totals"]["passed"] == 1
    text = result.stdout.str()
    assert "2 items, 1 judged (1 errors not judged)" in text
