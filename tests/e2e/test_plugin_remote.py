"""End to end: the plugin, in a pytest subprocess, against the fake chat-completions server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from helpers.fake_openai_server import FAKE_KEY, FakeOpenAIServer
from helpers.paths import SUITE

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


def test_malformed_response_is_a_generate_error_not_a_wrong_answer(project, server):
    (project.path / "pyproject.toml").write_text(
        "[tool.cudabench.models.fake]\n"
        f'base_url = "{server.base_url}"\nmodel = "fake-model"\napi_key_env = "OPENAI_API_KEY"\n'
        "max_retries = 2\nretry_base_s = 0.01\nretry_max_s = 0.05\n")
    server.fault_for("", "badjson", times=100)
    result = project.runpytest_subprocess("task_suite", "--cudabench-model=fake", "--cudabench-levels=1",
                                          "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*stage 'generate' failed: model API failed: malformed response (*): the 200 "
                                 "body is not JSON (Expecting value*"])
    out = result.stdout.str()
    assert "JSONDecodeError" not in out and "Traceback" not in out and len(out.splitlines()) < 60, out
    assert server.request_count == 3
    item = json.loads(reports(project)[-1].read_text())["items"][0]
    assert (item["outcome"], item["failed_stage"], item["correct"]) == ("error", "generate", None)


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["single", "xdist"])
def test_after_ctrl_c_no_queued_request_starts(pytester, suite_copy, monkeypatch, xdist):
    import signal
    import time

    suite_copy("basics/vector_add")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    with FakeOpenAIServer(latency_s=1.0, responder=answer) as slow:
        process = pytester.popen([sys.executable, "-m", "pytest", "task_suite", "-p", "no:cacheprovider",
                                  f"--cudabench-model=openai:fake-model@{slow.base_url}", "--cudabench-samples=4",
                                  "--cudabench-concurrency=1", "--cudabench-progress=0", "--cudabench-runtime=cpu",
                                  *xdist],
                                 stdout=(pytester.path / "out.txt").open("wb"), stderr=subprocess.STDOUT,
                                 start_new_session=True)
        deadline = time.monotonic() + 60
        while slow.request_count == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # under xdist both workers prefetch; one claims the first answer, the other waits for it
        started = slow.request_count
        assert 1 <= started <= 2
        os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group, xdist workers too
        process.wait(timeout=60)
        time.sleep(2.5)  # a queued request would have started by now
        assert slow.request_count == started, (pytester.path / "out.txt").read_text()


def test_tokens_and_cost_in_the_terminal_report_and_html(project, server):
    def run_with(prices: str):
        (project.path / "pyproject.toml").write_text(
            "[tool.cudabench.models.fake]\n"
            f'base_url = "{server.base_url}"\nmodel = "fake-model"\napi_key_env = "OPENAI_API_KEY"\n' + prices)
        return project.runpytest_subprocess("task_suite", "--cudabench-model=fake", "--cudabench-levels=1",
                                            "--cudabench-regenerate", "-p", "no:cacheprovider")

    result = run_with("price_input = 2.0\nprice_output = 10.0\n")
    item = json.loads(reports(project)[-1].read_text())["items"][0]
    generation = item["generation"]
    assert generation["tokens_in"] > 0 and generation["tokens_out"] > 0
    cost = (generation["tokens_in"] * 2.0 + generation["tokens_out"] * 10.0) / 1e6
    assert generation["cost_usd"] == pytest.approx(cost)
    result.stdout.fnmatch_lines([f"tokens (fake): {generation['tokens_in']} prompt + {generation['tokens_out']} "
                                 f"completion over 1 answers (1 requested, 0 cached), cost ${cost:.4f} "
                                 f"(this run ${cost:.4f}) at $2 prompt + $10 completion per million tokens"])
    html = reports(project)[-1].with_suffix(".html").read_text()
    assert "<th>tokens / cost</th>" in html
    assert f"{generation['tokens_in']}/{generation['tokens_out']} ${cost:.4f}" in html
    unpriced = run_with("")
    unpriced.stdout.fnmatch_lines(["tokens (fake): * over 1 answers (1 requested, 0 cached), cost not known (give "
                                   "the model price_input/price_output, USD per million tokens)"])
    # Answers cached by the unpriced run cost their stored tokens at the prices configured now.
    server.reset()
    (project.path / "pyproject.toml").write_text(
        "[tool.cudabench.models.fake]\n"
        f'base_url = "{server.base_url}"\nmodel = "fake-model"\napi_key_env = "OPENAI_API_KEY"\n'
        "price_input = 4.0\nprice_output = 20.0\n")
    cached = project.runpytest_subprocess("task_suite", "--cudabench-model=fake", "--cudabench-levels=1",
                                          "-p", "no:cacheprovider")
    assert server.request_count == 0
    generation = json.loads(reports(project)[-1].read_text())["items"][0]["generation"]
    cost = (generation["tokens_in"] * 4.0 + generation["tokens_out"] * 20.0) / 1e6
    assert generation["cached"] and generation["cost_usd"] == pytest.approx(cost)
    cached.stdout.fnmatch_lines([f"tokens (fake): * over 1 answers (0 requested, 1 cached), cost ${cost:.4f} (this "
                                 "run $0.0000) at $4 prompt + $20 completion per million tokens"])


def usage_of(pytester):
    return json.loads(reports(pytester)[-1].read_text())["run"]["usage"]


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["single", "xdist"])
def test_answers_another_worker_asked_for_are_requested_not_cached(pytester, suite_copy, monkeypatch, xdist):
    """Every answer a run asked for counts as requested (and paid) by the run, whichever worker asked; only a rerun
    finds them cached. One request at a time per worker, so that both workers ask."""
    suite_copy("basics/vector_add", "basics/reverse", "basics/matrix_copy")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    with FakeOpenAIServer(latency_s=0.5, responder=answer) as srv:
        args = ("--cudabench-levels=1", "--cudabench-concurrency=1", *xdist)
        first = run(pytester, srv, *args)
        assert_generated_and_compiled(first, 3)
        usage = usage_of(pytester)[f"openai:fake-model@{srv.base_url}"]
        items = json.loads(reports(pytester)[-1].read_text())["items"]
        assert srv.request_count == 3
        assert (usage["requests"], usage["cached"], usage["http_requests"]) == (3, 0, 3)
        assert [item["generation"]["cached"] for item in items] == [False] * 3
        first.stdout.fnmatch_lines(["tokens (*): * over 3 answers (3 requested, 0 cached), cost not known*"])

        srv.reset()
        again = run(pytester, srv, *args)
        assert_generated_and_compiled(again, 3)
        usage = usage_of(pytester)[f"openai:fake-model@{srv.base_url}"]
        assert srv.request_count == 0 and (usage["requests"], usage["cached"], usage["http_requests"]) == (0, 3, 0)
        again.stdout.fnmatch_lines(["tokens (*): * over 3 answers (0 requested, 3 cached), *"])


def test_retries_are_counted_and_truncated_bodies_said_to_be_billed(project, server):
    """Each prompt meets a rate limit (Retry-After 1), a 500 and a cut-off 200 before its answer."""
    (project.path / "pyproject.toml").write_text(
        "[tool.cudabench.models.fake]\n"
        f'base_url = "{server.base_url}"\nmodel = "fake-model"\napi_key_env = "OPENAI_API_KEY"\n'
        "retry_base_s = 0.05\n")
    server.each_prompt = [{"kind": "429", "retry_after": 1}, "500", "truncated"]
    result = project.runpytest_subprocess("task_suite", "--cudabench-model=fake", "--cudabench-levels=1,2",
                                          "-p", "no:cacheprovider")
    assert_generated_and_compiled(result, 2)
    assert server.request_count == 8
    report = json.loads(reports(project)[-1].read_text())
    usage = report["run"]["usage"]["fake"]
    assert (usage["requests"], usage["http_requests"], usage["rate_limited"], usage["retried_errors"],
            usage["malformed_200"]) == (2, 8, 2, 4, 2)
    assert usage["wait_s"] >= 2.0
    for item in report["items"]:
        generation = item["generation"]
        assert generation["http_requests"] == 4 and generation["total_latency_s"] > generation["wait_s"] >= 1.0
        assert generation["latency_s"] < 0.5 < generation["total_latency_s"]
    result.stdout.fnmatch_lines(["requests (fake): 8 sent this run for 2 answers: 2 rate-limited (429), 4 errors "
                                 "(5xx, timeouts, malformed bodies); * s waiting before retries; 2 answered 200 with "
                                 "a cut-off or malformed body: such answers are usually billed, so the cost above "
                                 "may be low"])


@pytest.mark.parametrize("xdist, most", [((), 1), (("-n", "2"), 2)], ids=["single", "xdist"])
def test_a_refused_key_stops_generation_for_the_whole_run(project, server, monkeypatch, xdist, most):
    """15 items and a wrong key: one refused request per process at most, one line naming the model, the URL and
    the key's variable (never the key), every item an error of kind api."""
    wrong = "sk-wrong-key-0123456789abcdefgh"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    result = run(project, server, "--cudabench-levels=1", "--cudabench-samples=15", *xdist)
    result.assert_outcomes(errors=15)
    assert 1 <= server.request_count <= most
    report = json.loads(reports(project)[-1].read_text())
    assert report["totals"]["errors_by_kind"] == {"api": 15}
    out = result.stdout.str() + result.stderr.str()
    assert wrong not in out and wrong not in reports(project)[-1].read_text()
    stop_lines = [line for line in result.stdout.lines if line.startswith("cudabench: model API failed: 401")]
    assert len(stop_lines) == 1, out
    assert f"model fake-model at {server.base_url}" in stop_lines[0] and "$OPENAI_API_KEY" in stop_lines[0]
    assert "generation stopped for the whole run" in stop_lines[0]


