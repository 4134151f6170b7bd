"""--cudabench-resume and SIGTERM: a run killed part-way writes its report, and a rerun with that report carries the
items judged there over (not run again) and runs the rest, to the same verdicts as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
from helpers.paths import SUITE
from helpers.report_factory import base_run, make_item
from helpers.runtime import PINNED_RUNTIME

from pytest_cudabench.errors import ReportFileError
from pytest_cudabench.reporting.report import build_report
from pytest_cudabench.reporting.report_files import item_key
from pytest_cudabench.reporting.resume import ResumePlan, judged, plan_resume, run_mismatch

TASKS = ("basics/matrix_copy", "basics/reverse", "basics/vector_add")
WRONG = "basics/matrix_copy", 2  # this item's answer is wrong: a failed verdict to carry over


def fenced(source: str) -> str:
    return f"Here it is.\n\n```cuda\n{source.rstrip()}\n```\n"


def write_answers(path, changed: str | None = None):
    """Replay answers: the reference solutions, one wrong; `changed`: a task whose answers differ from the first
    run's (a comment added), so that its items are not carried over."""
    lines = []
    for task in TASKS:
        for level in (1, 2):
            source = (SUITE / task / "solution.cu").read_text()
            if (task, level) == WRONG:
                source = source.replace("dst[c] = src[c];", "dst[c] = src[c] + 1.0f;")
            if task == changed:
                source += "\n// a different answer\n"
            lines.append(json.dumps({"task": task, "level": level, "sample": 0, "content": fenced(source)}))
    path.write_text("\n".join(lines) + "\n")
    return path


def args(answers, *extra):
    return ("task_suite", f"--cudabench-model=replay:{answers}", "--cudabench-levels=1,2", "-p", "no:cacheprovider",
            "--cudabench-progress=0", *extra)


def reports(pytester):
    return sorted((pytester.path / "reports").glob("*.json"), key=lambda p: p.stat().st_mtime)


def by_key(report):
    return {item_key(item): item for item in report["items"]}


def verdicts(report):
    return {key: item["outcome"] for key, item in by_key(report).items()}


