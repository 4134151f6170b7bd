"""Refine for speed (--cudabench-refine, --cudabench-candidates): the prompt, the cache keys, the choice of the kept
version, the report and page, and end to end in a pytest subprocess against the fake chat-completions server on the
CPU runtime, timed with the host clock (Settings.host_clock_gpu, set by the test plugin helpers/host_clock_plugin.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from helpers.fake_openai_server import FAKE_KEY, FakeOpenAIServer
from helpers.paths import SUITE
from helpers.refine_kernels import WRONG, fenced, version
from helpers.report_factory import base_run, make_item

from pytest_cudabench.generation.models import Generation, GenerationRequest, ReferenceModel, ReplayModel
from pytest_cudabench.generation.prompts import messages, prompt_hash
from pytest_cudabench.generation.refine import refine_messages, refine_request
from pytest_cudabench.generation.service import GenerationCache, export_replay, model_identity, record_key
from pytest_cudabench.pipeline import candidate_record, is_better
from pytest_cudabench.reporting.aggregates import aggregates, refinement_stats
from pytest_cudabench.reporting.html import refinement_svg, render
from pytest_cudabench.reporting.report import build_report, summary_lines
from pytest_cudabench.tasks.loader import load_task

SPEED = {"gpu": "NVIDIA H100 80GB HBM3", "clock": "events", "performance_score": 0.4213, "speedup": 0.8,
         "scales": [{"sizes": {"n": 1024}, "median_s": 2.5e-6, "bound_s": 1.0e-6, "bound_by": "memory", "score": 0.4,
                     "reference_median_s": 2.0e-6},
                    {"sizes": {"n": 1 << 20}, "median_s": 8.0e-4, "bound_s": 3.5e-4, "bound_by": "memory",
                     "score": 0.4375, "reference_median_s": 6.4e-4}],
         "ncu": {"scales": [{"sizes": {"n": 1024}, "score": 0.31, "flop_s": 1.5e11, "dram_bytes_s": 1.2e12,
                             "kernel": "vector_add_kernel"}]}}


@pytest.fixture(scope="module")
def task():
    return load_task(SUITE / "basics" / "vector_add", SUITE)


def first_request(task, level=1, sample=0):
    msgs = messages(task, level)
    return GenerationRequest(task=task, level=level, sample=sample, messages=msgs, prompt_hash=prompt_hash(msgs))


def test_the_refine_prompt_gives_the_measured_speed(task):
    first = messages(task, 1)
    msgs = refine_messages(first, version(8), SPEED, 1, 3, 1, 2, ["round 0: something"])
    assert msgs[: len(first)] == first and first == messages(task, 1)
    assert msgs[-2] == {"role": "assistant", "content": f"```cuda\n{version(8).rstrip()}\n```"}
    text = msgs[-1]["content"]
    for expected in ("n=1024: median 2.5 us", "reference solution 2 us", "roofline bound 1 us (memory-bound)",
                     "achieved 40.0% of the bound", "n=1048576: median 800 us", "The task is memory-bound",
                     "Performance-Score (mean fraction of the roofline bound over the scales): 0.421",
                     "Speedup against the task's reference solution (geometric mean over the scales): 0.80x",
                     "Nsight Compute at n=1024: CUDABench score 0.31, FP32 FLOP/s 1.5e+11, DRAM B/s 1.2e+12 "
                     "(kernel vector_add_kernel)", "- round 0: something",
                     "Refinement round 1 of 3, candidate 2 of 2", "exactly one fenced code block", "H100"):
        assert expected in text, (expected, text)
    alone = refine_messages(first, version(8), {**SPEED, "ncu": None}, 2, 2, 0, 1, [])[-1]["content"]
    assert "Nsight" not in alone and "Earlier" not in alone and "candidate 1 of 1." in alone


def test_refine_turns_are_cached_by_round_candidate_and_source_not_by_the_numbers(task):
    first = first_request(task)
    identity = model_identity(ReferenceModel())

    def key(speed, round_=1, candidate=0, sha="a" * 64):
        msgs = refine_messages(first.messages, version(8), speed, round_, 2, candidate, 2, [])
        return record_key(refine_request(first, msgs, round_, candidate, sha), identity)

    slower = {**SPEED, "scales": [{**row, "median_s": row["median_s"] * 1.07} for row in SPEED["scales"]]}
    assert key(SPEED) == key(slower)  # a rerun measures other numbers and still finds its answers
    assert len({key(SPEED), key(SPEED, candidate=1), key(SPEED, round_=2), key(SPEED, sha="b" * 64)}) == 4
    # A first turn keeps the key it had before refinement existed: caches of earlier runs stay valid.
    import hashlib

    legacy = hashlib.sha256(json.dumps({
        "task": task.id, "level": 1, "sample": 0, "attempt": 0, "model": identity, "prompt_hash": first.prompt_hash,
        "messages": hashlib.sha256(json.dumps(first.messages, sort_keys=True, default=str).encode()).hexdigest()[:16],
    }, sort_keys=True, default=str).encode()).hexdigest()[:32]
    assert record_key(first, identity) == legacy


def timed(time_s, score=None, verdict="passed"):
    result = make_item("basics/x", 1)
    result.update(stages={"time": {"status": "passed", "scales": [{"median_s": time_s}, {"median_s": time_s}]}},
                  performance_score=score, speedup=1.0 / time_s, source="s", source_sha256="h")
    return candidate_record(result, 1, 0, verdict)


def test_the_fastest_correct_version_is_kept_and_the_score_breaks_ties():
    kept = timed(1.0, score=0.5)
    assert timed(1.0, score=0.5)["time_s"] == pytest.approx(1.0)
    assert is_better(timed(0.9, score=0.1), kept)  # faster wins whatever the score
    assert not is_better(timed(1.1, score=0.9), kept)  # slower loses whatever the score
    assert is_better(timed(1.005, score=0.6), kept) and not is_better(timed(0.995, score=0.4), kept)  # a tie
    assert not is_better(timed(0.995, score=None), kept)
    not_timed = candidate_record({**make_item("basics/x", 1), "stages": {"time": {"status": "not-run"}}}, 1, 0, "passed")
    assert not_timed["time_s"] is None and not is_better(not_timed, kept)


def refined_item(task_id="basics/vector_add", level=1, trajectory=(0.1, 0.4, 0.9), kept_round=2, wrong=1):
    rounds = [{"round": r, "kept_candidate": 0 if r == 0 or trajectory[r] > trajectory[r - 1] else None,
               "candidates": [{"verdict": "passed"}] + ([{"verdict": "failed"}] if r else [])}
              for r in range(len(trajectory))]
    item = make_item(task_id, level, speedup=trajectory[-1])
    item.update(performance_score=0.5,
                refinement={"status": "done", "rounds": rounds, "trajectory": list(trajectory),
                            "kept_round": kept_round, "initial_speedup": trajectory[0], "final_speedup": trajectory[-1],
                            "gain": trajectory[-1] / trajectory[0], "initial_performance_score": 0.1,
                            "final_performance_score": 0.5, "wrong_candidates": wrong})
    return item


def test_report_aggregates_what_refinement_gained_per_group():
    not_run = make_item("basics/x", 1)
    not_run["refinement"] = {"status": "not-run", "message": "no speed here"}
    items = [refined_item(), refined_item("linalg/axpy", 2, (1.0, 1.0), kept_round=0, wrong=0), not_run]
    stats = refinement_stats(items)
    assert stats["n_refined"] == 2 and stats["n_improved"] == 1 and stats["n_not_run"] == 1
    assert stats["gain"] == pytest.approx(3.0) and stats["mean_score_gain"] == pytest.approx(0.4)
    assert stats["candidates"] == 6 and stats["wrong_candidates"] == 1
    agg = aggregates(items)
    assert agg["by_domain"]["linalg"]["refinement"]["gain"] == pytest.approx(1.0)
    assert agg["by_level"]["1"]["refinement"]["gain"] == pytest.approx(9.0)
    assert refinement_stats([{"task": "t"}]) is None and aggregates([{"task": "t"}])["overall"]["refinement"] is None
    text = "\n".join(summary_lines(build_report(base_run(), items, [])))
    assert "refinement: 2 items refined, 1 improved; speedup 0.32x -> 0.95x (gain 3.00x); 1 of 6" in text
    assert "refinement gain by level: 1 9.00x, 2 1.00x" in text and "not run on 1 item: no speed here" in text


def test_the_page_draws_each_trajectory():
    items = [refined_item(), refined_item("linalg/axpy", 2, (1.0, 1.0, 2.0), kept_round=2)]
    svg = refinement_svg({"items": items})
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 6
    assert "basics/vector_add level 1 sample 0: round 2, 0.9x" in svg
    assert svg.count('fill="#fff"') == 1  # axpy's round 1 kept nothing
    page = render(build_report(base_run(), items, []))
    assert 'id="refinement"' in page
    assert 'id="refinement"' not in render(build_report(base_run(), [make_item("basics/t")], []))


def test_export_replay_carries_every_round_and_replay_answers_them(tmp_path, task):
    cache = GenerationCache(tmp_path / "cache")
    first = first_request(task)
    turns = [(first, version(8))]
    for round_, candidate, source in ((1, 0, version(2)), (1, 1, WRONG), (2, 0, version(1))):
        msgs = refine_messages(first.messages, version(8), SPEED, round_, 2, candidate, 2, [])
        turns.append((refine_request(first, msgs, round_, candidate, "a" * 64), source))
    for n, (request, source) in enumerate(turns):
        cache.store(f"k{n}", {"task": task.id, "level": 1, "sample": 0, "round": request.round,
                              "candidate": request.candidate, "model_name": "m", "turns": len(request.messages),
                              "created": n, "generation": Generation(content=fenced(source), model="m").to_dict()})
    out = tmp_path / "replay.jsonl"
    assert export_replay(tmp_path / "cache", "m", out) == 4
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line.get("round", 0), line.get("candidate", 0)) for line in lines] == [(0, 0), (1, 0), (1, 1), (2, 0)]
    replay = ReplayModel(out)
    for request, source in turns:
        assert replay.generate(request).content == fenced(source)
    missing = refine_request(first, first.messages, 3, 0, "a" * 64)
    with pytest.raises(Exception, match="refine round 3 candidate 0"):
        replay.generate(missing)


# ------------------------------------------------------------------------------------------- end to end

# Small enough for the CPU runtime, large enough that the work, not the per-call overhead, sets the times.
SMALL_BENCH = "bench = [{ n = 20000 }, { n = 50000 }, { n = 100000 }, { n = 200000 }, { n = 300000 }]"
TURN = re.compile(r"Refinement round (\d+) of \d+, candidate (\d+) of")
# What the fake model answers: the first answer launches the kernel 8 times; round 1 offers 2 launches and a faster
# but wrong version; round 2 offers 1 launch and 4 launches.
ANSWERS = {(0, 0): version(8), (1, 1): version(2), (1, 2): WRONG, (2, 1): version(1), (2, 2): version(4)}


def refining(msgs):
    match = TURN.search(msgs[-1]["content"]) if len(msgs) > 2 else None
    return fenced(ANSWERS[(int(match[1]), int(match[2])) if match else (0, 0)])


@pytest.fixture
def server():
    with FakeOpenAIServer(responder=refining) as srv:
        yield srv


@pytest.fixture
def project(pytester, suite_copy, monkeypatch):
    suite_copy("basics/vector_add")
    toml = pytester.path / "task_suite" / "basics" / "vector_add" / "task.toml"
    toml.write_text(re.sub(r"(?m)^bench = \[[^\]]*\]", SMALL_BENCH, toml.read_text()))
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    return pytester


@pytest.fixture
def host_clock(project):
    """`-p host_clock_plugin` for the project's pytest runs: the test plugin, copied into the project (on the path of
    its runs and their xdist workers), sets the settings' host_clock_gpu."""
    from helpers import host_clock_plugin

    (project.path / "host_clock_plugin.py").write_text(Path(host_clock_plugin.__file__).read_text())
    return ("-p", "host_clock_plugin")


