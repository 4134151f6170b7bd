"""Comparing models: the statistics against hand-computed values, the leaderboard's rules (common items, duplicates,
caveats, pairs with Holm), its JSON, the report-file loader's messages, `compare`'s paired figures, and the whole
command on three replay runs of the real plugin, rendered in headless Chromium."""

import copy
import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.paths import REPO
from helpers.report_factory import EVIL_SOURCE, base_run, make_item, make_report, make_scales

from pytest_cudabench.errors import MergeError, ReportFileError
from pytest_cudabench.reporting import statistics as stats
from pytest_cudabench.reporting.leaderboard import build_leaderboard, leaderboard_lines, main, matrix_csv
from pytest_cudabench.reporting.leaderboard_html import render
from pytest_cudabench.reporting.report import build_report
from pytest_cudabench.reporting.report_files import load_report
from pytest_cudabench.reporting.runs import compare_lines, compare_reports, main_compare

TASKS = ["basics/vector_add", "basics/saxpy", "linalg/sgemm", "signal/fir_filter", "ai/softmax"]


def report(model: str, verdicts: dict[tuple[str, int], str], seed: int = 1, timed: bool = False, samples: int = 1,
           **run) -> dict:
    """A report whose items have the given verdicts: "pass", "compile"/"execute" (failed there), "skip", "error"."""
    items = []
    for (task, level), what in verdicts.items():
        for sample in range(samples):
            verdict = what[sample] if isinstance(what, list) else what
            scales = make_scales(task, 0.5) if timed and verdict == "pass" else None
            if verdict == "pass":
                items.append(make_item(task, level, sample, "passed", model=model, scales=scales))
            elif verdict in ("compile", "execute"):
                items.append(make_item(task, level, sample, "failed", model=model, failed_stage=verdict,
                                       message=f"wrong at {verdict}"))
            elif verdict == "skip":
                items.append(make_item(task, level, sample, "skipped", model=model, message="no recorded answer"))
            else:
                items.append(make_item(task, level, sample, "error", model=model, failed_stage="generate",
                                       message="HTTP 500"))
    return build_report({**base_run(model=model, seed=seed, timed=timed, run_id=f"run-{model}-{seed}"), **run},
                        items, [])


def grid(verdict="pass", levels=(1, 2)) -> dict:
    return {(task, level): verdict for task in TASKS for level in levels}


def board_of(*reports, names=None, **kwargs):
    named = [(names[i] if names else f"{r['run']['model']}-{i}.json", r) for i, r in enumerate(reports)]
    return build_leaderboard(named, **kwargs)[0]


def write(tmp_path: Path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


# --- the statistics, by hand ----------------------------------------------------------------------------------------

def test_wilson_interval_matches_the_hand_computed_values():
    low, high = stats.wilson_interval(10, 10)
    z = 1.959963984540054
    assert low == pytest.approx(1 / (1 + z * z / 10), abs=1e-12) and round(low, 3) == 0.722 and high == 1.0
    low, high = stats.wilson_interval(0, 10)  # mirrored at 0 %
    assert low == 0.0 and high == pytest.approx(1 - 1 / (1 + z * z / 10))
    p, n = 8 / 17, 17  # the example: 8 of 17 correct is about [26 %, 69 %]
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert stats.wilson_interval(8, 17) == pytest.approx((centre - half, centre + half))
    assert (round(centre - half, 2), round(centre + half, 2)) == (0.26, 0.69)
    assert stats.wilson_interval(0, 0) is None


def test_exact_mcnemar_is_the_two_sided_binomial_on_the_discordant_items():
    assert stats.mcnemar_exact(8, 0) == 2 * 0.5 ** 8 == stats.mcnemar_exact(0, 8)
    assert stats.mcnemar_exact(9, 0) == pytest.approx(0.0039, abs=1e-4)
    assert stats.mcnemar_exact(3, 1) == 2 * (1 + 4) / 16  # 2 P[X <= 1], X ~ Bin(4, 1/2)
    assert stats.mcnemar_exact(5, 5) == 1.0 and stats.mcnemar_exact(0, 0) == 1.0
    assert stats.mcnemar_exact(600, 500) == pytest.approx(0.00283, rel=0.02)  # no underflow at large n


def test_holm_steps_down_and_stays_monotone():
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])  # 4 x 0.005, 3 x 0.01, 2 x 0.03, max(0.06, 0.04)
    assert [a <= 0.05 for a in adjusted] == [True, False, False, True]
    # Holm stops at the first failure: 0.04 > alpha / 2 fails, so 0.045 (< alpha) is not rejected either
    assert [a <= 0.05 for a in stats.holm([0.001, 0.04, 0.045])] == [True, False, False]
    assert stats.holm([0.3, 0.02]) == pytest.approx([0.3, 0.04]) and stats.holm([0.9, 0.8]) == [1.0, 1.0]
    assert stats.holm([]) == []