def run_until_killed(pytester, answers, *extra):
    """Starts a run, and sends SIGTERM to the pytest process (the controller under xdist) once the wrong item and
    one more have a verdict; returns the report it wrote."""
    out = pytester.path / "killed.txt"
    process = pytester.popen([sys.executable, "-m", "pytest", *args(answers, "-v", PINNED_RUNTIME, *extra)],
                             stdout=out.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        text = out.read_text()
        wrong_judged = any("matrix_copy::level2[sample0]" in line and "FAILED" in line for line in text.splitlines())
        if wrong_judged and text.count("PASSED") + text.count("FAILED") >= 2:
            break
        time.sleep(0.1)
    assert process.poll() is None, f"the run ended before it could be killed:\n{out.read_text()}"
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=120)
    text = out.read_text()
    assert "Traceback" not in text, text
    assert process.returncode == pytest.ExitCode.INTERRUPTED, text
    [path] = reports(pytester)
    return path, json.loads(path.read_text()), text


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["single", "xdist"])
def test_a_run_killed_by_sigterm_resumes_to_the_uninterrupted_verdicts(pytester, suite_copy, xdist):
    suite_copy(*TASKS)
    answers = write_answers(pytester.path / "answers.jsonl")
    killed_path, killed, output = run_until_killed(pytester, answers, "--cudabench-seed=7", *xdist)
    run = killed["run"]
    assert (run["complete"], run["stopped"], run["interrupted"]) == (False, "terminated (SIGTERM)", True), output
    assert 2 <= len(killed["items"]) < 6, output
    assert "run incomplete: " in output and "(terminated (SIGTERM))" in output
    judged_before = by_key(killed)
    assert judged_before["basics/matrix_copy::level2[sample0]"]["outcome"] == "failed"

    # Resumed, with reverse's answers changed since: those items run again, whatever the first run judged.
    answers = write_answers(pytester.path / "answers.jsonl", changed="basics/reverse")
    resumed = pytester.runpytest_subprocess(*args(answers, f"--cudabench-resume={killed_path}",
                                                  "--junitxml=junit.xml", *xdist))
    resumed.assert_outcomes(passed=5, failed=1)
    resumed.stdout.fnmatch_lines([f"cudabench: resuming run {run['id']} from {killed_path}: *",
                                  "*stage 'execute' failed*"])
    final = json.loads(reports(pytester)[-1].read_text())
    carried = {key for key, item in by_key(final).items() if item.get("resumed_from")}
    expected = {key for key in judged_before if not key.startswith("basics/reverse")}
    assert carried == expected and carried, resumed.stdout.str()
    for key in carried:  # not run again: the first run's record, to the float
        item = by_key(final)[key]
        assert item["resumed_from"] == run["id"]
        assert item["stages"] == {**judged_before[key]["stages"], "generate": item["stages"]["generate"]}
        assert item["outcome"] == judged_before[key]["outcome"]
    for key in set(by_key(final)) - carried:
        assert "resumed_from" not in by_key(final)[key]
    assert final["run"]["seed"] == 7  # the resumed report's seed, by default
    assert final["run"]["complete"] is True and final["run"]["stopped"] is None
    assert final["run"]["resumed_from"] == {"report": str(killed_path), "run_id": run["id"],
                                            "items_carried": len(carried), "refused": None}
    assert final["totals"]["passed"] == 5 and final["totals"]["failed"] == 1
    resumed.stdout.fnmatch_lines([f"resumed from run {run['id']}: {len(carried)} judged item(s) carried over, *"])
    cases = ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")
    assert sorted(len(case.findall("failure")) for case in cases) == [0, 0, 0, 0, 0, 1]

    # The same verdicts as a run that was never interrupted.
    whole = pytester.runpytest_subprocess(*args(answers, "--cudabench-seed=7", *xdist))
    whole.assert_outcomes(passed=5, failed=1)
    assert verdicts(final) == verdicts(json.loads(reports(pytester)[-1].read_text()))


def test_a_report_of_another_seed_carries_nothing_and_says_why(pytester, suite_copy, tmp_path):
    suite_copy("basics/vector_add")
    answers = write_answers(pytester.path / "answers.jsonl")
    first = pytester.runpytest_subprocess(*args(answers, "--cudabench-seed=7"))
    first.assert_outcomes(passed=2)
    [path] = reports(pytester)
    again = pytester.runpytest_subprocess(*args(answers, "--cudabench-seed=8", f"--cudabench-resume={path}"))
    again.assert_outcomes(passed=2)
    again.stdout.fnmatch_lines([f"cudabench: --cudabench-resume={path}: nothing carried over: its seed is 7, this "
                                "run's is 8"])
    final = json.loads(reports(pytester)[-1].read_text())
    assert final["run"]["resumed_from"]["items_carried"] == 0
    assert not any(item.get("resumed_from") for item in final["items"])
    missing = pytester.runpytest_subprocess(*args(answers, "--cudabench-resume=nowhere.json"))
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*--cudabench-resume: *nowhere.json: no such file"])


RUN = {"seed": 7, "runtime": "cpu", "arch": None, "cases": 5, "template_version": "3",
       "versions": {"pytest_cudabench": "1.0"}}


def test_another_harness_version_or_runtime_carries_nothing(tmp_path):
    assert run_mismatch(RUN, RUN) is None
    assert run_mismatch({**RUN, "versions": {"pytest_cudabench": "0.9"}}, RUN) == \
        "it was judged by pytest-cudabench 0.9, this run uses 1.0"
    assert run_mismatch({**RUN, "runtime": "gpu"}, RUN) == "its runtime is 'gpu', this run's is 'cpu'"
    report = build_report({**base_run(run_id="r1"), **RUN, "cases": 3}, [make_item("a/b")], [])
    path = tmp_path / "r1.json"
    path.write_text(json.dumps(report))
    plan = plan_resume(path, RUN)
    assert (plan.candidates, plan.refused) == ({}, "its cases is 3, this run's is 5")
    with pytest.raises(ReportFileError, match="no such file"):
        plan_resume(tmp_path / "none.json", RUN)


