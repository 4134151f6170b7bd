"""End to end: the plugin, in a pytest subprocess, against the fake chat-completions server."""

from __future__ import annotations

import json

import pytest

try:
    from fake_openai_server import FAKE_KEY, FakeOpenAIServer
except ImportError:
    from tests.fake_openai_server import FAKE_KEY, FakeOpenAIServer  # type: ignore[no-redef]

from conftest import SUITE

SOLUTION = (SUITE / "basics" / "vector_add" / "solution.cu").read_text()


def answer(messages):
    return f"Here you go.\n\n```cuda\n{SOLUTION.rstrip()}\n```\n"


@pytest.fixture
def server():
    with FakeOpenAIServer(latency_s=0.1, responder=answer) as srv:
        yield srv


@pytest.fixture
def project(pytester, suite_copy, monkeypatch, server):
    suite_copy("basics/vector_add")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    return pytester


def run(pytester, server, *args):
    return pytester.runpytest_subprocess(
        "task_suite", f"--cudabench-model=openai:fake-model@{server.base_url}", "-p", "no:cacheprovider", *args)


def assert_generated_and_compiled(result, count):
    """Every item got its answer and compiled; later stages (execution) are other tests' business."""
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == count, result.stdout.str()
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)


def reports(pytester):
    return sorted((pytester.path / "reports").glob("*.json"), key=lambda p: p.stat().st_mtime)


def test_items_compile_and_the_rerun_uses_the_cache(project, server):
    result = run(project, server, "--cudabench-levels=1,2")
    assert_generated_and_compiled(result, 2)
    assert server.request_count == 2
    report_text = reports(project)[-1].read_text()
    assert FAKE_KEY not in report_text and FAKE_KEY not in result.stdout.str() + result.stderr.str()
    items = json.loads(report_text)["items"]
    assert all(item["compiled"] for item in items)
    assert all(item["generation"]["tokens_in"] > 0 and not item["generation"]["cached"] for item in items)
    assert all(item["generation"]["model"] == "fake-model" for item in items)

    server.reset()
    again = run(project, server, "--cudabench-levels=1,2")
    assert_generated_and_compiled(again, 2)
    assert server.request_count == 0
    items = json.loads(reports(project)[-1].read_text())["items"]
    assert all(item["generation"]["cached"] and item["compiled"] for item in items)

    regenerated = run(project, server, "--cudabench-levels=1,2", "--cudabench-regenerate")
    assert_generated_and_compiled(regenerated, 2)
    assert server.request_count == 2


def test_missing_key_fails_fast_with_one_message(project, server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    for extra in ((), ("-n", "2")):
        result = run(project, server, *extra)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        output = result.stdout.str() + result.stderr.str()
        assert output.count("OPENAI_API_KEY") == 1, output
        assert "API key is missing" in output
    assert server.request_count == 0


def test_unknown_model_fails_fast(project, server):
    result = project.runpytest_subprocess("task_suite", "--cudabench-model=nonesuch", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (result.stdout.str() + result.stderr.str()).count("unknown model") == 1


def test_model_api_failure_is_an_item_error(project, server):
    server.fault_for("", {"kind": "401", "message": "Incorrect API key provided"}, times=100)
    result = run(project, server, "--cudabench-levels=1")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*model API failed: 401 Incorrect API key provided*"])


def test_xdist_workers_make_no_duplicate_requests(project, server):
    result = run(project, server, "-n", "2", "--cudabench-samples=3")
    assert_generated_and_compiled(result, 9)
    items = json.loads(reports(project)[-1].read_text())["items"]
    assert len(items) == 9 and all(item["compiled"] for item in items)
    assert server.request_count == 9
    prompts = [json.dumps(r["body"]["messages"]) for r in server.requests]
    assert len(set(prompts)) == 3  # 3 levels x 3 samples: each prompt asked once per sample


def test_repair_loop_feeds_compiler_errors_back(pytester, suite_copy, monkeypatch):
    broken = SOLUTION.replace("c[i] = a[i] + b[i];", "c[i] = a[i] + bb[i];")

    def repairing(messages):
        turns = [m for m in messages if m["role"] == "assistant"]
        if not turns:
            return f"```cuda\n{broken}```"
        assert "bb" in messages[-1]["content"], "the compiler's error must reach the model"
        return f"Fixed:\n```cuda\n{SOLUTION}```"

    suite_copy("basics/vector_add")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    with FakeOpenAIServer(responder=repairing) as srv:
        result = run(pytester, srv, "--cudabench-levels=1", "--cudabench-attempts=3")
        result.assert_outcomes(passed=1)
        assert srv.request_count == 2
        item = json.loads(reports(pytester)[-1].read_text())["items"][0]
        assert item["passed_at_attempt"] == 2 and item["correct"] is True
        assert [a["failed_stage"] for a in item["attempts"]] == ["compile", None]
        # without attempts the same model fails at compile
        result = run(pytester, srv, "--cudabench-levels=1", "--cudabench-regenerate")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*stage 'compile' failed*"])


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["single", "xdist"])
def test_progress_line_counts_requests_in_flight_and_cached(pytester, suite_copy, monkeypatch, xdist):
    suite_copy("basics/vector_add")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    with FakeOpenAIServer(latency_s=0.6, responder=answer) as slow:
        args = ("--cudabench-samples=2", "--cudabench-concurrency=2", "-o", "cudabench_progress=0.3", *xdist)
        first = run(pytester, slow, *args).stdout.str()
        lines = [line for line in first.splitlines() if line.startswith("cudabench generation:")]
        assert lines, first
        assert any(" in flight" in line and not line.startswith("cudabench generation: 6/6") for line in lines), lines
        assert lines[-1] == "cudabench generation: 6/6 answers ready (6 requested, 0 cached), 0 in flight, 0 waiting"
        estimate = [line for line in first.splitlines() if line.startswith("cudabench estimate:")]
        assert len(estimate) == 1 and estimate[0].startswith("cudabench estimate: 6 answers to request, 0 cached; ~")
        again = run(pytester, slow, *args).stdout.str()
        assert "cudabench estimate: 0 answers to request, 6 cached" in again
        assert "cudabench generation: 6/6 answers ready (0 requested, 6 cached), 0 in flight, 0 waiting" in again
        quiet = run(pytester, slow, *args[:-2 - len(xdist)], "-o", "cudabench_progress=0", *xdist).stdout.str()
        assert "cudabench generation:" not in quiet