def test_the_bootstrap_resamples_tasks_and_is_reproducible_from_its_seed():
    # 10 tasks of 10 items each, every task all right or all wrong: the items of a task are one observation
    clusters = [[1.0] * 10 if t % 2 else [0.0] * 10 for t in range(10)]
    items = [[v] for c in clusters for v in c]
    by_task = stats.bootstrap_interval(clusters, seed=5)
    by_item = stats.bootstrap_interval(items, seed=5)
    assert by_task[0] < 0.5 < by_task[1]
    assert by_task[1] - by_task[0] > 2 * (by_item[1] - by_item[0])  # resampling items would claim 3x the precision
    assert stats.bootstrap_interval(clusters, seed=5) == by_task
    assert list(stats.bootstrap_means(clusters, seed=6)) != list(stats.bootstrap_means(clusters, seed=5))
    assert stats.bootstrap_interval([[], []]) is None


def test_a_bootstrap_p_value_is_never_zero():
    all_above = stats.bootstrap_means([[1.0], [2.0], [3.0]], resamples=999)
    assert stats.bootstrap_p_value(all_above) == 2 / 1000  # (0 + 1) / (B + 1), two-sided
    assert stats.bootstrap_p_value(stats.bootstrap_means([[1.0], [-1.0]] * 5)) == 1.0


# --- the leaderboard's rules ----------------------------------------------------------------------------------------

def test_rates_are_compared_over_the_common_items_and_the_rest_is_listed():
    a = report("model-a", grid())
    verdicts = grid()
    verdicts[("ai/softmax", 1)] = "skip"
    verdicts[("ai/softmax", 2)] = "error"
    verdicts[("basics/saxpy", 2)] = "execute"
    b = report("model-b", verdicts)
    del_b = copy.deepcopy(b)
    del_b["items"] = [i for i in del_b["items"] if i["task"] != "linalg/sgemm" or i["level"] != 2]  # absent in B
    board = board_of(a, build_report(del_b["run"], del_b["items"], []))
    assert board["common_items"] == 7 and board["all_items"] == 10
    row_a, row_b = board["models"]
    assert (row_a["model"], row_a["n"], row_a["correct"], row_a["correct_rate"]) == ("model-a", 7, 7, 1.0)
    assert (row_b["n"], row_b["correct"], row_b["judged"], row_b["skipped"], row_b["errors"]) == (7, 6, 7, 1, 1)
    assert row_b["all_judged"]["n"] == 7  # what B judged is the common set here
    assert board["left_out"]["model-a"] == {"judged": 3, "skipped": 0, "errors": 0, "absent": 0, "reasons": []}
    left_b = board["left_out"]["model-b"]
    assert (left_b["skipped"], left_b["errors"], left_b["absent"], left_b["judged"]) == (1, 1, 1, 0)
    assert "no recorded answer" in left_b["reasons"]
    assert any("7 of 10 items are common" in c for c in board["caveats"])
    out = "\n".join(leaderboard_lines(board))
    assert "compared over 7 common items" in out and "left out for model-b: 1 skipped, 1 errors, 1 absent" in out
    # The pair uses what both judged: here the same 7 items, one discordant
    (pair,) = board["pairs"]
    assert (pair["common_items"], pair["discordant"], pair["correct"]) == (7, [1, 0], [7, 6])