def run(pytester, server, *args):
    return pytester.runpytest_subprocess(
        "task_suite", f"--cudabench-model=openai:fake-model@{server.base_url}", "--cudabench-runtime=cpu",
        "--cudabench-refine=2", "--cudabench-candidates=2", "--cudabench-seed=7", "-p", "no:cacheprovider", *args)


def last_report(pytester):
    paths = [p for p in (pytester.path / "reports").glob("*.json") if not p.name.endswith(".benchmark.json")]
    path = sorted(paths, key=lambda p: p.stat().st_mtime)[-1]
    return json.loads(path.read_text())


def check_refined(item):
    refinement = item["refinement"]
    assert refinement["status"] == "done", refinement
    rounds = refinement["rounds"]
    verdicts = [[(c["verdict"], c["failed_stage"]) for c in r["candidates"]] for r in rounds]
    assert verdicts == [[("passed", None)], [("passed", None), ("failed", "execute")],
                        [("passed", None), ("passed", None)]], verdicts
    assert [r["kept_candidate"] for r in rounds] == [0, 0, 0]
    assert (refinement["kept_round"], refinement["kept_candidate"]) == (2, 0)
    assert refinement["wrong_candidates"] == 1 and not rounds[1]["candidates"][1]["kept"]
    sources = {c["source_sha256"]: c["source"] for r in rounds for c in r["candidates"]}
    kept = rounds[2]["candidates"][0]
    assert kept["kept"] and kept["source"].strip() == version(1).strip()
    assert item["source"] == kept["source"] and item["source_sha256"] == kept["source_sha256"] in sources
    assert item["speedup"] == refinement["final_speedup"] == refinement["trajectory"][-1]
    times = [c["time_s"] for c in (rounds[0]["candidates"][0], rounds[1]["candidates"][0],
                                   rounds[2]["candidates"][0], rounds[2]["candidates"][1])]
    assert times[0] > times[3] > times[1] > times[2], times  # 8 launches > 4 > 2 > 1
    trajectory = refinement["trajectory"]
    assert len(trajectory) == 3 and trajectory[0] < trajectory[1] < trajectory[2], trajectory
    assert refinement["gain"] > 3, refinement["gain"]
    assert item["stages"]["time"]["clock"] == "host" and "not a GPU measurement" in item["stages"]["time"]["definition"]
    return trajectory


