"""Working with several JSON reports: compare two runs, merge runs, export timings in pytest-benchmark's format.

    python -m pytest_cudabench compare A.json B.json [--threshold 0.05] [--json out.json] [--all]
    python -m pytest_cudabench merge a.json b.json ... -o merged.json [--html merged.html]
    python -m pytest_cudabench export-benchmark report.json [-o benchmark.json]

Items are matched by their key "task::level<L>[sample<S>]" (the nodeid's tail, independent of where the suite
lives). A verdict is "pass" for outcome passed, "fail" for failed or error, and None for skipped or absent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import statistics
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import MergeError
from ..files import atomic_write
from ..results import CollectionError, ItemResult, Report, ReportGroup, RunRecord
from . import aggregates
from .html import write_html
from .leaderboard import ModelRuns, caveats, common_keys, paired_comparison
from .report import build_report, groups_of, run_peaks, write_json
from .report_files import item_key, load_report, verdict
from .shards import check_shards, merged_shards
from .statistics import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, wilson_interval

__all__ = ["MergeError", "MergeWarning", "compare_reports", "item_key", "load_report", "main_compare", "main_merge",
           "merge_reports", "to_pytest_benchmark", "verdict"]

METRICS = ("compile_rate", "correct_rate", "mean_performance_score", "cudabench_score")
GATED = ("correct_rate", "cudabench_score")  # an overall drop beyond the threshold fails `compare`


class MergeWarning(UserWarning):
    """A duplicate item (the later run's is kept) or a mismatch in run metadata."""


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        else None


def _delta(a: Any, b: Any) -> float | None:
    a, b = _num(a), _num(b)
    return None if a is None or b is None else round(b - a, 6)


# --- compare ------------------------------------------------------------------------------------------------------

def compare_reports(a: Report, b: Report, threshold: float = 0.05) -> dict[str, Any]:
    """Compares run B against the baseline A.

    Per item (matched by key): both outcomes, the change ("regression" pass->fail, "skipped" pass->skip, "fixed"
    fail->pass, "new", "removed", "changed" for other outcome moves, "same"), both Performance-Scores and their
    delta; a `score_regression` flag when B's score drops by more than `threshold` (relative to A's).
    Overall and per level/domain: both values and the delta of each metric.
    `regressed` is True when any item's verdict regressed, a passing item was skipped in B, an item of A is missing
    from B, or the overall correct rate or CUDABench-Score dropped by more than `threshold` (absolute: both are
    fractions); `reasons` says why. Reports that cannot be gated (empty, interrupted) are refused by
    `check_comparable` before this is called.
    """
    a_items = {item_key(i): i for i in a["items"]}
    b_items = {item_key(i): i for i in b["items"]}
    rows = []
    for key in sorted(set(a_items) | set(b_items)):
        ia, ib = a_items.get(key), b_items.get(key)
        va, vb = verdict(ia), verdict(ib)
        if ia is None:
            change = "new"
        elif ib is None:
            change = "removed"
        elif va == "pass" and vb == "fail":
            change = "regression"
        elif va == "pass" and ib["outcome"] == "skipped":
            change = "skipped"  # no longer judged: as bad as a failure for a gate
        elif va == "fail" and vb == "pass":
            change = "fixed"
        elif ia["outcome"] != ib["outcome"]:
            change = "changed"
        else:
            change = "same"
        sa = _num(ia["performance_score"]) if ia else None
        sb = _num(ib["performance_score"]) if ib else None
        delta = _delta(sa, sb)
        source = ib or ia
        assert source is not None  # the key is of A's items or B's
        rows.append({
            "key": key, "task": source["task"], "level": source["level"], "sample": source["sample"],
            "a": ia["outcome"] if ia else None, "b": ib["outcome"] if ib else None,
            "a_failed_stage": ia["failed_stage"] if ia else None, "b_failed_stage": ib["failed_stage"] if ib else None,
            "change": change, "a_score": sa, "b_score": sb, "score_delta": delta,
            "score_regression": bool(delta is not None and sa and delta < -threshold * sa),
        })
    agg_a, agg_b = a["aggregates"], b["aggregates"]

    def metrics(group_a: ReportGroup | None, group_b: ReportGroup | None) -> dict[str, Any]:
        """Each metric of a group on both sides; a group one side lacks (a level only B ran) is None there."""
        side_a: Mapping[str, object] = group_a or {}
        side_b: Mapping[str, object] = group_b or {}
        values = {m: (side_a.get(m), side_b.get(m)) for m in ("n_items",) + METRICS}
        result = {m: {"a": va, "b": vb, "delta": _delta(va, vb)} for m, (va, vb) in values.items() if m != "n_items"}
        va, vb = values["n_items"]
        result["n_items"] = {"a": va, "b": vb, "delta": _delta(va, vb)}
        return result

    overall = metrics(agg_a["overall"], agg_b["overall"])
    groups = {}
    for key in ("by_level", "by_domain", "by_tier"):
        groups_a, groups_b = groups_of(agg_a, key), groups_of(agg_b, key)
        names = sorted(set(groups_a) | set(groups_b))
        groups[key] = {n: metrics(groups_a.get(n), groups_b.get(n)) for n in names}
    reasons = []
    regressions = [r["key"] for r in rows if r["change"] == "regression"]
    if regressions:
        reasons.append(f"{len(regressions)} item(s) went from pass to fail")
    skipped = [r["key"] for r in rows if r["change"] == "skipped"]
    if skipped:
        reasons.append(f"{len(skipped)} item(s) that passed in A were skipped in B")
    removed = [r["key"] for r in rows if r["change"] == "removed"]
    if removed:
        reasons.append(f"{len(removed)} item(s) of A are missing from B")
    for metric in GATED:
        delta = overall[metric]["delta"]
        if delta is not None and delta < -threshold:
            reasons.append(f"overall {metric} dropped by {-delta:.4f} (> threshold {threshold})")
    return {
        "a": {"id": a["run"]["id"], "model": a["run"]["model"]},
        "b": {"id": b["run"]["id"], "model": b["run"]["model"]},
        "threshold": threshold,
        "items": rows,
        "overall": overall,
        "groups": groups,
        "regressions": regressions,
        "skipped": skipped,
        "fixes": [r["key"] for r in rows if r["change"] == "fixed"],
        "score_regressions": [r["key"] for r in rows if r["score_regression"]],
        "new": [r["key"] for r in rows if r["change"] == "new"],
        "removed": [r["key"] for r in rows if r["change"] == "removed"],
        "regressed": bool(reasons),
        "reasons": reasons,
        **_paired_part(a, b, a_items, b_items),
    }


def _counts(items: dict[str, ItemResult]) -> dict[str, int]:
    outcomes = [i["outcome"] for i in items.values()]
    return {"items": len(outcomes), "judged": sum(1 for o in outcomes if o in ("passed", "failed")),
            "errors": sum(1 for o in outcomes if o not in ("passed", "failed", "skipped")),
            "skipped": outcomes.count("skipped")}


def _paired_part(a: Report, b: Report, a_items: dict[str, ItemResult],
                 b_items: dict[str, ItemResult]) -> dict[str, Any]:
    """What `compare` adds for a fair reading: judged counts of each side, A against B over the items both judged
    (leaderboard.paired_comparison: rates, the McNemar p-value, the interval of the difference), and notes where
    the runs are not like for like (seeds, task sets, runtime, ...). None of it changes the exit status."""
    sides = [ModelRuns(name, [name], [report["run"]], items, {k: name for k in items})
             for name, report, items in (("A", a, a_items), ("B", b, b_items))]
    return {"judged": {"a": _counts(a_items), "b": _counts(b_items)},
            "paired": paired_comparison(a_items, b_items),
            "bootstrap": {"unit": "task", "resamples": BOOTSTRAP_RESAMPLES,
                          "seed": BOOTSTRAP_SEED},
            "notes": caveats(sides, common_keys(sides), between="runs")}


def _fmt(metric: str, value: Any) -> str:
    value = _num(value)
    if value is None:
        return "-" if metric != "cudabench_score" and metric != "mean_performance_score" else "not measured"
    if metric.endswith("_rate"):
        return f"{100 * value:.1f}%"
    if metric == "n_items":
        return f"{value:g}"
    return f"{value:.3f}"


def _fmt_delta(metric: str, value: Any) -> str:
    value = _num(value)
    if value is None:
        return ""
    if metric.endswith("_rate"):
        return f"{100 * value:+.1f}pp"
    return f"{value:+g}" if metric == "n_items" else f"{value:+.3f}"


def paired_lines(result: dict[str, Any]) -> list[str]:
    """Judged counts, both correct rates over the items both judged with Wilson intervals, the difference B - A
    with its bootstrap interval over tasks, the exact McNemar p-value, and the notes."""
    j, p = result["judged"], result["paired"]
    lines = [f"judged: A {j['a']['judged']} of {j['a']['items']} items ({j['a']['errors']} errors, "
             f"{j['a']['skipped']} skipped); B {j['b']['judged']} of {j['b']['items']} ({j['b']['errors']} errors, "
             f"{j['b']['skipped']} skipped)"]
    n = p["common_items"]
    if n:
        (ca, cb), (ra, rb) = p["correct"], p["correct_rate"]
        wa, wb = wilson_interval(ca, n) or (0.0, 1.0), wilson_interval(cb, n) or (0.0, 1.0)  # n > 0: never None
        lines.append(f"over the {n} items both judged ({p['common_tasks']} tasks): correct A {ca} = {_fmt('correct_rate', ra)} "
                     f"[{100 * wa[0]:.1f}, {100 * wa[1]:.1f}], B {cb} = {_fmt('correct_rate', rb)} "
                     f"[{100 * wb[0]:.1f}, {100 * wb[1]:.1f}] (95 % Wilson)")
        ci = p["difference_ci95"]
        bootstrap = result["bootstrap"]
        lines.append(f"difference B - A: {-100 * p['difference']:+.1f}pp"
                     + (f" [95 % CI {-100 * ci[1]:+.1f}, {-100 * ci[0]:+.1f}]" if ci else "")
                     + f" (paired bootstrap over tasks, {bootstrap['resamples']} resamples, seed {bootstrap['seed']})")
        only_a, only_b = p["discordant"]
        lines.append(f"exact McNemar: {only_a + only_b} discordant items (only A right {only_a}, only B right "
                     f"{only_b}), p = {p['p_value']:.2g}")
        score = p.get("score")
        if score and score["difference"] is not None:
            sci = score["difference_ci95"]
            lines.append(f"CUDABench-Score B - A over them: {-score['difference']:+.3f}"
                         + (f" [95 % CI {-sci[1]:+.3f}, {-sci[0]:+.3f}]" if sci else "")
                         + f", bootstrap p = {score['p_value']:.2g}")
    else:
        lines.append("no item was judged in both runs: nothing to pair")
    lines += [f"note: {note}" for note in result["notes"]]
    return lines


def compare_lines(result: dict[str, Any], show_all: bool = False) -> list[str]:
    """The side-by-side table `compare` prints."""
    a, b = result["a"], result["b"]
    lines = [f"A: {a['id']} ({a['model']})", f"B: {b['id']} ({b['model']})", ""]
    if "paired" in result:
        lines += paired_lines(result) + [""]
    lines.append(f"{'overall':<34}{'A':>14}{'B':>14}{'delta':>12}")
    for metric in ("n_items",) + METRICS:
        m = result["overall"][metric]
        lines.append(f"{metric:<34}{_fmt(metric, m['a']):>14}{_fmt(metric, m['b']):>14}"
                     f"{_fmt_delta(metric, m['delta']):>12}")
    for key, title in (("by_level", "level"), ("by_domain", "domain")):
        lines.append("")
        lines.append(f"{'correct rate by ' + title:<34}{'A':>14}{'B':>14}{'delta':>12}")
        for name, m in result["groups"][key].items():
            label = f"level {name}" if key == "by_level" else name
            c = m["correct_rate"]
            lines.append(f"{label:<34}{_fmt('correct_rate', c['a']):>14}{_fmt('correct_rate', c['b']):>14}"
                         f"{_fmt_delta('correct_rate', c['delta']):>12}")
    rows = [r for r in result["items"] if show_all or r["change"] != "same" or r["score_regression"]]
    lines.append("")
    title = "items" if show_all else "items that changed"
    lines.append(f"{title:<46}{'A':>9}{'B':>9}  {'change':<11}{'failed stage':<22}{'score A':>9}{'score B':>9}"
                 f"{'delta':>9}")
    if not rows:
        lines.append("  (none)")
    for r in rows:
        change = r["change"] + (" slower" if r["score_regression"] else "")
        score_a = "-" if r["a_score"] is None else f"{r['a_score']:.3f}"
        score_b = "-" if r["b_score"] is None else f"{r['b_score']:.3f}"
        delta = "" if r["score_delta"] is None else f"{r['score_delta']:+.3f}"
        stages = (r["a_failed_stage"], r["b_failed_stage"])
        stage = (f"{stages[0]} -> {stages[1]}" if all(stages) else stages[1] or
                 (f"was {stages[0]}" if stages[0] else ""))
        lines.append(f"{r['key'][:45]:<46}{r['a'] or '-':>9}{r['b'] or '-':>9}  {change:<11}{stage[:21]:<22}{score_a:>9}"
                     f"{score_b:>9}{delta:>9}")
    lines.append("")
    counts = (f"{len(result['regressions'])} regression(s), {len(result.get('skipped', []))} pass->skip, "
              f"{len(result['fixes'])} fix(es), "
              f"{len(result['score_regressions'])} slower beyond {result['threshold']:.0%}, "
              f"{len(result['new'])} new, {len(result['removed'])} removed")
    lines.append(counts)
    if result["regressed"]:
        lines.append("REGRESSED: " + "; ".join(result["reasons"]))
    else:
        lines.append(f"OK: no regression beyond threshold {result['threshold']}")
    return lines


def check_comparable(report: Report, path: str | Path) -> None:
    """Refuses (ValueError naming the file) a report a CI gate cannot trust: one without items (a --collect-only
    run, a suite that failed to load) or one of an interrupted run (Ctrl-C, -x: the items not run are missing)."""
    run = report["run"]
    if not report["items"]:
        raise ValueError(f"{path}: the report has no items (an empty or --collect-only run, or every task failed to "
                         "load): nothing to compare; rerun the suite to completion")
    # run.interrupted (this branch) or run.complete/run.stopped (main's controller): either says the run ended early
    if run.get("interrupted") or run.get("complete") is False or run.get("stopped"):
        why = f" ({run['stopped']})" if run.get("stopped") else ""
        raise ValueError(f"{path}: the run was interrupted (Ctrl-C or -x){why}, so its report is partial: the items "
                         "that did not run would count as missing; compare reports of complete runs")
    missing = [i for i in report["items"] if i["outcome"] is None]
    if missing:
        raise ValueError(f"{path}: {len(missing)} item(s) have no outcome (e.g. {item_key(missing[0])}): the run "
                         "did not finish them; compare reports of complete runs")


def main_compare(argv: list[str] | None = None) -> int:
    """Exit status: 0 no regression, 1 B regressed beyond the threshold, 2 usage or input errors."""
    parser = argparse.ArgumentParser(prog="python -m pytest_cudabench compare",
                                     description="Compare run B against the baseline run A.")
    parser.add_argument("a", help="baseline JSON report")
    parser.add_argument("b", help="JSON report to check")
    parser.add_argument("--threshold", type=float, default=0.05,
                        help="allowed absolute drop of the overall correct rate and CUDABench-Score, and relative "
                             "drop of an item's Performance-Score before it is flagged (default 0.05)")
    parser.add_argument("--json", metavar="PATH", help="also write the comparison as JSON")
    parser.add_argument("--all", action="store_true", help="list every item, not only those that changed")
    args = parser.parse_args(argv)
    try:
        a, b = load_report(args.a), load_report(args.b)
        check_comparable(a, args.a)
        check_comparable(b, args.b)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = compare_reports(a, b, args.threshold)
    print("\n".join(compare_lines(result, args.all)))
    if args.json:
        atomic_write(Path(args.json), json.dumps(result, indent=1))
    return 1 if result["regressed"] else 0


# --- merge --------------------------------------------------------------------------------------------------------

def merge_reports(reports: list[Report], names: list[str] | None = None) -> Report:
    """Merges runs of one model into one report: the union of their items (on a duplicate key the later run's item
    is kept, with a MergeWarning; "later" is by run.started, then by position in `reports`), totals and aggregates
    recomputed. Reports of different models raise MergeError: one rate over two models means nothing, and
    `leaderboard` compares models."""
    if not reports:
        raise MergeError("nothing to merge")
    runs = [r["run"] for r in reports]
    models = list(dict.fromkeys(str(run["model"]) for run in runs))
    if len(models) > 1:
        raise MergeError(f"the reports are from different models ({', '.join(models)}): merge combines runs of one "
                         "model (shards, reruns); to compare models, use `python -m pytest_cudabench leaderboard "
                         "R1.json R2.json ...`")
    problems, missing = check_shards(reports, names)
    if problems:
        raise MergeError("; ".join(problems))
    shards = merged_shards(reports)
    if shards and missing:
        count = shards["count"]
        warnings.warn(f"shard(s) {', '.join(f'{k}/{count}' for k in missing)} missing: the merged report "
                      "covers part of the run's tasks", MergeWarning, stacklevel=2)
    order = sorted(range(len(reports)), key=lambda i: (str(runs[i]["started"] or ""), i))
    items: dict[str, ItemResult] = {}
    origin: dict[str, str] = {}
    duplicates = []
    errors: dict[str, CollectionError] = {}
    for index in order:
        run_id = str(runs[index]["id"])
        for item in reports[index]["items"]:
            key = item_key(item)
            if key in items:
                duplicates.append({"key": key, "kept": run_id, "dropped": origin[key]})
                warnings.warn(f"duplicate item {key}: keeping run {run_id}'s, dropping run {origin[key]}'s",
                              MergeWarning, stacklevel=2)
            items[key] = item
            origin[key] = run_id
        for error in reports[index]["collection_errors"]:
            errors[str(error["path"])] = error
    for field in ("gpu", "peaks"):
        distinct = {json.dumps(value, sort_keys=True) for run in runs if (value := run["gpu" if field == "gpu" else "peaks"])}
        if len(distinct) > 1:
            warnings.warn(f"the runs differ in {field}: Performance-Scores are each relative to their own GPU",
                          MergeWarning, stacklevel=2)
    merged_items = list(items.values())
    run = _merged_run(runs, order, models, duplicates, merged_items)
    run["shard"], run["shards"] = None, shards  # the last run's shard no longer describes the whole
    return build_report(run, merged_items, list(errors.values()))


def _merged_run(runs: list[RunRecord], order: list[int], models: list[str], duplicates: list[dict[str, Any]],
                items: list[ItemResult]) -> RunRecord:
    ordered = [runs[i] for i in order]
    ids = [str(run["id"]) for run in ordered]
    seeds = list(dict.fromkeys(run["seed"] for run in ordered))
    started = [str(run["started"]) for run in ordered if run["started"]]
    finished = [str(run["finished"]) for run in ordered if run["finished"]]
    levels = sorted({lv for run in ordered for lv in run["levels"] or []})
    last = ordered[-1]
    run = last.copy()
    run.update({
        "id": "merged-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:12],
        "started": min(started) if started else None,
        "finished": max(finished) if finished else None,
        "duration_s": round(sum(_num(r["duration_s"]) or 0.0 for r in ordered), 3),
        "model": models[0],
        "models": models,
        "seed": seeds[0] if len(seeds) == 1 else None,
        "seeds": seeds,
        "levels": levels,
        "samples": int(max((_num(r["samples"]) or 0 for r in ordered), default=0) or last["samples"]),
        "gpu": next((r["gpu"] for r in reversed(ordered) if r["gpu"]), None),
        "worker_machines": {f"{r['id']}/{worker}": machine for r in ordered
                            for worker, machine in (r.get("worker_machines") or {}).items()} or None,
        "performance_measured": aggregates.performance_measured(items),
        "source_runs": ids,
        "merged_duplicates": duplicates,
    })
    run["peaks"], run["peaks_by_item"] = run_peaks(
        items, next((r["peaks"] for r in reversed(ordered) if r["peaks"]), None))
    return run


def main_merge(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_cudabench merge",
                                     description="Merge JSON reports of one model (shards, reruns) into one report; "
                                                 "to compare models, use `leaderboard`.")
    parser.add_argument("reports", nargs="+", help="JSON reports")
    parser.add_argument("-o", "--output", required=True, help="merged JSON report to write")
    parser.add_argument("--html", metavar="PATH", help="also write the merged HTML report")
    args = parser.parse_args(argv)
    try:
        reports = [load_report(path) for path in args.reports]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MergeWarning)
        try:
            merged = merge_reports(reports, list(args.reports))
        except MergeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)

    path = write_json(merged, Path(args.output))
    t = merged["totals"]
    print(f"merged {len(reports)} reports into {path}: {t['collected']} collected = {t['passed']} passed + "
          f"{t['failed']} failed + {t['skipped']} skipped + {t['error']} errors")
    if args.html:
        print(f"HTML report: {write_html(merged, Path(args.html))}")
    return 0