def test_the_left_out_reasons_do_not_depend_on_the_process():
    """Tied reasons come in item-key order, not a set's order (which changes with PYTHONHASHSEED): the same
    reports give the same board in every process."""
    skipped = [make_item(task, 1, 0, "skipped", model="b", message=f"no answer for {task}") for task in TASKS]
    b = build_report(base_run(model="b", run_id="run-b"), skipped, [])
    board = board_of(report("a", grid(levels=(1,))), b)
    assert board["left_out"]["b"]["reasons"] == [f"no answer for {task}" for task in sorted(TASKS)[:3]]


def test_the_common_item_caveat_says_what_differs():
    skipped_by_both = grid()
    skipped_by_both[("ai/softmax", 1)] = "skip"
    board = board_of(report("a", skipped_by_both), report("b", skipped_by_both))
    assert board["common_items"] == 9 and board["caveats"] == []  # the same items judged: nothing to warn about
    assert board["left_out"]["a"]["skipped"] == 1
    apart = board_of(report("a", {("ai/softmax", 1): "pass"}), report("b", {("linalg/sgemm", 1): "pass"}))
    assert apart["common_items"] == 0 and apart["models"][0]["correct_rate"] is None
    assert apart["caveats"][0].startswith("no item was judged for every one of the models: there is nothing")


def test_reports_of_one_model_combine_and_conflicting_duplicates_are_refused_naming_both_files():
    levels_1 = report("m", grid(levels=(1,)))
    levels_2 = report("m", grid(levels=(2,)), id="run-m-level2")
    board = board_of(levels_1, levels_2, report("other", grid()), names=["l1.json", "l2.json", "o.json"])
    row = next(r for r in board["models"] if r["model"] == "m")
    assert row["files"] == ["l1.json", "l2.json"] and row["items"] == 10 and board["common_items"] == 10
    same = board_of(levels_1, copy.deepcopy(levels_1), names=["a.json", "b.json"])
    assert same["models"][0]["items"] == 5 and any("5 item(s) given twice" in c for c in same["caveats"])
    changed = grid(levels=(1,))
    changed[("linalg/sgemm", 1)] = "compile"
    with pytest.raises(MergeError, match=r"linalg/sgemm::level1\[sample0\] of model m has two different results: "
                                         r"passed in first.json and failed at compile in second.json"):
        board_of(levels_1, report("m", changed), names=["first.json", "second.json"])


def test_a_model_whose_runs_used_another_seed_gets_a_caveat():
    board = board_of(report("a", grid(), seed=1), report("b", grid(), seed=2), report("c", grid(), seed=1))
    seed_notes = [c for c in board["caveats"] if c.startswith("seed differs")]
    assert seed_notes == ["seed differs between models (1: a, c; 2: b): the models saw different random inputs, "
                          "so their items are not paired on inputs (McNemar and the paired bootstraps assume they "
                          "are)"]
    assert "  ! seed differs between models" in "\n".join(leaderboard_lines(board))
    shards = board_of(report("a", grid(levels=(1,)), seed=1), report("a", grid(levels=(2,)), seed=9))
    assert "the runs of a differ in seed (1, 9)" in shards["caveats"]
    assert not any("seed" in c for c in board_of(report("a", grid()), report("b", grid()))["caveats"])


