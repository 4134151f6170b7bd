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
    # oldest first by when they were written: run ids of runs in the same second do not sort by time
    paths = sorted((pytester.path / "out").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return [json.loads(p.read_text()) for p in paths if not p.name.endswith(".benchmark.json")]


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


def test_collect_only_writes_no_report_and_x_marks_the_report_incomplete(pytester, suite_copy, shared_cache):
    suite_copy("basics/vector_add")
    replay = write_replay(pytester, [{"task": "basics/vector_add", "level": 1, "sample": 0, "content": NO_CODE}])
    common = (f"--cudabench-model=replay:{replay}", f"--cudabench-cache-dir={shared_cache}",
              "--cudabench-report-dir=out", "-p", "no:cacheprovider")
    result = pytester.runpytest_subprocess(*common, "--collect-only", "task_suite")
    result.stdout.fnmatch_lines(["cudabench: --collect-only: 3 items collected, none ran; no report written"])
    assert reports(pytester) == []
    result = pytester.runpytest_subprocess(*common, "-x", "task_suite")
    run = reports(pytester)[-1]["run"]
    assert run["collected_items"] == 3 and run["complete"] is False and "stopped early" in run["stopped"]
    result.stdout.fnmatch_lines(["run incomplete: 1 of 3 items ran (stopped early*"])
    pytester.runpytest_subprocess(*common, "--cudabench-levels=1", "task_suite")
    assert reports(pytester)[-1]["run"]["complete"] is True


def test_ctrl_c_leaves_a_report_that_says_it_is_incomplete(pytester, suite_copy):
    import signal
    import subprocess
    import sys
    import time

    suite_copy("basics/vector_add")
    hang = ("```cuda\n__global__ void spin(volatile int *flag) { while (*flag == 0) { } }\n"
            'extern "C" void solve(const float *a, const float *b, float *c, int n) {\n'
            "    int *flag; cudaMalloc(&flag, sizeof(int)); cudaMemset(flag, 0, sizeof(int));\n"
            "    spin<<<1, 1>>>(flag); cudaDeviceSynchronize();\n}\n```\n")
    replay = write_replay(pytester, [{"task": "basics/vector_add", "level": level, "sample": 0, "content": hang}
                                     for level in (1, 2, 3)])
    cache = pytester.path / "own-cache"  # its own: a compiled library there means this run reached its items
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", f"--cudabench-model=replay:{replay}", f"--cudabench-cache-dir={cache}",
         "--cudabench-report-dir=out", "--cudabench-runtime=cpu", "-p", "no:cacheprovider", "task_suite"],
        cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(cache.rglob("*.so")):
        time.sleep(0.5)
    time.sleep(3)  # the first item is running its answer now
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    run = reports(pytester)[-1]["run"]
    assert run["complete"] is False and run["stopped"] == "interrupted (Ctrl-C)", output
    assert "run incomplete" in output


def test_a_task_directory_without_a_model_gets_a_hint(pytester, suite_copy):
    suite_copy("basics/vector_add")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "task_suite")
    result.stdout.fnmatch_lines(["cudabench: task directories were given but no model*--cudabench-model=reference*"])
    assert "cudabench: task directories" not in pytester.runpytest_subprocess("-p", "no:cacheprovider").stdout.str()


def test_item_progress_gives_an_eta_from_the_pace_so_far():
    from pytest_cudabench.session.progress import ItemPace

    progress = ItemPace(interval=10, start=0.0)
    progress.total = 100
    assert progress.update(5, 0, 0, now=10.0) is None  # too early: at most one line per 30 s
    assert progress.update(25, 2, 1, now=60.0) == \
        "cudabench: 25/100 items done (2 failed, 1 errors), elapsed 1m00s, ETA 3m00s"
    assert progress.update(26, 2, 1, now=70.0) is None
    assert progress.update(100, 2, 1, now=400.0) is None  # done: nothing left to estimate


def test_reports_of_a_suite_outside_the_project_land_where_pytest_ran(pytester, shared_cache, tmp_path_factory,
                                                                    monkeypatch):
    import shutil

    from helpers.paths import SUITE

    elsewhere = tmp_path_factory.mktemp("elsewhere") / "task_suite"
    shutil.copytree(SUITE / "basics/vector_add", elsewhere / "basics/vector_add")
    project = pytester.mkdir("project")
    monkeypatch.chdir(project)
    result = pytester.runpytest_subprocess("--cudabench-model=reference", "--cudabench-levels=1",
                                           f"--cudabench-cache-dir={shared_cache}", "-p", "no:cacheprovider",
                                           str(elsewhere))
    result.assert_outcomes(passed=1)
    assert list((project / "reports").glob("*.json")), "the report belongs where pytest was started"
    assert not list(elsewhere.parent.rglob("reports"))


def test_a_conftest_adds_a_model_kind_through_the_hook(pytester, suite_copy, shared_cache):
    suite_copy("basics/vector_add")
    pytester.makeconftest('''
from pytest_cudabench.generation.models import Generation


class EchoSolution:
    name = "echo-solution"

    def generate(self, request):
        return Generation(content="```cuda\\n" + request.task.solution_source() + "\\n```", model=self.name)


def pytest_cudabench_model(spec, project):
    return EchoSolution() if spec == "echo" else None
''')
    result = pytester.runpytest_subprocess("--cudabench-model=echo", "--cudabench-levels=1", "-n", "2",
                                           f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out",
                                           "-p", "no:cacheprovider", "task_suite")
    result.assert_outcomes(passed=1)
    assert reports(pytester)[-1]["items"][0]["generation"]["model"] == "echo-solution"
    result = pytester.runpytest_subprocess("--cudabench-model=nonesuch-kind", "task_suite")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_a_crashed_workers_item_is_recorded_from_its_node_id_alone():
    from pytest_cudabench.results import crashed_result
    from pytest_cudabench.session.families import parse_item_nodeid

    assert parse_item_nodeid("task_suite/ai/relu::level2[sample1]") == ("task_suite/ai/relu", 2, 1)
    set_id = "CUDABench-Set.jsonl::ReLU_Activation::scale3::level1[sample0]"
    assert parse_item_nodeid(set_id) == ("CUDABench-Set.jsonl::ReLU_Activation::scale3", 1, 0)
    assert parse_item_nodeid("tests/test_x.py::test_y[3]") is None
    item = crashed_result(set_id, *parse_item_nodeid(set_id), message="worker 'gw1' crashed")
    assert (item["task"], item["domain"], item["outcome"], item["failed_stage"]) == \
        ("cudabench-set/ReLU_Activation/scale3", "cudabench-set", "failed", "crash")
    item = crashed_result("task_suite/ai/relu::level2[sample1]", "task_suite/ai/relu", 2, 1, "crashed")
    assert (item["task"], item["domain"], item["level"], item["sample"]) == ("ai/relu", "ai", 2, 1)