def test_refinement_keeps_the_fastest_correct_version_and_a_rerun_asks_nothing(project, server, host_clock):
    result = run(project, server, "--cudabench-levels=1", *host_clock)
    result.assert_outcomes(passed=1)
    assert server.request_count == 5  # the first answer, then 2 rounds x 2 candidates
    report = last_report(project)
    trajectory = check_refined(report["items"][0])
    print("measured trajectory (speedup by round):", [round(v, 3) for v in trajectory])
    assert report["aggregates"]["by_tier"]["easy"]["refinement"]["n_improved"] == 1
    usage = next(iter(report["run"]["usage"].values()))
    assert (usage["items"], usage["requests"], usage["cached"]) == (1, 5, 0)  # every candidate's tokens counted
    result.stdout.fnmatch_lines(["*refinement: 1 item refined, 1 improved; speedup *(gain *x); 1 of 4 candidates "
                                 "wrong, never kept*"])
    assert 'id="refinement"' in next((project.path / "reports").glob("*.html")).read_text()

    server.reset()
    again = run(project, server, "--cudabench-levels=1", *host_clock)
    again.assert_outcomes(passed=1)
    assert server.request_count == 0
    item = last_report(project)["items"][0]
    check_refined(item)
    assert all(c["generation"]["cached"] for r in item["refinement"]["rounds"] for c in r["candidates"])
    assert next(iter(last_report(project)["run"]["usage"].values()))["cached"] == 5

    out = project.path / "replay.jsonl"
    exported = project.run(sys.executable, "-m", "pytest_cudabench", "export-replay", "--cache-dir",
                           str(project.path / ".cudabench_cache"), "-o", str(out))
    assert exported.ret == 0, exported.stderr.str()
    turns = sorted((line.get("round", 0), line.get("candidate", 0)) for line in map(json.loads, out.read_text().splitlines()))
    assert turns == [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1)]
    replayed = project.runpytest_subprocess(
        "task_suite", f"--cudabench-model=replay:{out}", "--cudabench-runtime=cpu", "--cudabench-refine=2",
        "--cudabench-candidates=2", "--cudabench-levels=1", "-p", "no:cacheprovider", *host_clock)
    replayed.assert_outcomes(passed=1)
    check_refined(last_report(project)["items"][0])