def test_pairs_use_exact_mcnemar_with_holm_and_mark_what_is_significant():
    strong = report("strong", grid("pass", levels=(1, 2)))  # 10 right
    middling = grid("pass", levels=(1, 2))
    for key in list(middling)[:4]:
        middling[key] = "execute"
    weak = grid("compile", levels=(1, 2))
    weak[("basics/vector_add", 1)] = weak[("basics/vector_add", 2)] = "pass"
    board = board_of(strong, report("middling", middling), report("weak", weak))
    assert [r["model"] for r in board["models"]] == ["strong", "middling", "weak"]
    pairs = {(p["a"], p["b"]): p for p in board["pairs"]}
    sw = pairs[("strong", "weak")]
    assert sw["discordant"] == [8, 0] and sw["p_value"] == 2 * 0.5 ** 8
    assert sw["difference"] == pytest.approx(0.8) and sw["difference_ci95"][0] > 0
    raw = [p["p_value"] for p in board["pairs"]]
    assert [p["p_holm"] for p in board["pairs"]] == pytest.approx(stats.holm(raw))
    assert sw["significant"] and sw["p_holm"] == pytest.approx(3 * 2 * 0.5 ** 8)
    assert not pairs[("strong", "middling")]["significant"]  # 4 discordant: p = 0.125
    assert board["models"][0]["better_than"] == ["weak"] and board["models"][2]["better_than"] == []
    assert stats.holm(raw) != raw  # the adjustment did something here


def test_pass_at_k_with_several_samples_and_scores_with_intervals_where_measured():
    verdicts = {(t, 1): ["pass", "execute"] for t in TASKS[:2]} | {(t, 1): ["compile", "compile"] for t in TASKS[2:]}
    board = board_of(report("sampled", verdicts, samples=2, timed=True), report("other", verdicts, samples=2))
    row = next(r for r in board["models"] if r["model"] == "sampled")
    pk = row["pass_at_k"]
    assert pk["k_max"] == 2 and pk["n_problems"] == 5
    assert pk["values"] == {"1": pytest.approx(0.2), "2": pytest.approx(0.4)}  # 2 of 5 problems have 1 of 2 right
    assert pk["ci95"]["2"][0] <= 0.4 <= pk["ci95"]["2"][1]
    assert row["cudabench_score"] is not None and row["cudabench_score_ci95"][0] <= row["cudabench_score"]
    assert row["mean_performance_score"] is not None
    other = next(r for r in board["models"] if r["model"] == "other")
    assert other["cudabench_score"] is None and other["cudabench_score_ci95"] is None  # not measured
    assert any("performance was measured for sampled only" in c for c in board["caveats"])
    assert board["pairs"][0]["score"] is None  # no score difference without both scores
    lines = "\n".join(leaderboard_lines(board))
    assert "pass@2" in lines and "not measured" in lines


def test_the_json_has_the_documented_fields():
    half = grid()
    half[("ai/softmax", 1)] = half[("ai/softmax", 2)] = "execute"
    board = board_of(report("a", grid(), timed=True), report("b", half, timed=True))
    assert board["schema"] == "pytest-cudabench/leaderboard/1"
    assert set(board) >= {"schema", "sources", "caveats", "common_items", "all_items", "left_out", "methods", "models",
                          "pairs", "matrix"}
    for row in board["models"]:
        assert set(row) >= {"model", "rank", "judged", "errors", "skipped", "compile_rate", "correct_rate",
                            "correct_ci95", "pass_at_k", "cudabench_score", "cudabench_score_ci95",
                            "mean_performance_score", "by_level", "by_domain", "by_tier", "tokens_in", "tokens_out",
                            "cost_usd", "better_than"}
        assert set(row["by_level"]) == {"1", "2"} and "linalg" in row["by_domain"]
    (pair,) = board["pairs"]
    assert set(pair) >= {"a", "b", "common_items", "discordant", "p_value", "p_holm", "significant"}
    assert pair["score"]["difference"] > 0 and "p_holm" in pair["score"]
    assert board["methods"]["bootstrap"] == {"unit": "task", "resamples": stats.BOOTSTRAP_RESAMPLES,
                                             "seed": stats.BOOTSTRAP_SEED, "confidence": 0.95,
                                             "interval": "percentile", "used_for": board["methods"]["bootstrap"][
                                                 "used_for"]}
    row = next(r for r in board["matrix"]["rows"] if r["key"] == "ai/softmax::level1[sample0]")
    assert board["matrix"]["models"] == ["a", "b"]
    assert row["cells"]["b"]["status"] == "fail" and row["cells"]["b"]["failed_stage"] == "execute"
    assert row["cells"]["a"]["file"] == "a-0.json"
    json.dumps(board)  # plain JSON
    seeded = board_of(report("a", grid(), timed=True), report("b", half, timed=True), seed=3)
    assert seeded["methods"]["bootstrap"]["seed"] == 3