def test_only_judged_items_with_the_same_answer_are_carried():
    item = {"task": "a/b", "level": 1, "sample": 0, "outcome": "failed", "failed_stage": "execute",
            "prompt_hash": "p", "generation": {"content": "answer"}, "stages": {"execute": {"duration_s": 1.5}},
            "worker": "gw1"}
    assert judged(item)
    for not_judged in ({"outcome": "error"}, {"outcome": "skipped"}, {"failed_stage": "crash"},
                       {"attempts": [{}, {}]}, {"refinement": {"status": "done"}}, {"generation": None},
                       {"set": {"task": "t"}}):
        assert not judged({**item, **not_judged}), not_judged
    plan = ResumePlan(report="r.json", run_id="r1", candidates={"a/b::level1[sample0]": item})

    def now(prompt="p", content="answer"):  # this run's record once the item has its answer (from the cache)
        return {"nodeid": "here/a/b::level1[sample0]", "prompt_hash": prompt,
                "generation": {"content": content, "cached": True}, "stages": {"generate": {"cached": True}}}

    carried = plan.carried("a/b::level1[sample0]", now())
    assert carried is not None
    assert (carried["resumed_from"], carried["nodeid"], carried["outcome"]) == ("r1", "here/a/b::level1[sample0]",
                                                                               "failed")
    # The verdict's stages are the first run's; fetching the answer is this run's (usage counts it as cached).
    assert carried["stages"] == {"execute": {"duration_s": 1.5}, "generate": {"cached": True}}
    assert carried["generation"] == {"content": "answer", "cached": True}
    assert "worker" not in carried and item["worker"] == "gw1" and "generate" not in item["stages"]  # a copy
    assert plan.carried("a/b::level1[sample0]", now(content="another answer")) is None
    assert plan.carried("a/b::level1[sample0]", now(prompt="another prompt")) is None
    assert plan.carried("a/b::level2[sample0]", now()) is None
    # Carried again from a resumed run's report: still the run that judged it.
    again = ResumePlan("r2.json", "r2", {"k": {**item, "resumed_from": "r1"}}).carried("k", now())
    assert again is not None and again["resumed_from"] == "r1"


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["single", "xdist"])
def test_sigterm_caches_the_answer_in_flight_as_ctrl_c_does(pytester, suite_copy, monkeypatch, xdist):
    """SIGTERM to the pytest process while a model request is in flight: no further request starts, the answer in
    flight is cached, and the report says why the run ended."""
    from helpers.fake_openai_server import FAKE_KEY, FakeOpenAIServer

    suite_copy("basics/vector_add")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    solution = (SUITE / "basics/vector_add/solution.cu").read_text()
    with FakeOpenAIServer(latency_s=1.5, responder=lambda messages: fenced(solution)) as slow:
        out = pytester.path / "out.txt"
        process = pytester.popen([sys.executable, "-m", "pytest", "task_suite", "-p", "no:cacheprovider",
                                  f"--cudabench-model=openai:fake-model@{slow.base_url}", "--cudabench-samples=3",
                                  "--cudabench-levels=1", "--cudabench-concurrency=1", "--cudabench-progress=0",
                                  "--cudabench-runtime=cpu", *xdist], stdout=out.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while slow.request_count == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        started = slow.request_count
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        time.sleep(2)  # a queued request would have started by now
        text = out.read_text()
        assert slow.request_count == started, text
    assert "model request(s) in flight, so that their answers are cached" in text, text
    cached = list((pytester.path / ".cudabench_cache" / "generations").rglob("*.json"))
    assert len(cached) == started, text
    [report] = reports(pytester)
    assert json.loads(report.read_text())["run"]["stopped"] == "terminated (SIGTERM)"
