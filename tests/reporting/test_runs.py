"""Several reports: compare (verdicts, deltas, exit status), merge (totals, duplicates, models), and the
pytest-benchmark export read back by the real `pytest-benchmark compare`."""

import copy
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.paths import SUITE
from helpers.report_factory import base_run, make_item, make_report, make_scales

from pytest_cudabench.reporting.aggregates import aggregates
from pytest_cudabench.reporting.report import build_report, totals
from pytest_cudabench.reporting.runs import (
    MergeError,
    MergeWarning,
    compare_reports,
    item_key,
    main_compare,
    main_merge,
    merge_reports,
    to_pytest_benchmark,
)


def passing_report(n: int = 10, model: str = "m", score: float = 0.5, **run) -> dict:
    tasks = ["basics/vector_add", "basics/saxpy", "linalg/sgemm", "signal/fir_filter", "ai/softmax"]
    items = []
    for index in range(n):
        scales = make_scales(tasks[index % len(tasks)], 0.5)
        for s in scales:
            s["score"] = score
        items.append(make_item(tasks[index % len(tasks)], 1 + index // len(tasks), 0, "passed", model=model,
                               scales=scales))
    return build_report(base_run(model=model, **run), items, [])


def write(tmp_path: Path, name: str, report: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(report))
    return str(path)


# --- compare ------------------------------------------------------------------------------------------------------

def test_compare_identical_reports_is_clean(tmp_path, capsys):
    report = make_report()
    result = compare_reports(report, report, 0.05)
    assert not result["regressed"] and result["reasons"] == []
    assert {r["change"] for r in result["items"]} == {"same"}
    assert result["overall"]["correct_rate"]["delta"] == 0
    a = write(tmp_path, "a.json", report)
    assert main_compare([a, a]) == 0
    assert "OK: no regression" in capsys.readouterr().out


def test_a_verdict_regression_fails_whatever_the_threshold(tmp_path, capsys):
    a = passing_report(20)
    b = copy.deepcopy(a)
    victim = b["items"][3]
    victim.update(outcome="failed", failed_stage="execute", correct=False, message="c: 3 values differ",
                  performance_score=None)
    b = build_report(b["run"], b["items"], [])
    result = compare_reports(a, b, threshold=0.5)  # the overall drop (5pp) is within this threshold
    assert result["regressions"] == [item_key(victim)]
    assert result["regressed"] and "pass to fail" in result["reasons"][0]
    row = next(r for r in result["items"] if r["key"] == item_key(victim))
    assert (row["a"], row["b"], row["change"], row["b_failed_stage"]) == ("passed", "failed", "regression", "execute")
    out_json = tmp_path / "cmp" / "result.json"
    assert main_compare([write(tmp_path, "a.json", a), write(tmp_path, "b.json", b), "--threshold", "0.5",
                         "--json", str(out_json)]) == 1
    out = capsys.readouterr().out
    assert "REGRESSED" in out and item_key(victim) in out and "regression" in out
    assert json.loads(out_json.read_text())["regressions"] == [item_key(victim)]
    # Swapped: B fixes what A broke; not a regression.
    assert compare_reports(b, a, 0.5)["fixes"] == [item_key(victim)]
    assert not compare_reports(b, a, 0.5)["regressed"]


def test_an_overall_correct_rate_drop_is_gated_by_the_threshold(tmp_path):
    a = passing_report(10)
    extra = [make_item("vision/new_task", level, 0, "failed", model="m", failed_stage="compile", message="boom")
             for level in (1, 2)]
    b = build_report(a["run"], a["items"] + extra, [])  # 10/12 correct: a drop of 16.7pp, no verdict regression
    result = compare_reports(a, b, 0.05)
    assert result["regressions"] == [] and len(result["new"]) == 2
    assert result["overall"]["correct_rate"]["delta"] == pytest.approx(-1 / 6, abs=1e-5)
    assert result["regressed"] and "correct_rate" in " ".join(result["reasons"])
    assert not compare_reports(a, b, 0.2)["regressed"]
    pa, pb = write(tmp_path, "a.json", a), write(tmp_path, "b.json", b)
    assert main_compare([pa, pb]) == 1
    assert main_compare([pa, pb, "--threshold", "0.2"]) == 0