# --- report files -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    ('{"task": "a", "level": 1}\n{"task": "b", "level": 1}\n', "JSON lines (2 records, the first with keys level, "
                                                               "task): a replay or CUDABench-Set file"),
    ('{"schema": "pytest-cudabench/report/1", "run": {}', "not JSON (Expecting ',' delimiter at line 1 column 50)"),
    ("", "the file is empty"),
    ("[1, 2]", "a JSON list, not a run report"),
    ('{"benchmarks": [], "machine_info": {}}', "a pytest-benchmark file (export-benchmark writes those)"),
    ('{"schema": "pytest-cudabench/leaderboard/1"}', "a leaderboard, not a run report"),
    ('{"schema": "pytest-cudabench/report/9", "run": {}, "items": []}', "schema 'pytest-cudabench/report/9', and "
                                                                         "this version"),
    ('{"schema": "pytest-cudabench/report/1", "items": []}', "field 'run' is missing or not an object"),
    ('{"schema": "pytest-cudabench/report/1", "run": {}, "items": [{"task": "a"}, 3]}', "items[1] is not an item"),
])
def test_a_file_that_is_not_a_report_is_named_with_what_it_is(tmp_path, capsys, content, message):
    path = write(tmp_path, "given.json", content)
    with pytest.raises(ReportFileError, match="given.json: " + message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        load_report(path)
    good = write(tmp_path, "good.json", report("m", grid()))
    for command in (lambda: main_compare([good, path]), lambda: main([good, path])):
        assert command() == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {path}: ") and "Extra data" not in err


def test_export_benchmark_and_merge_name_the_file_too(tmp_path):
    path = write(tmp_path, "answers.jsonl", '{"task": "a"}\n{"task": "b"}\n')
    for command in (["export-benchmark", path], ["merge", path, "-o", str(tmp_path / "m.json")]):
        done = subprocess.run([sys.executable, "-m", "pytest_cudabench", *command], capture_output=True, text=True)
        assert done.returncode == 2 and f"{path}: JSON lines (2 records" in done.stderr, done.stderr
    with pytest.raises(ReportFileError, match="missing.json: no such file"):
        load_report(tmp_path / "missing.json")


# --- compare's paired figures ---------------------------------------------------------------------------------------

def test_compare_prints_counts_paired_rates_mcnemar_the_interval_notes_and_failed_stages(tmp_path, capsys):
    a = report("m", grid())
    verdicts = grid()
    for key in list(verdicts)[:8]:
        verdicts[key] = "compile" if key[1] == 1 else "execute"
    verdicts[("ai/softmax", 2)] = "skip"
    b = report("m", verdicts, seed=2, id="run-b")
    result = compare_reports(a, b)
    assert result["judged"]["b"] == {"items": 10, "judged": 9, "errors": 0, "skipped": 1}
    assert result["paired"]["discordant"] == [8, 0] and result["paired"]["p_value"] == 2 * 0.5 ** 8
    assert result["paired"]["common_items"] == 9
    assert any(n.startswith("seed differs between runs (1: A; 2: B)") for n in result["notes"])
    assert main_compare([write(tmp_path, "a.json", a), write(tmp_path, "b.json", b)]) == 1  # still a gate
    out = capsys.readouterr().out
    assert "judged: A 10 of 10 items (0 errors, 0 skipped); B 9 of 10 (0 errors, 1 skipped)" in out
    assert "correct A 9 = 100.0% [70.1, 100.0], B 1 = 11.1% [2.0, 43.5]" in out
    assert "exact McNemar: 8 discordant items (only A right 8, only B right 0), p = 0.0078" in out
    assert "difference B - A: -88.9pp [95 % CI" in out
    assert "note: seed differs between runs" in out
    changed = [line for line in out.splitlines() if "regression" in line and "::level" in line]
    assert len(changed) == 8 and all(" compile " in line or " execute " in line for line in changed)
    same = compare_lines(compare_reports(a, copy.deepcopy(a)))
    assert not any(line.startswith("note:") for line in same)


# --- the whole command on three replay runs of the real plugin ------------------------------------------------------

E2E_TASKS = ("basics/vector_add", "ai/relu")


def replay_answer(task: str, kind: str) -> str:
    source = (REPO / "task_suite" / task / "solution.cu").read_text()
    if kind == "ok":
        return f"```cuda\n{source}\n```"
    if kind == "compile":
        return f"```cuda\n{source.replace('__global__', '__global__ undefined_type', 1)}\n```"
    signature = source[source.index('extern "C" void solve('):]
    signature = signature[:signature.index(")") + 1]
    return f"```cuda\n#include <cuda_runtime.h>\n{signature} {{}}\n```"  # "empty": runs, computes nothing


PLANS = {  # per model: the answer kind per task and level (None: no answer, so the item is skipped)
    "strong": {"basics/vector_add": ["ok"] * 3, "ai/relu": ["ok"] * 3},
    "middling": {"basics/vector_add": ["ok"] * 3, "ai/relu": ["compile", "ok", "ok"]},
    "weak": {"basics/vector_add": ["empty"] * 3, "ai/relu": ["ok", "compile", None]},
}


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory, shared_cache):
    """Reports of three replay models over two tasks x three levels, run by the real plugin (seed 1)."""
    root = tmp_path_factory.mktemp("three-runs")
    for task in E2E_TASKS:
        (root / "task_suite" / task).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-r", str(REPO / "task_suite" / task), str(root / "task_suite" / task)], check=True)
    reports = []
    for model, plan in PLANS.items():  # one after the other: identical answers compile once (shared cache)
        lines = [json.dumps({"task": task, "level": level, "sample": 0, "content": replay_answer(task, kind)})
                 for task, kinds in plan.items() for level, kind in enumerate(kinds, 1) if kind]
        (root / f"{model}.jsonl").write_text("\n".join(lines) + "\n")
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--cudabench-model=replay:{model}.jsonl",
             "--cudabench-seed=1", f"--cudabench-report-dir=reports-{model}", f"--cudabench-cache-dir={shared_cache}",
             "-q", "task_suite"], cwd=root, capture_output=True, text=True, timeout=600,
            env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
        (path,) = (root / f"reports-{model}").glob("*.json")
        reports.append(path)
    return root, reports


