"""The generation service: cache, prefetch concurrency, cross-worker claims, failures, usage totals, replay export."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from helpers.fake_openai_server import FAKE_KEY
from helpers.paths import SUITE

from pytest_cudabench.config import Settings
from pytest_cudabench.errors import ModelError
from pytest_cudabench.generation.models import GenerationRequest, ReferenceModel, ReplayModel
from pytest_cudabench.generation.prompts import messages, prompt_hash
from pytest_cudabench.generation.remote import create_remote_model
from pytest_cudabench.generation.service import (
    GenerationCache,
    GenerationService,
    export_replay,
    main_export,
)
from pytest_cudabench.reporting.aggregates import usage_totals
from pytest_cudabench.tasks.loader import load_task


@pytest.fixture(scope="module")
def task():
    return load_task(SUITE / "basics" / "vector_add", SUITE)


def req(task, sample=0, level=1, msgs=None):
    msgs = msgs or messages(task, level)
    return GenerationRequest(task=task, level=level, sample=sample, messages=msgs, prompt_hash=prompt_hash(msgs))


@pytest.fixture
def make(fake_openai, monkeypatch, tmp_path):
    """make(**settings) -> GenerationService against the fake server, caching under tmp_path/cache."""
    monkeypatch.setenv("FAKE_KEY_ENV", FAKE_KEY)
    services = []

    def factory(run_id="run-1", model_table=None, **kwargs):
        table = {"base_url": fake_openai.base_url, "model": "fake-model", "api_key_env": "FAKE_KEY_ENV",
                 "timeout": 2.0, "max_retries": 1, "retry_base_s": 0.01, "price_input": 1.0, "price_output": 2.0,
                 **(model_table or {})}
        table = {key: value for key, value in table.items() if value is not None}  # None: leave the key out
        project = {"models": {"fake": table}}
        settings = Settings(model="fake", cache_dir=str(tmp_path / "cache"), run_id=run_id, project=project,
                            runtime="cpu", **kwargs)
        service = GenerationService(create_remote_model("fake", project), settings, claim_stale_s=1.0,
                                    heartbeat_s=0.1)
        services.append(service)
        return service

    yield factory
    for service in services:
        service.close()


def test_answers_are_cached_and_reused(make, fake_openai, task, tmp_path):
    first = make().get(req(task))
    assert not first.cached and fake_openai.request_count == 1
    records = list(GenerationCache(tmp_path / "cache").records())
    assert len(records) == 1 and records[0]["generation"]["content"] == first.content
    assert records[0]["task"] == "basics/vector_add" and records[0]["prompt_hash"] == prompt_hash(messages(task, 1))
    again = make(run_id="run-2").get(req(task))
    assert again.cached and again.content == first.content and fake_openai.request_count == 1
    assert again.tokens_in == first.tokens_in and again.cost_usd == first.cost_usd


def test_cache_key_covers_sample_level_messages_and_parameters(make, fake_openai, task):
    service = make()
    for request in (req(task), req(task, sample=1), req(task, level=2),
                    req(task, msgs=messages(task, 1) + [{"role": "user", "content": "again"}])):
        service.get(request)
    assert fake_openai.request_count == 4
    service.get(req(task, sample=1))
    assert fake_openai.request_count == 4
    make(model_table={"temperature": 0.9}).get(req(task))  # other parameters: another record
    assert fake_openai.request_count == 5


def test_regenerate_forces_new_calls_once_per_run(make, fake_openai, task):
    make().get(req(task))
    service = make(run_id="run-2", regenerate=True)
    assert not service.get(req(task)).cached
    again = service.get(req(task))  # this run's own answer is reused: requested by this run, not cached
    assert not again.cached and fake_openai.request_count == 2


def test_no_temporary_files_are_left(make, task, tmp_path):
    service = make()
    service.prefetch([req(task, sample=i) for i in range(5)])
    for i in range(5):
        service.get(req(task, sample=i))
    files = [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert len(files) == 5 and all(name.endswith(".json") for name in files)


def test_prefetch_is_concurrent(make, fake_openai, task):
    fake_openai.latency_s = 0.3
    service = make(concurrency=8)
    requests = [req(task, sample=i) for i in range(16)]
    start = time.perf_counter()
    service.prefetch(requests)
    assert time.perf_counter() - start < 0.2  # returns at once
    answers = [service.get(r) for r in requests]
    elapsed = time.perf_counter() - start
    assert len({a.content for a in answers}) == 1 and fake_openai.request_count == 16
    assert fake_openai.max_in_flight == 8
    assert elapsed < 2.4  # ideal: two rounds of 0.3 s; one at a time: 4.8 s (slack for loaded machines)


def test_answers_are_written_as_they_arrive(make, fake_openai, task, tmp_path):
    """An interrupted run keeps what had arrived: the next run only asks for the rest."""
    fake_openai.latency_s = 0.2
    service = make(concurrency=2)
    service.prefetch([req(task, sample=i) for i in range(6)])
    service.get(req(task, sample=0))
    service.close()  # interrupted: queued prefetches are cancelled, the ones in flight finish and are cached
    time.sleep(0.5)
    cached = len(list(GenerationCache(tmp_path / "cache").records()))
    assert 2 <= cached < 6
    fake_openai.reset()
    fake_openai.latency_s = 0.0
    resumed = make(run_id="run-2")
    resumed.prefetch([req(task, sample=i) for i in range(6)])
    assert all(resumed.get(req(task, sample=i)) for i in range(6))
    assert fake_openai.request_count == 6 - cached


def test_two_workers_share_the_requests(make, fake_openai, task):
    """Two services on one cache (as two xdist workers): every answer is requested once."""
    fake_openai.latency_s = 0.1
    requests = [req(task, sample=i) for i in range(20)]
    workers = [make(concurrency=4), make(concurrency=4)]
    results: dict[int, list] = {}

    def work(index):
        service = workers[index]
        service.prefetch(requests)
        mine = requests[index::2]
        results[index] = [service.get(r) for r in mine] + [service.get(r) for r in requests[1 - index::2]]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert fake_openai.request_count == 20
    assert workers[0].requests + workers[1].requests == 20
    assert workers[0].requests > 0 and workers[1].requests > 0
    assert all(len(r) == 20 for r in results.values())


def test_waits_for_a_live_claim(make, fake_openai, task, tmp_path):
    service = make()
    key = service.key(req(task))
    claim = tmp_path / "cache" / "claims" / f"{key}.claim"
    claim.parent.mkdir(parents=True)
    claim.write_text(json.dumps({"owner": "other", "host": socket.gethostname(), "pid": os.getpid()}))
    other = make()  # the "other worker" writes its answer after a while, heartbeating meanwhile

    def answer_later():
        deadline = time.time() + 0.6
        while time.time() < deadline:
            os.utime(claim)
            time.sleep(0.05)
        other._call(req(task), key)
        claim.unlink()

    thread = threading.Thread(target=answer_later)
    thread.start()
    start = time.perf_counter()
    generation = service.get(req(task))
    thread.join()
    assert time.perf_counter() - start >= 0.5
    # Another worker of this run asked: the answer is this run's (requested, paid for now), not cached.
    assert not generation.cached and fake_openai.request_count == 1 and service.requests == 0
    assert make(run_id="run-2").get(req(task)).cached  # a later run finds it cached


def test_claim_of_a_dead_process_is_taken_over(make, fake_openai, task, tmp_path):
    service = make()
    key = service.key(req(task))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    claim = tmp_path / "cache" / "claims" / f"{key}.claim"
    claim.parent.mkdir(parents=True)
    claim.write_text(json.dumps({"owner": "ghost", "host": socket.gethostname(), "pid": dead.pid}))
    start = time.perf_counter()
    assert not service.get(req(task)).cached
    assert time.perf_counter() - start < 0.5 and service.requests == 1
    assert not claim.exists()


def test_claim_without_heartbeat_goes_stale(make, fake_openai, task, tmp_path):
    service = make()  # claim_stale_s=1
    key = service.key(req(task))
    claim = tmp_path / "cache" / "claims" / f"{key}.claim"
    claim.parent.mkdir(parents=True)
    claim.write_text(json.dumps({"owner": "remote", "host": "another-host", "pid": 1}))
    start = time.perf_counter()
    assert not service.get(req(task)).cached
    assert 0.9 <= time.perf_counter() - start < 3 and service.requests == 1


def test_failure_is_reported_once_per_run(make, fake_openai, task):
    fake_openai.faults.extend(["500"] * 2)  # max_retries=1: two tries
    first = make()
    with pytest.raises(ModelError, match="model API failed: 500 injected 500"):
        first.get(req(task))
    second = make()  # another worker of the same run: fails the same way without asking
    with pytest.raises(ModelError, match="model API failed: 500"):
        second.get(req(task))
    assert fake_openai.request_count == 2
    assert make(run_id="run-2").get(req(task)).content  # the next run tries again
    assert fake_openai.request_count == 3


def test_prefetched_failures_surface_in_get(make, fake_openai, task):
    fake_openai.faults.extend(["401"])
    service = make()
    service.prefetch([req(task)])
    with pytest.raises(ModelError, match="401"):
        service.get(req(task))


def test_offline_models_are_not_cached(task, tmp_path):
    settings = Settings(model="reference", cache_dir=str(tmp_path / "cache"), runtime="cpu")
    service = GenerationService(ReferenceModel(), settings)
    service.prefetch([req(task)])
    assert "```cuda" in service.get(req(task)).content
    service.close()
    assert not (tmp_path / "cache").exists()


def test_usage_totals():
    items = [
        {"model": "claude", "generation": {"tokens_in": 100, "tokens_out": 50, "latency_s": 1.5, "cost_usd": 0.01,
                                           "cached": False}},
        {"model": "claude", "generation": {"tokens_in": 10, "tokens_out": 5, "latency_s": 0.5, "cost_usd": 0.001,
                                           "cached": True}},
        {"model": "local", "generation": {"tokens_in": None, "tokens_out": 7, "latency_s": None, "cost_usd": None}},
        {"model": "claude", "generation": None},
    ]
    totals = usage_totals(items)
    claude = totals["claude"]
    assert (claude["items"], claude["requests"], claude["cached"]) == (2, 1, 1)
    assert (claude["tokens_in"], claude["tokens_out"], claude["new_tokens_in"]) == (110, 55, 100)
    assert claude["latency_s"] == pytest.approx(2.0) and claude["cost_usd"] == pytest.approx(0.011)
    assert claude["new_cost_usd"] == pytest.approx(0.01)
    assert totals["local"]["tokens_out"] == 7 and totals["local"]["cost_usd"] is None


def test_usage_totals_count_this_runs_requests_and_failures():
    retried = {"http_requests": 4, "rate_limited": 1, "retried_errors": 2, "malformed_200": 1, "wait_s": 1.5,
               "total_latency_s": 2.0}
    items = [
        {"model": "m", "generation": {"tokens_in": 10, "tokens_out": 5, "cost_usd": 0.1, "cached": False, **retried}},
        {"model": "m", "generation": {"tokens_in": 10, "tokens_out": 5, "cost_usd": 0.1, "cached": True, **retried}},
        {"model": "m", "stages": {"generate": {"status": "error", "requests": {"http_requests": 3,
                                                                               "retried_errors": 3}}}},
    ]
    m = usage_totals(items, {"input": 1.0, "output": 2.0})["m"]
    # The cached answer's requests were an earlier run's; the failed item's were this run's.
    assert (m["items"], m["requests"], m["cached"], m["failed"]) == (2, 1, 1, 1)
    assert (m["http_requests"], m["rate_limited"], m["retried_errors"], m["malformed_200"]) == (7, 1, 5, 1)
    assert m["wait_s"] == 1.5 and m["prices"] == {"input": 1.0, "output": 2.0}


def test_cached_answers_cost_their_tokens_at_todays_prices(make, fake_openai, task):
    first = make().get(req(task))  # priced at 1.0 / 2.0 per million tokens
    assert first.cost_usd == pytest.approx((first.tokens_in * 1.0 + first.tokens_out * 2.0) / 1e6)
    dearer = make(run_id="run-2", model_table={"price_input": 10.0, "price_output": 20.0}).get(req(task))
    assert dearer.cached and dearer.cost_usd == pytest.approx(10 * first.cost_usd)
    unpriced = make(run_id="run-3", model_table={"price_input": None, "price_output": None})
    assert unpriced.prices() is None and unpriced.get(req(task)).cost_usd is None
    assert fake_openai.request_count == 1


def test_a_refused_key_stops_every_process_of_the_run(make, fake_openai, task, monkeypatch):
    """401 in one worker: the other workers of the run send nothing more (a marker in the shared cache); cached
    answers are still served; the next run asks again."""
    from pytest_cudabench.errors import ApiAccessDenied

    make(run_id="run-0").get(req(task, sample=9))  # cached before
    monkeypatch.setenv("FAKE_KEY_ENV", "sk-wrong-key-abcdefghijklmnop")
    fake_openai.reset()
    first, second = make(), make()
    with pytest.raises(ApiAccessDenied, match="401 Incorrect API key"):
        first.get(req(task))
    second.prefetch([req(task, sample=s) for s in range(1, 6)])
    for sample in range(1, 6):
        with pytest.raises(ApiAccessDenied, match="^not requested: model API failed: 401"):
            second.get(req(task, sample=sample))
    assert second.get(req(task, sample=9)).cached
    assert fake_openai.request_count == 1 and "401" in (first.denied() or "")
    monkeypatch.setenv("FAKE_KEY_ENV", FAKE_KEY)
    assert make(run_id="run-2").get(req(task)).content and fake_openai.request_count == 2


def test_after_stop_run_no_process_of_the_run_sends_a_request(make, fake_openai, task):
    """Ctrl-C: the controller's stop_run reaches the workers through the cache; a request in flight finishes and
    its answer is cached."""
    fake_openai.latency_s = 0.5
    worker = make(concurrency=1)
    worker.prefetch([req(task, sample=s) for s in range(3)])
    deadline = time.time() + 5
    while fake_openai.request_count == 0 and time.time() < deadline:
        time.sleep(0.01)
    controller = make()
    controller.stop_run("the run was interrupted (Ctrl-C)")
    assert worker.interrupted() and controller.claims_in_flight() == 1
    deadline = time.time() + 5
    while worker.requests_in_flight() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert fake_openai.request_count == 1 and controller.claims_in_flight() == 0
    assert make(run_id="run-2").get(req(task, sample=0)).cached  # the answer in flight was cached
    with pytest.raises(ModelError, match="not requested: the run was interrupted"):
        make().get(req(task, sample=1))


def test_export_replay_round_trip(make, fake_openai, task, tmp_path, capsys):
    service = make()
    answers = [service.get(req(task, sample=sample)).content for sample in range(3)]
    repair = messages(task, 1) + [{"role": "assistant", "content": "x"}, {"role": "user", "content": "fix"}]
    assert service.get(req(task, msgs=repair)).content != answers[0]  # a later turn of the same item
    out = tmp_path / "replay.jsonl"
    assert export_replay(tmp_path / "cache", "fake", out) == 3
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {(r["task"], r["level"], r["sample"]) for r in lines} == {("basics/vector_add", 1, s) for s in range(3)}
    assert [r["content"] for r in lines] == answers  # first turns only
    assert all(r["model"] == "fake-model" and r["tokens_out"] and "```" in r["content"] for r in lines)
    assert FAKE_KEY not in out.read_text()
    replay = ReplayModel(out)
    assert replay.generate(req(task, sample=2)).content == lines[2]["content"]
    assert export_replay(tmp_path / "cache", "fake-model", tmp_path / "by-id.jsonl") == 3
    assert export_replay(tmp_path / "cache", "other", tmp_path / "none.jsonl") == 0

    assert main_export(["--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "cli.jsonl")]) == 0
    assert "wrote 3 answers" in capsys.readouterr().out
    assert main_export(["--cache-dir", str(tmp_path / "cache"), "--model", "zzz", "-o", str(tmp_path / "x")]) == 1
    assert main_export(["--cache-dir", str(tmp_path / "empty"), "-o", str(tmp_path / "x")]) == 1


def test_no_key_in_cache_records(make, fake_openai, task, tmp_path):
    fake_openai.responder = lambda msgs: f"leaking {FAKE_KEY}\n```cuda\nint x;\n```"
    service = make()
    assert FAKE_KEY not in service.get(req(task)).content
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert FAKE_KEY not in path.read_text()


def test_close_stops_retrying_without_a_verdict(make, fake_openai, task, tmp_path):
    """At the end of a worker's run, requests waiting to retry give up and release their claims (no failure marker:
    another worker may still ask); nothing waits out a long Retry-After."""
    fake_openai.faults.append({"kind": "429", "retry_after": 30})
    service = make(model_table={"retry_max_s": 60.0, "max_retries": 3})
    service.prefetch([req(task)])
    deadline = time.time() + 5
    while fake_openai.request_count == 0 and time.time() < deadline:
        time.sleep(0.01)
    start = time.perf_counter()
    service.close()
    future = next(iter(service._futures.values()))
    with pytest.raises(ModelError, match="cancelled"):
        future.result(timeout=5)
    assert time.perf_counter() - start < 2
    claims = tmp_path / "cache" / "claims"
    assert not list(claims.glob("*.claim")) and not list(claims.glob("*.failed"))
    assert make(run_id="run-1").get(req(task)).content  # the same run can still get it elsewhere