def test_a_cudabench_score_drop_and_per_item_score_deltas(tmp_path):
    a, b = passing_report(10, score=0.5), passing_report(10, score=0.4)
    result = compare_reports(a, b, 0.05)
    assert result["overall"]["cudabench_score"]["delta"] == pytest.approx(-0.1)
    assert result["regressed"] and "cudabench_score" in result["reasons"][0]
    assert len(result["score_regressions"]) == 10  # each item is 20% slower
    assert all(r["score_delta"] == pytest.approx(-0.1) for r in result["items"])
    assert not compare_reports(a, b, 0.15)["regressed"]
    # Not measured on either side (no GPU): nothing to gate on.
    untimed = make_report(timed=False)
    assert not compare_reports(untimed, untimed, 0.0)["regressed"]


def test_compare_cli_through_main_module(tmp_path):
    a = write(tmp_path, "a.json", passing_report(5))
    b_report = passing_report(5)
    b_report["items"][0].update(outcome="error", failed_stage="generate")
    b = write(tmp_path, "b.json", build_report(b_report["run"], b_report["items"], []))
    done = subprocess.run([sys.executable, "-m", "pytest_cudabench", "compare", a, b, "--all"],
                          capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "regression" in done.stdout and "items " in done.stdout
    bad = subprocess.run([sys.executable, "-m", "pytest_cudabench", "compare", a, str(tmp_path / "missing.json")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "error" in bad.stderr


def test_missing_items_and_pass_to_skip_are_regressions(tmp_path, capsys):
    """A CI gate: 312 items vanishing, or a passing item now skipped, is not "no regression"."""
    a = passing_report(10)
    b = build_report(a["run"], copy.deepcopy(a["items"][:6]), [])  # four items vanished
    b["items"][0].update(outcome="skipped", correct=None, message="no recorded answer")
    b = build_report(b["run"], b["items"], [])
    result = compare_reports(a, b, threshold=1.0)  # no rate threshold can excuse it
    assert len(result["removed"]) == 4 and result["skipped"] == [item_key(a["items"][0])]
    assert result["regressed"]
    assert any("missing from B" in r for r in result["reasons"])
    assert any("skipped in B" in r for r in result["reasons"])
    assert main_compare([write(tmp_path, "a.json", a), write(tmp_path, "b.json", b), "--threshold", "1"]) == 1
    out = capsys.readouterr().out
    assert "4 item(s) of A are missing from B" in out and "1 pass->skip" in out
    # New items in B are not a regression by themselves (the suite grew).
    assert not compare_reports(build_report(a["run"], copy.deepcopy(a["items"][:6]), []), a, 1.0)["regressed"]


def test_empty_and_interrupted_reports_are_refused(tmp_path, capsys):
    a = passing_report(5)
    pa = write(tmp_path, "a.json", a)
    empty = build_report(a["run"], [], [])
    assert main_compare([pa, write(tmp_path, "empty.json", empty)]) == 2
    assert "empty.json: the report has no items" in capsys.readouterr().err
    interrupted = build_report(dict(a["run"], interrupted=True), copy.deepcopy(a["items"][:2]), [])
    assert main_compare([pa, write(tmp_path, "partial.json", interrupted)]) == 2
    assert "partial.json: the run was interrupted (Ctrl-C or -x)" in capsys.readouterr().err
    assert main_compare([write(tmp_path, "partial.json", interrupted), pa]) == 2  # nor as a baseline
    stopped = build_report(dict(a["run"], complete=False, stopped="stopped early: -x"), a["items"][:2], [])
    assert main_compare([pa, write(tmp_path, "stopped.json", stopped)]) == 2
    assert "(stopped early: -x)" in capsys.readouterr().err


def test_a_run_stopped_by_x_says_so_and_compare_refuses_it(pytester, tmp_path, capsys):
    shutil.copytree(SUITE / "basics" / "vector_add",
                    pytester.path / "task_suite" / "basics" / "vector_add")
    replay = pytester.path / "answers.jsonl"
    replay.write_text("\n".join(json.dumps({"task": "basics/vector_add", "level": level, "sample": 0,
                                              "content": "no code here"}) for level in (1, 2, 3)) + "\n")
    result = pytester.runpytest_subprocess(f"--cudabench-model=replay:{replay}", "-x", "--cudabench-report-dir=out",
                                           "-p", "no:cacheprovider", "task_suite")
    result.assert_outcomes(failed=1)
    path = next((pytester.path / "out").glob("*.json"))
    run = json.loads(path.read_text())["run"]
    assert run.get("interrupted") is True or run.get("complete") is False
    assert main_compare([str(path), str(path)]) == 2
    assert "interrupted" in capsys.readouterr().err


# --- merge --------------------------------------------------------------------------------------------------------

def shard(report: dict, items: list, run_id: str, started: str) -> dict:
    run = dict(report["run"], id=run_id, started=started)
    return build_report(run, items, [])


def test_merging_shards_restores_the_whole_run():
    whole = make_report()
    first, second = whole["items"][::2], whole["items"][1::2]
    a = shard(whole, first, "run-a", "2026-11-24T10:00:00+00:00")
    b = shard(whole, second, "run-b", "2026-11-24T11:00:00+00:00")
    merged = merge_reports([a, b])
    assert merged["totals"] == totals(whole["items"])
    assert merged["totals"]["collected"] == a["totals"]["collected"] + b["totals"]["collected"]
    assert merged["aggregates"] == aggregates(whole["items"]) == {
        k: v for k, v in whole["aggregates"].items()}
    assert [item_key(i) for i in merged["items"]] == [item_key(i) for i in whole["items"]]
    run = merged["run"]
    assert run["source_runs"] == ["run-a", "run-b"] and run["models"] == ["synthetic-model"]
    assert run["model"] == "synthetic-model" and run["merged_duplicates"] == []
    assert run["id"].startswith("merged-") and run["peaks"]["source"] == "datasheet:H100 SXM"


def test_duplicates_keep_the_later_run_and_warn():
    base = passing_report(4)
    early = shard(base, base["items"], "early", "2026-11-24T09:00:00+00:00")
    redo = copy.deepcopy(base["items"][1])
    redo.update(outcome="failed", failed_stage="execute", correct=False, performance_score=None)
    late = shard(base, [redo], "late", "2026-11-24T12:00:00+00:00")
    for order in ([early, late], [late, early]):  # "later" is by run.started, not by argument order
        with pytest.warns(MergeWarning, match="duplicate item"):
            merged = merge_reports(order)
        assert merged["totals"]["collected"] == 4 and merged["totals"]["failed"] == 1
        kept = next(i for i in merged["items"] if item_key(i) == item_key(redo))
        assert kept["outcome"] == "failed"
        assert merged["run"]["merged_duplicates"] == [{"key": item_key(redo), "kept": "late", "dropped": "early"}]


def test_merge_never_pools_models_and_points_to_leaderboard(tmp_path, capsys):
    a, b = passing_report(2, model="gpt-x"), passing_report(3, model="claude-y")
    with pytest.raises(MergeError, match="different models .*leaderboard"):
        merge_reports([a, b])
    pa, pb = write(tmp_path, "a.json", a), write(tmp_path, "b.json", b)
    out = tmp_path / "merged.json"
    assert main_merge([pa, pb, "-o", str(out)]) == 2
    assert "python -m pytest_cudabench leaderboard" in capsys.readouterr().err and not out.exists()
    with pytest.raises(SystemExit):  # --force is gone: no way to pool two models into one rate
        main_merge([pa, pb, "-o", str(out), "--force"])
    assert not out.exists()


def test_merge_cli_warns_on_duplicates(tmp_path):
    a = write(tmp_path, "a.json", passing_report(3))
    out = tmp_path / "merged.json"
    done = subprocess.run([sys.executable, "-m", "pytest_cudabench", "merge", a, a, "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("warning: duplicate item") == 3
    assert json.loads(out.read_text())["totals"]["collected"] == 3


def sharded_report(index: int, count: int, tasks: list[str]) -> dict:
    report = passing_report(0)
    report["items"] = [make_item(task, 1, 0, "passed", model="m") for task in tasks]
    report["run"]["shard"] = {"index": index, "count": count, "tasks": tasks}
    return report


def test_merge_refuses_a_shard_twice_and_names_missing_shards(tmp_path, capsys):
    one = write(tmp_path, "one.json", sharded_report(1, 3, ["basics/vector_add"]))
    one_again = write(tmp_path, "one-again.json", sharded_report(1, 3, ["basics/vector_add"]))
    two = write(tmp_path, "two.json", sharded_report(2, 3, ["linalg/sgemm"]))
    out = tmp_path / "merged.json"
    assert main_merge([one, one_again, two, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "shard 1/3 is in 2 reports" in err and "one-again.json" in err and not out.exists()
    assert main_merge([one, two, "-o", str(out)]) == 0
    assert "shard(s) 3/3 missing" in capsys.readouterr().err
    run = json.loads(out.read_text())["run"]
    assert run["shard"] is None and run["shards"] == {"count": 3, "indexes": [1, 2], "missing": [3]}


# --- pytest-benchmark ---------------------------------------------------------------------------------------------

STAT_KEYS = {"min", "max", "mean", "stddev", "rounds", "median", "iqr", "q1", "q3", "iqr_outliers",
             "stddev_outliers", "outliers", "ld15iqr", "hd15iqr", "ops", "total", "iterations"}


def test_pytest_benchmark_format():
    report = make_report()
    data = to_pytest_benchmark(report)
    assert {"machine_info", "commit_info", "datetime", "version", "benchmarks"} <= set(data)
    timed = [(i, s) for i in report["items"] for s in (i["stages"].get("time") or {}).get("scales") or []]
    assert len(data["benchmarks"]) == len(timed) > 0
    for bench, (item, scale) in zip(data["benchmarks"], timed, strict=True):
        assert {"name", "fullname", "group", "params", "stats"} <= set(bench)
        assert set(bench["stats"]) >= STAT_KEYS
        stats = bench["stats"]
        assert stats["median"] == scale["median_s"] and stats["min"] == scale["min_s"]
        assert stats["rounds"] == scale["n"] and stats["iqr"] == scale["iqr_s"]
        assert stats["min"] <= stats["q1"] <= stats["median"] <= stats["q3"] <= stats["max"]
        assert stats["ops"] == pytest.approx(1 / stats["mean"])
        assert bench["group"] == item["task"] and bench["params"]["n"] == scale["sizes"]["n"]
        assert bench["fullname"].startswith(f"{item['task']}::level{item['level']}[")
        assert bench["extra_info"]["flops"] == scale["flops"]
    assert to_pytest_benchmark(make_report(timed=False))["benchmarks"] == []


def test_raw_samples_give_exact_stats():
    scale = {"sizes": {"n": 8}, "median_s": 3.0, "iqr_s": 2.0, "min_s": 1.0, "n": 5,
             "times_s": [1.0, 2.0, 3.0, 4.0, 100.0]}
    report = build_report(base_run(), [make_item(scales=[dict(scale, score=0.5)])], [])
    stats = to_pytest_benchmark(report)["benchmarks"][0]["stats"]
    assert (stats["min"], stats["max"], stats["median"], stats["rounds"]) == (1.0, 100.0, 3.0, 5)
    assert stats["mean"] == 22.0 and stats["iqr_outliers"] == 1 and stats["hd15iqr"] == 4.0
    assert stats["outliers"] == f"{stats['stddev_outliers']};1"


def benchmark_cli() -> str:
    found = shutil.which("pytest-benchmark") or shutil.which("pytest-benchmark", path=str(Path(sys.executable).parent))
    if not found:
        pytest.skip("the pytest-benchmark CLI is not installed")
    return found


def test_pytest_benchmark_compare_reads_the_export(tmp_path):
    cli = benchmark_cli()
    data = to_pytest_benchmark(make_report())
    # The layout of pytest-benchmark's own storage: <storage>/<machine id>/<NNNN>_<name>.json
    storage = tmp_path / "storage"
    (storage / "Linux-CPython-3.11-64bit").mkdir(parents=True)
    (storage / "Linux-CPython-3.11-64bit" / "0001_cudabench.json").write_text(json.dumps(data))
    direct = tmp_path / "direct.json"
    direct.write_text(json.dumps(data))
    csv_prefix = tmp_path / "csv" / "out"
    for args in ([f"--storage=file://{storage}", "compare", "0001", f"--csv={csv_prefix}"],
                 ["compare", str(direct)]):
        done = subprocess.run([cli, *args], capture_output=True, text=True, cwd=tmp_path)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        assert "Failed to load" not in output and "Traceback" not in output
        for group in {b["group"] for b in data["benchmarks"]}:
            assert f"benchmark '{group}'" in output
        assert data["benchmarks"][0]["name"] in output
    rows = list(csv.DictReader((tmp_path / "csv" / "out.csv").open()))
    assert len(rows) == len(data["benchmarks"])
    first = data["benchmarks"][0]
    row = next(r for r in rows if r["name"] == first["fullname"])  # the CSV names benchmarks by fullname
    assert float(row["median"]) == pytest.approx(first["stats"]["median"])


def test_export_benchmark_cli(tmp_path):
    report = write(tmp_path, "r.json", make_report())
    out = tmp_path / "b" / "0001_run.json"
    done = subprocess.run([sys.executable, "-m", "pytest_cudabench", "export-benchmark", report, "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["benchmarks"]


def test_a_full_summary_is_used_as_recorded():
    scale = {"sizes": {"n": 8}, "median_s": 3.0, "q1_s": 2.5, "q3_s": 3.8, "iqr_s": 1.3, "min_s": 2.0,
             "max_s": 9.0, "mean_s": 3.4, "stddev_s": 0.7, "n": 40, "score": 0.5}
    report = build_report(base_run(), [make_item(scales=[scale])], [])
    bench = to_pytest_benchmark(report)["benchmarks"][0]
    stats = bench["stats"]
    assert (stats["q1"], stats["q3"], stats["max"], stats["mean"], stats["stddev"]) == (2.5, 3.8, 9.0, 3.4, 0.7)
    assert stats["total"] == pytest.approx(3.4 * 40)
    assert "mean" not in bench["extra_info"]["estimated_stats"]


def test_terminal_summary_and_suite_properties_carry_gpu_columns_and_pass_at_k():
    from pytest_cudabench.reporting.report import suite_properties, summary_lines

    timed = make_report()
    lines = summary_lines(timed)
    assert lines[1].split() == ["items", "judged", "errors", "compiled", "correct", "perf-score", "CUDABench", "speedup"]
    overall = timed["aggregates"]["overall"]
    props = suite_properties(timed)
    assert props["speedup_geomean"] == str(overall["speedup"]) and "pass_at_1.correct" not in props

    untimed = make_report(timed=False)
    assert summary_lines(untimed)[1].split() == ["items", "judged", "errors", "compiled", "correct", "perf-score"]
    assert "performance: not measured (timing needs a GPU)" in summary_lines(untimed)

    items = [make_item(task="ai/relu", sample=s, outcome="failed" if s == 0 else "passed",
                       failed_stage="execute" if s == 0 else None, message="wrong" if s == 0 else None)
             for s in range(3)]
    sampled = build_report(base_run(), items, [])
    text = "\n".join(summary_lines(sampled))
    # one problem, 3 samples, 2 correct: pass@1 = 2/3, pass@2 = 1 - C(1,2)/C(3,2) = 1
    assert "correct over 1 problems (unbiased estimator): pass@1 66.7%, pass@2 100.0%, pass@3 100.0%" in text
    assert "CUDABench best-of-3: compiled 100.0%, correct 100.0%" in text
    props = suite_properties(sampled)
    assert float(props["pass_at_1.correct"]) == pytest.approx(2 / 3) and props["pass_at_2.correct"] == "1.0"
    assert props["best_of_3.correct_rate"] == "1.0"