def test_leaderboard_of_three_replay_runs_end_to_end(three_runs, tmp_path):
    root, reports = three_runs
    out = {kind: tmp_path / f"board.{ext}" for kind, ext in (("json", "json"), ("html", "html"), ("markdown", "md"),
                                                            ("csv", "csv"))}
    done = subprocess.run([sys.executable, "-m", "pytest_cudabench", "leaderboard", *map(str, reports),
                           *(arg for kind, path in out.items() for arg in (f"--{kind}", str(path)))],
                          capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    text = done.stdout
    lines = text.splitlines()
    def wilson(k: int, n: int) -> str:
        low, high = stats.wilson_interval(k, n)
        return f"{100 * k / n:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"

    strong = next(line for line in lines if line.startswith("1  replay:strong.jsonl"))
    assert "6/6" in strong and wilson(5, 5) in strong  # over the 5 common items
    assert any(line.startswith("2  replay:middling.jsonl") and wilson(4, 5) in line for line in lines)
    assert any(line.startswith("3  replay:weak.jsonl") and "5/6" in line and wilson(1, 5) in line for line in lines)
    assert "compared over 5 common items (judged for every model) of 6" in text
    assert "left out for replay:weak.jsonl: 1 skipped (e.g. no recorded answer" in text
    assert "by level (the CUDABench paper's table):" in text and "pairs (over the items both were judged on):" in text
    board = json.loads(out["json"].read_text())
    assert [m["model"] for m in board["models"]] == ["replay:strong.jsonl", "replay:middling.jsonl",
                                                     "replay:weak.jsonl"]
    assert not any("seed" in c for c in board["caveats"])  # all three ran with seed 1
    pair = next(p for p in board["pairs"] if p["b"] == "replay:weak.jsonl" and p["a"] == "replay:strong.jsonl")
    assert pair["discordant"] == [4, 0] and pair["p_value"] == 2 * 0.5 ** 4 and pair["common_items"] == 5
    rows = list(csv.DictReader(io.StringIO(out["csv"].read_text())))
    assert len(rows) == 6
    relu3 = next(r for r in rows if r["task"] == "ai/relu" and r["level"] == "3")
    assert (relu3["replay:strong.jsonl"], relu3["replay:weak.jsonl"], relu3["common"]) == ("pass", "skip", "no")
    vector1 = next(r for r in rows if r["task"] == "basics/vector_add" and r["level"] == "1")
    assert vector1["replay:weak.jsonl"] == "fail:execute"
    assert next(r for r in rows if r["task"] == "ai/relu" and r["level"] == "1")["replay:middling.jsonl"] == \
        "fail:compile"
    markdown = out["markdown"].read_text()
    assert markdown.startswith("# Leaderboard") and "| 3 | replay:weak.jsonl | 5/6 |" in markdown
    page = out["html"].read_text()
    assert page.startswith("<!DOCTYPE html>") and 'id="matrix"' in page and "Content-Security-Policy" in page
    assert page.count('class="st st-') == 18 and 'href="#i-0-0"' in page and 'id="i-0-0"' in page
    # compare of two of them stays a gate, with the paired figures
    gate = subprocess.run([sys.executable, "-m", "pytest_cudabench", "compare", str(reports[0]), str(reports[2])],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert gate.returncode == 1 and "exact McNemar: 4 discordant items" in gate.stdout
    assert "execute" in next(line for line in gate.stdout.splitlines() if line.startswith("basics/vector_add::level1"))


def test_the_leaderboard_page_in_headless_chromium(tmp_path):
    from helpers.chromium import png_size, run_chromium

    evil = make_report(evil=True, model="<script>document.title='PWNED'</script>", timed=False)
    reports = [("evil.json", evil), ("plain.json", make_report(model="plain", timed=False))]
    board, models = build_leaderboard(reports)
    page = render(board, models)
    assert "<script>document.title" not in page and EVIL_SOURCE not in page
    path = tmp_path / "board.html"
    path.write_text(page)
    rows = len(board["matrix"]["rows"])
    done = run_chromium(tmp_path, path.as_uri(), "--dump-dom")
    assert 'data-ready="1"' in done.stdout, done.stderr[-2000:]
    assert f'data-shown="{rows}"' in done.stdout and "<title>PWNED" not in done.stdout
    assert "data-pwned" not in done.stdout.split("<body", 1)[1].split(">", 1)[0]
    sgemm = [r for r in board["matrix"]["rows"] if r["task"] == "linalg/sgemm"]
    done = run_chromium(tmp_path, path.as_uri() + "#q=sgemm", "--dump-dom")  # the filter runs
    assert f'data-shown="{len(sgemm)}"' in done.stdout and len(sgemm) == 3
    differ = [r for r in board["matrix"]["rows"]
              if len({(c or {}).get("status") for c in r["cells"].values()}) > 1]
    done = run_chromium(tmp_path, path.as_uri() + "#differ=1&status=fail", "--dump-dom")
    failing = [r for r in differ if any((c or {}).get("status") == "fail" for c in r["cells"].values())]
    assert f'data-shown="{len(failing)}"' in done.stdout and 0 < len(failing) < rows
    shot = tmp_path / "board.png"
    run_chromium(tmp_path, path.as_uri(), "--hide-scrollbars", f"--screenshot={shot}", "--window-size=1200,900")
    assert png_size(shot) == (1200, 900) and shot.stat().st_size > 20_000
    assert matrix_csv(board).count("\n") == rows + 1