# --- pytest-benchmark export --------------------------------------------------------------------------------------

PYTEST_BENCHMARK_FORMAT = "4.0.0"  # the file layout has not changed since pytest-benchmark 3.1 (ops added)


def _benchmark_stats(scale: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """pytest-benchmark's stats from one timing scale. Exact where the scale carries the raw samples (`times_s` or
    `samples_s`); otherwise the recorded summary (stats.summarize: median_s, q1_s, q3_s, iqr_s, min_s, max_s,
    mean_s, stddev_s, n) is used and what is missing is estimated (listed in the second value): mean = median,
    quartiles symmetric around the median, stddev = IQR / 1.349 (normal), max = q3 + 1.5 IQR; outlier counts 0."""
    raw = scale.get("times_s") or scale.get("samples_s")
    if isinstance(raw, list) and raw and all(_num(x) is not None for x in raw):
        data = sorted(float(x) for x in raw)
        q1, median, q3 = (statistics.quantiles(data, n=4, method="inclusive") if len(data) > 1
                          else (data[0], data[0], data[0]))
        iqr = q3 - q1
        mean = statistics.fmean(data)
        stddev = statistics.stdev(data) if len(data) > 1 else 0.0
        low, high = q1 - 1.5 * iqr, q3 + 1.5 * iqr
        ld15iqr = min(x for x in data if x >= low)
        hd15iqr = max(x for x in data if x <= high)
        stats: dict[str, Any] = {"min": data[0], "max": data[-1], "mean": mean, "stddev": stddev, "rounds": len(data),
                 "median": median, "iqr": iqr, "q1": q1, "q3": q3,
                 "iqr_outliers": sum(1 for x in data if x < low or x > high),
                 "stddev_outliers": sum(1 for x in data if x < mean - stddev or x > mean + stddev),
                 "ld15iqr": ld15iqr, "hd15iqr": hd15iqr, "total": sum(data)}
        estimated: list[str] = []
    else:
        median = float(scale["median_s"])
        iqr = _num(scale.get("iqr_s")) or 0.0
        minimum = min(_num(scale.get("min_s")) or median, median)
        recorded_q1, recorded_q3 = _num(scale.get("q1_s")), _num(scale.get("q3_s"))  # stats.summarize records them
        if recorded_q1 is None or recorded_q3 is None:
            q1, q3 = max(minimum, median - iqr / 2), median + iqr / 2
        else:
            q1, q3 = recorded_q1, recorded_q3
        rounds = int(_num(scale.get("n")) or 1)
        maximum = _num(scale.get("max_s")) or q3 + 1.5 * iqr
        mean = _num(scale.get("mean_s")) or median
        recorded_stddev = _num(scale.get("stddev_s"))
        estimated = [name for name, given in (("mean", "mean_s"), ("max", "max_s"), ("stddev", "stddev_s"),
                                              ("q1", "q1_s"), ("q3", "q3_s"))
                     if _num(scale.get(given)) is None] + ["iqr_outliers", "stddev_outliers", "ld15iqr", "hd15iqr",
                                                           "total"]
        stats = {"min": minimum, "max": maximum, "mean": mean,
                 "stddev": recorded_stddev if recorded_stddev is not None else iqr / 1.349, "rounds": rounds, "median": median,
                 "iqr": iqr, "q1": q1, "q3": q3, "iqr_outliers": 0, "stddev_outliers": 0,
                 "ld15iqr": max(minimum, q1 - 1.5 * iqr), "hd15iqr": min(maximum, q3 + 1.5 * iqr),
                 "total": mean * rounds}
    stats["outliers"] = f"{stats['stddev_outliers']};{stats['iqr_outliers']}"
    stats["ops"] = 1.0 / stats["mean"] if stats["mean"] > 0 else 0.0
    stats["iterations"] = 1
    return stats, estimated


def to_pytest_benchmark(report: Report) -> dict[str, Any]:
    """The timed items of a report in pytest-benchmark's JSON format: one benchmark per item and timing scale,
    grouped by task, named "task::level<L>[sample<S>-<sizes>]"; the roofline numbers go into extra_info.
    `pytest-benchmark compare <file>` reads the result."""
    run = report["run"]
    machine = run["machine"] or {}
    python_version = str(run["versions"].get("python", ""))
    benchmarks = []
    for item in report["items"]:
        time_stage = item["stages"].get("time") or {}
        for scale in time_stage.get("scales") or []:
            if not isinstance(scale, dict) or not _num(scale.get("median_s")) or scale["median_s"] <= 0:
                continue
            sizes = scale.get("sizes") or {}
            size_text = "-".join(f"{k}={v}" for k, v in sizes.items())
            param = f"sample{item['sample']}" + (f"-{size_text}" if size_text else "")
            stats, estimated = _benchmark_stats(scale)
            median = float(scale["median_s"])
            flops, nbytes = _num(scale.get("flops")), _num(scale.get("bytes"))
            extra = {
                "task": item["task"], "level": item["level"], "sample": item["sample"],
                "model": item["model"] or run["model"], "outcome": item["outcome"],
                "sizes": sizes, "flops": flops, "bytes": nbytes, "bound_s": _num(scale.get("bound_s")),
                "score": _num(scale.get("score")), "converged": scale.get("converged"),
                "flop_per_s": flops / median if flops else None, "bytes_per_s": nbytes / median if nbytes else None,
                "performance_score": item["performance_score"], "speedup": item["speedup"],
                "estimated_stats": estimated,
            }
            benchmarks.append({
                "group": item["task"],
                "name": f"level{item['level']}[{param}]",
                "fullname": f"{item['task']}::level{item['level']}[{param}]",
                "params": {"level": item["level"], "sample": item["sample"], **sizes},
                "param": param,
                "extra_info": extra,
                "options": {"timer": "cuda-events", "min_rounds": None, "max_time": None, "min_time": None,
                            "warmup": True, "disable_gc": False},
                "stats": stats,
            })
    gpu = run["gpu"] or None
    return {
        "machine_info": {
            "node": machine.get("hostname", ""), "processor": machine.get("machine", ""),
            "machine": machine.get("machine", ""), "python_compiler": "",
            "python_implementation": "CPython", "python_implementation_version": python_version,
            "python_version": python_version, "python_build": [], "release": "",
            "system": str(machine.get("platform", "")).split("-")[0],
            "cpu": {"count": machine.get("cpu_count")}, "gpu": gpu, "peaks": run["peaks"],
        },
        "commit_info": {"id": None, "time": None, "author_time": None, "dirty": None,
                        "project": "pytest-cudabench", "branch": None, "run_id": run["id"],
                        "model": run["model"]},
        "benchmarks": benchmarks,
        "datetime": run["finished"] or run["started"] or "",
        "version": PYTEST_BENCHMARK_FORMAT,
    }


def main_export_benchmark(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_cudabench export-benchmark",
                                     description="Write a report's timings in pytest-benchmark's JSON format.")
    parser.add_argument("report", help="JSON report")
    parser.add_argument("-o", "--output", default=None,
                        help="pytest-benchmark JSON file to write (default: REPORT with .benchmark.json, as runs "
                             "write it)")
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = str(Path(args.report).with_suffix(".benchmark.json"))
    try:
        report = load_report(args.report)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    data = to_pytest_benchmark(report)
    atomic_write(Path(args.output), json.dumps(data, indent=2))
    print(f"{len(data['benchmarks'])} benchmark(s) written to {args.output}"
          + ("" if data["benchmarks"] else " (no timed items: performance not measured)"))
    return 0