def _wait_for(predicate, timeout=60.0):
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sigint_to_the_controller_alone_stops_the_workers_and_caches_what_arrives(pytester, suite_copy,
                                                                                  monkeypatch):
    """`kill -INT <controller>` under -n 2 (as timeout -s INT and supervisors send it): the workers start no new
    request, the answers in flight arrive and are cached, and the summary counts what was collected."""
    import signal
    import time

    suite_copy("basics/vector_add")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    with FakeOpenAIServer(latency_s=3.0, responder=answer) as slow:
        out = pytester.path / "out.txt"
        process = pytester.popen([sys.executable, "-m", "pytest", "task_suite", "-p", "no:cacheprovider",
                                  f"--cudabench-model=openai:fake-model@{slow.base_url}", "--cudabench-samples=4",
                                  "--cudabench-concurrency=1", "--cudabench-progress=0", "--cudabench-runtime=cpu", "-n", "2"],
                                 stdout=out.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        _wait_for(lambda: slow.request_count >= 2)  # one request in flight per worker
        os.kill(process.pid, signal.SIGINT)  # the controller only
        started = slow.request_count
        process.wait(timeout=60)
        time.sleep(1.0)  # a request started by a worker that went on would have reached the server by now
        text = out.read_text()
        assert slow.request_count == started, text
        records = list((pytester.path / ".cudabench_cache" / "generations").glob("*/*.json"))
        assert len(records) == started, text  # every answer in flight arrived and was cached
        waited = re.search(r"cudabench: waiting for (\d+) model request\(s\) in flight", text)
        assert waited and 1 <= int(waited[1]) <= 2, text  # an answer may have arrived before the SIGINT
        assert "Ctrl-C again abandons them" in text and "their answers are cached" in text
        assert re.search(r"totals: 12 collected, \d+ ran = ", text), text
        assert "Traceback" not in text


def test_a_second_ctrl_c_abandons_the_requests_in_flight_without_a_traceback(pytester, suite_copy, monkeypatch):
    import signal
    import time

    suite_copy("basics/vector_add")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    with FakeOpenAIServer(latency_s=30.0, responder=answer) as stuck:
        out = pytester.path / "out.txt"
        process = pytester.popen([sys.executable, "-m", "pytest", "task_suite", "-p", "no:cacheprovider",
                                  f"--cudabench-model=openai:fake-model@{stuck.base_url}", "--cudabench-levels=1",
                                  "--cudabench-progress=0", "--cudabench-runtime=cpu"],
                                 stdout=out.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        _wait_for(lambda: stuck.request_count >= 1)
        os.kill(process.pid, signal.SIGINT)
        _wait_for(lambda: "Ctrl-C again abandons them" in out.read_text(), timeout=30)
        os.kill(process.pid, signal.SIGINT)
        start = time.monotonic()
        process.wait(timeout=20)
        assert time.monotonic() - start < 10  # not the 30 s the answer would take
        text = out.read_text()
        assert "cudabench: waiting for 1 model request(s) in flight" in text
        assert "cudabench: abandoned 1 model request(s) in flight: their answers are lost" in text
        assert "Traceback" not in text and "Exception ignored" not in text, text
        assert "totals: 1 collected, 0 ran = " in text, text