def test_refinement_under_xdist(project, server, host_clock):
    result = run(project, server, "--cudabench-levels=1", "-n", "2", *host_clock)  # the plugin sets the worker's too
    result.assert_outcomes(passed=1)
    assert server.request_count == 5
    check_refined(last_report(project)["items"][0])


def test_without_measured_speed_refinement_says_so_and_asks_nothing(project, server):
    result = run(project, server, "--cudabench-levels=1")
    result.assert_outcomes(passed=1)
    assert server.request_count == 1
    item = last_report(project)["items"][0]
    assert item["refinement"]["status"] == "not-run" and item["refinement"]["rounds"] == []
    assert "timing needs a GPU" in item["refinement"]["message"] and item["speedup"] is None
    result.stdout.fnmatch_lines(["*refinement: not run on 1 item: refinement needs measured speed*no refine rounds*"])


@pytest.mark.parametrize("args, message", [
    (("--cudabench-refine=-1",), "--cudabench-refine=-1: expected an integer >= 0"),
    (("--cudabench-candidates=0",), "--cudabench-candidates=0: expected a positive integer"),
    (("-o", "cudabench_candidates=x"), "ini key cudabench_candidates=x: expected a positive integer"),
])
def test_bad_refine_settings_are_usage_errors(pytester, args, message):
    result = pytester.runpytest_subprocess("--cudabench-model=reference", *args, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_a_model_failure_mid_way_keeps_the_best_so_far(tmp_path, shared_cache):
    """The pipeline alone (no pytest run): round 2's request fails; round 1's faster version stays the result."""
    import shutil

    from pytest_cudabench.config import Settings
    from pytest_cudabench.errors import ModelError
    from pytest_cudabench.pipeline import Evaluation

    target = tmp_path / "task_suite" / "basics" / "vector_add"
    shutil.copytree(SUITE / "basics" / "vector_add", target)
    toml = target / "task.toml"
    toml.write_text(re.sub(r"(?m)^bench = \[[^\]]*\]", SMALL_BENCH, toml.read_text()))
    task = load_task(target, tmp_path / "task_suite")
    settings = Settings(model="m", runtime="cpu", seed=7, cache_dir=str(shared_cache), refine=2, candidates=1,
                        host_clock_gpu="NVIDIA H100 80GB HBM3")

    def ask(request):
        if request.round == 2:
            raise ModelError("model API failed: 503 overloaded")
        return Generation(content=fenced(version(1)), model="m")

    evaluation = Evaluation(task, 1, 0, settings)
    result = evaluation.run_attempts(first_request(task), fenced(version(4)), ask, 1)
    refinement = result["refinement"]
    assert refinement["status"] == "stopped" and "round 2: the model failed: model API failed: 503" in \
        refinement["message"]
    assert (refinement["kept_round"], refinement["kept_candidate"]) == (1, 0)
    assert refinement["rounds"][2]["candidates"] == [{"candidate": 0, "verdict": "model-error",
                                                      "message": "model API failed: 503 overloaded"}]
    assert result["source"].strip() == version(1).strip() and evaluation.source == result["source"]
    assert len(refinement["trajectory"]) == 3 and refinement["trajectory"][1] == refinement["trajectory"][2]
