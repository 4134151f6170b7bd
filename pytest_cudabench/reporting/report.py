"""Run reports: the JSON document (schema below), its aggregates, and the terminal summary table.

JSON schema "pytest-cudabench/report/1":
  run:         id, started, finished, duration_s, model, seed, levels, samples, runtime, arch, template_version,
               command, workers, versions{...}, machine{...} (the controller's), gpu (the controller's, else the
               workers'; null without one), peaks (what items were scored against; null when none or when items
               differ, then peaks_by_item is true and each item's stages.time.peaks says), worker_machines
               ({worker id: machine{...}, gpu, cuda_visible_devices, spec} under xdist, else null), shard ({index,
               count, tasks} with --cudabench-shard, else null), performance_measured,
               collected_items (items selected to run), complete (every one of them ran and the run was not
               stopped), stopped (why it ended early: -x/--maxfail, Ctrl-C, SIGTERM; else null),
               resumed_from ({report, run_id, items_carried, refused} with --cudabench-resume, else null),
               measurement (the timing.policy.MeasurementPolicy the time stage used, as a dict)
  totals:      collected, passed, failed, skipped, error (collected = the sum of those four), errors_by_kind
               {model|api|task|config|harness|task (collection): n}, pytest {passed, failed, skipped, error}: the
               same items as pytest's own summary counts them
  aggregates:  overall, by_level{"1"..}, by_domain{..}, by_tier{..}; each group as aggregates.aggregate documents it
               (n_items, n_judged, n_skipped, compile_rate, correct_rate, cudabench_score (null when not measured),
               mean_performance_score_correct/_all, speedup, fast_p, pass_at_k, best_of_k) plus
               mean_performance_score (= mean_performance_score_correct) and refinement (null without
               --cudabench-refine; else `aggregates.refinement_stats`: n_refined, n_improved, n_not_run, gain,
               initial_speedup, final_speedup, mean_score_gain, candidates, wrong_candidates)
  items:       one object per item: results.ItemResult (built by results.new_result; task, level, sample,
               outcome, stages, ...); an item carried over by --cudabench-resume also has resumed_from (run id);
               with --cudabench-refine an item that passed also has
               refinement: {status: done | stopped (the model failed mid-way) | not-run (no measured speed),
                            message, rounds_requested, candidates, selection (how the kept one is chosen),
                            rounds: [{round (0: the first answer), kept_candidate (null: none beat the kept one),
                                      candidates: [{round, candidate, verdict (passed | failed | skipped |
                                      model-error), failed_stage, message, source, source_sha256, prompt_hash,
                                      generation (without content), median_s (per scale), time_s (their geometric
                                      mean), performance_score, speedup, kept}]}],
                            trajectory (speedup of the kept version after each round, round 0 first),
                            time_trajectory (its time_s), kept_round, kept_candidate, initial_speedup,
                            final_speedup, gain (initial time_s / final time_s), initial_performance_score,
                            final_performance_score, wrong_candidates}
               and its other fields (source, stages, scores, generation) are the kept version's.
  collection_errors: [{path, message}] for task directories that failed to load
"""

from __future__ import annotations

import json
import os
import platform
import socket
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..files import atomic_write
from ..results import (
    OUTCOMES,
    REPORT_SCHEMA,
    Aggregates,
    CollectionError,
    ItemResult,
    MachineRecord,
    ModelUsage,
    PeaksRecord,
    Report,
    ReportGroup,
    RunRecord,
    Totals,
    message_summary,
)
from .aggregates import aggregates

SCHEMA = REPORT_SCHEMA


def versions(nvcc_version: str | None = None) -> dict[str, str]:
    import numpy
    import pytest


    found = {"pytest_cudabench": __version__, "python": platform.python_version(), "pytest": pytest.__version__,
             "numpy": numpy.__version__}
    try:
        import xdist

        found["pytest_xdist"] = xdist.__version__
    except ImportError:
        pass
    if nvcc_version:
        found["nvcc"] = nvcc_version
    return found


def machine() -> MachineRecord:
    return {"hostname": socket.gethostname(), "platform": platform.platform(), "machine": platform.machine(),
            "cpu_count": os.cpu_count()}


def run_peaks(items: Sequence[ItemResult], datasheet: PeaksRecord | None) -> tuple[PeaksRecord | None, bool]:
    """The peaks a run was scored against, and whether they differ between items. Items record the peaks they were
    scored on (calibrated or datasheet, on their worker's GPU); without timed items, the datasheet figures."""
    used: list[PeaksRecord] = []
    for item in items:
        peaks = (item["stages"].get("time") or {}).get("peaks")
        if peaks and peaks not in used:
            used.append(peaks)
    if len(used) > 1:
        return None, True
    return (used[0] if used else datasheet), False


def totals(items: Sequence[ItemResult], collection_errors: int = 0) -> Totals:
    """Outcomes as cudabench judges them, errors by kind, and the same items as pytest counted them (pytest calls
    a harness error during an item's run a failure; here it is an error, never a wrong answer)."""
    counts = Counter(item["outcome"] or "error" for item in items)
    kinds = Counter(item.get("error_kind") or "harness" for item in items if (item["outcome"] or "error") == "error")
    if collection_errors:
        kinds["task (collection)"] += collection_errors
    as_pytest = Counter(item.get("pytest_outcome") or item["outcome"] or "error" for item in items)
    pytest_counts = {outcome: as_pytest.get(outcome, 0) for outcome in OUTCOMES}
    pytest_counts["error"] += collection_errors
    passed, failed, skipped = counts.get("passed", 0), counts.get("failed", 0), counts.get("skipped", 0)
    error = counts.get("error", 0) + collection_errors
    return {"passed": passed, "failed": failed, "skipped": skipped, "error": error,
            "collected": passed + failed + skipped + error, "errors_by_kind": dict(sorted(kinds.items())),
            "pytest": pytest_counts}


def build_report(run: RunRecord, items: Sequence[ItemResult], collection_errors: list[CollectionError]) -> Report:
    items = sorted(items, key=lambda i: (i["task"] or "", i["level"] or 0, i["sample"] or 0, i["nodeid"] or ""))
    return {
        "schema": REPORT_SCHEMA,
        "run": run,
        "totals": totals(items, len(collection_errors)),
        "aggregates": aggregates(items),
        "items": items,
        "collection_errors": collection_errors,
    }


def write_json(report: Mapping[str, Any], path: Path) -> Path:
    return atomic_write(path, json.dumps(report, indent=1, sort_keys=False, default=str))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:5.1f}%"


NOT_MEASURED = "not measured"


def format_score(value: float | None) -> str:
    return NOT_MEASURED if value is None else f"{value:.3f}"


def summary_lines(report: Report) -> list[str]:
    """The terminal summary: one table per level and per domain, then the top failure reasons."""
    lines = []
    run, agg = report["run"], report["aggregates"]
    measured = run["performance_measured"]
    header = f"{'':<22}{'items':>7}{'judged':>8}{'errors':>8}{'compiled':>10}{'correct':>10}{'perf-score':>14}"
    with_ncu = agg["overall"]["cudabench_score_ncu"] is not None
    if measured:  # columns that only a GPU fills
        header += f"{'CUDABench':>11}{'speedup':>9}" + (f"{'ncu':>8}" if with_ncu else "")
    for title, key in (("level", "by_level"), ("domain", "by_domain"), ("tier", "by_tier")):
        groups = shown_groups(agg, key)
        if not groups:
            continue
        lines.append(f"by {title}:")
        lines.append(header)
        for name, group in groups.items():
            label = f"level {name}" if key == "by_level" else name
            row = (f"{label:<22}{group['n_items']:>7}{group['n_judged']:>8}{group['n_errors']:>8}"
                   f"{_pct(group['compile_rate']):>10}"
                   f"{_pct(group['correct_rate']):>10}{format_score(group['mean_performance_score']):>14}")
            if measured:
                speedup = "-" if group["speedup"] is None else f"{group['speedup']:.2f}x"
                row += f"{format_score(group['cudabench_score']):>11}{speedup:>9}"
                if with_ncu:  # CUDABench-Score on their ncu metric (CUDABench-Set rows, --cudabench-perf=ncu)
                    ncu = group["cudabench_score_ncu"]
                    row += f"{'-' if ncu is None else f'{ncu:.3f}':>8}"
            lines.append(row)
        lines.append("")
    overall = agg["overall"]
    apart = [f"{count} {name}" for count, name in ((overall["n_errors"], "errors"), (overall["n_skipped"], "skipped"))
             if count]
    lines.append(f"overall: {overall['n_items']} items, {overall['n_judged']} judged"
                 + (f" ({', '.join(apart)} not judged)" if apart else "")
                 + f"; of the judged: compiled {_pct(overall['compile_rate']).strip()}, "
                 f"correct {_pct(overall['correct_rate']).strip()}, CUDABench-Score "
                 f"{format_score(overall['cudabench_score'])}")
    pass_k, best = overall["pass_at_k"], overall["best_of_k"]
    if pass_k:
        for stage, per_k in (("compile", pass_k["compile"]), ("correct", pass_k["correct"])):
            values = ", ".join(f"pass@{k} {_pct(v).strip()}" for k, v in per_k.items())
            lines.append(f"{stage} over {pass_k['n_problems']} problems (unbiased estimator): {values}")
    if best:
        lines.append(f"CUDABench best-of-{best['k']}: compiled {_pct(best['compile_rate']).strip()}, correct "
                     f"{_pct(best['correct_rate']).strip()}, CUDABench-Score {format_score(best['cudabench_score'])}")
    if overall["cudabench_score_ncu"] is not None:
        lines.append(f"CUDABench-Score on CUDABench's ncu Performance-Score (measured work): "
                     f"{format_score(overall['cudabench_score_ncu'])}")
    if not run["performance_measured"]:
        lines.append("performance: not measured (timing needs a GPU)")
    lines += set_lines(report["items"])
    lines += usage_lines(run.get("usage") or {})
    lines.extend(refinement_lines(report))
    reasons: Counter[str] = Counter()
    for item in report["items"]:
        if item["outcome"] in ("failed", "error"):
            stage = item["failed_stage"] or "?"
            reasons[f"[{stage}] {message_summary(item['message'])}"] += 1
    if reasons:
        lines.append("top failures:")
        for reason, count in reasons.most_common(5):
            lines.append(f"  {count:>4} x {reason}")
    t = report["totals"]
    if run.get("complete") is False:
        lines.append(f"run incomplete: {t['collected']} of {run.get('collected_items')} items ran"
                     + (f" ({run['stopped']})" if run.get("stopped") else "")
                     + "; rates cover the items that ran")
    resumed = run.get("resumed_from")
    if resumed:
        lines.append(f"resumed from run {resumed['run_id']}: {resumed['items_carried']} judged item(s) carried "
                     "over, not run again" + (f"; nothing carried: {resumed['refused']}" if resumed["refused"]
                                              else ""))
    kinds = ", ".join(f"{kind} {n}" for kind, n in t["errors_by_kind"].items())
    collected = run.get("collected_items")
    # An interrupted run: pytest collected more than ran; say both.
    counted = (f"{collected} collected, {t['collected']} ran" if isinstance(collected, int) and collected > t["collected"]
               else f"{t['collected']} collected")
    lines.append(f"totals: {counted} = {t['passed']} passed + {t['failed']} failed + "
                 f"{t['skipped']} skipped + {t['error']} errors" + (f" ({kinds})" if kinds else ""))
    as_pytest = t["pytest"]
    if [as_pytest[o] for o in OUTCOMES] != [t["passed"], t["failed"], t["skipped"], t["error"]]:
        lines.append(f"pytest counts the same items as {as_pytest['passed']} passed, {as_pytest['failed']} failed, "
                     f"{as_pytest['skipped']} skipped, {as_pytest['error']} errors: a harness or task error while "
                     "an item runs is a pytest failure, never a wrong answer here")
    return lines


NO_TIER = "n/a"  # the by_tier group of items without a tier (CUDABench-Set rows), keyed "None" in the JSON


def groups_of(aggregates: Aggregates, key: str) -> dict[str, ReportGroup]:
    """aggregates[key] for a key named at run time (by_level, by_domain, by_tier)."""
    return {"by_level": aggregates["by_level"], "by_domain": aggregates["by_domain"],
            "by_tier": aggregates["by_tier"]}[key]


def shown_groups(aggregates: Aggregates, key: str) -> dict[str, ReportGroup]:
    """aggregates[key] as the terminal and HTML show it: by_tier without a table when no item has a tier, and its
    tierless group named NO_TIER beside tiers."""
    groups = groups_of(aggregates, key)
    if key != "by_tier":
        return groups
    if set(groups) <= {"None"}:
        return {}
    return {NO_TIER if name == "None" else name: group for name, group in groups.items()}


SEED_MODES = {"run": "the run's seed put into gen.py's seeding calls", "paper": "gen.py's own fixed seeds"}


def thread_order_verdict(item: ItemResult) -> tuple[str, str]:
    """(verdict, what happened) of a CUDABench-Set item's run in another thread order: passed, failed, not-run,
    inconclusive, or not-reached when the item stopped before its forward run was judged."""
    done = item["set"]["thread_order"] if "set" in item else None
    if done:
        return str(done["verdict"]), str(done["message"] or "")
    stage = item["failed_stage"] or ("skipped" if item["outcome"] == "skipped" else None)
    return "not-reached", f"not reached: the item stopped at {stage}" if stage else "not reached"


def set_summary(items: Sequence[ItemResult]) -> dict[str, Any] | None:
    """What a run over CUDABench-Set rows decided beside the verdicts: seed modes, how often CUDABench's judge
    (compare.py) and ours agreed, and the thread-order runs' verdicts. None without set items."""
    rows = [item for item in items if "set" in item]
    if not rows:
        return None
    agree = [item["set"]["judges_agree"] for item in rows]
    disagreements = []
    for item in rows:
        if item["set"]["judges_agree"] is False:
            accepted = bool(item["set"]["compare"] and item["set"]["compare"]["passed"])
            disagreements.append(f"{item['task']} level {item['level']}: compare.py "
                                 f"{'accepted' if accepted else 'rejected'} the outputs, ours "
                                 f"{'rejected' if accepted else 'accepted'} them")
    return {"items": len(rows), "seed_modes": dict(Counter(str(item["set"]["seed_mode"]) for item in rows)),
            "judged_by_both": sum(1 for a in agree if a is not None), "judges_agree": agree.count(True),
            "judges_disagree": agree.count(False), "disagreements": disagreements,
            "thread_order": dict(Counter(thread_order_verdict(item)[0] for item in rows))}


def set_lines(items: Sequence[ItemResult]) -> list[str]:
    """The terminal's lines about CUDABench-Set items: seed mode, the judges' agreement, the thread-order runs."""
    summary = set_summary(items)
    if summary is None:
        return []
    modes = ", ".join(f"{mode} ({SEED_MODES.get(mode, mode)})" + (f" on {n}" if len(summary["seed_modes"]) > 1 else "")
                      for mode, n in summary["seed_modes"].items())
    lines = [f"CUDABench-Set: {_items(summary['items'])}, seed mode {modes}",
             f"  judges: compare.py and our check agree on {summary['judges_agree']} of "
             f"{summary['judged_by_both']} judged by both" + (f", disagree on {summary['judges_disagree']}"
                                                              if summary["judges_disagree"] else "")]
    lines += [f"    {text}" for text in summary["disagreements"][:5]]
    verdicts = ", ".join(f"{n} {verdict.replace('-', ' ')}" for verdict, n in sorted(summary["thread_order"].items()))
    lines.append(f"  run in another thread order: {verdicts}")
    return lines


def usage_lines(usage: Mapping[str, ModelUsage]) -> list[str]:
    """Per model with token counts: tokens in/out and cost (all answers, and what this run spent on new ones, at
    which prices); then what this run's requests took when retries or failures made them more than the answers."""
    lines = []
    for model, t in sorted(usage.items()):
        if t["tokens_in"] or t["tokens_out"] or t["cost_usd"] is not None:  # offline answers: none
            cost, prices = t["cost_usd"], t["prices"]
            if cost is not None:
                spent = f"cost ${cost:.4f} (this run ${t['new_cost_usd'] or 0.0:.4f})"
                if prices:
                    spent += (f" at ${prices.get('input') or 0:g} prompt + ${prices.get('output') or 0:g} completion "
                              "per million tokens")
            else:
                spent = "cost not known (give the model price_input/price_output, USD per million tokens)"
            lines.append(f"tokens ({model}): {t['tokens_in']} prompt + {t['tokens_out']} completion "
                         f"over {t['items']} answers ({t['requests']} requested, {t['cached']} cached), {spent}")
        lines += request_lines(model, t)
    return lines


def request_lines(model: str, t: ModelUsage) -> list[str]:
    """This run's HTTP requests to `model` when there were more than answers: rate limits, retried errors, the time
    spent waiting, failed generations; truncated 200 bodies are usually billed though not in the cost."""
    sent = t["http_requests"]
    if not sent or (sent == t["requests"] and not t["failed"]):
        return []
    parts = []
    if t["rate_limited"]:
        parts.append(f"{t['rate_limited']} rate-limited (429)")
    if t["retried_errors"]:
        parts.append(f"{t['retried_errors']} errors (5xx, timeouts, malformed bodies)")
    if t["failed"]:
        parts.append(f"{t['failed']} generation(s) failed")
    line = (f"requests ({model}): {sent} sent this run for {t['requests']} answers"
            + (f": {', '.join(parts)}" if parts else "")
            + (f"; {t['wait_s']:.1f} s waiting before retries" if t["wait_s"] else ""))
    if t["malformed_200"]:
        line += (f"; {t['malformed_200']} answered 200 with a cut-off or malformed body: such answers are usually "
                 "billed, so the cost above may be low")
    return [line]


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _items(count: int) -> str:
    return f"{count} item" + ("" if count == 1 else "s")


def refinement_lines(report: Report) -> list[str]:
    """The terminal's lines about refinement: what it gained overall and per level, domain and tier, or why it did
    not run."""
    agg = report["aggregates"]
    overall = agg["overall"]["refinement"]
    if not overall:
        return []
    lines = []
    if overall["n_refined"]:
        lines.append(f"refinement: {_items(overall['n_refined'])} refined, {overall['n_improved']} improved; speedup "
                     f"{_times(overall['initial_speedup'])} -> {_times(overall['final_speedup'])} (gain "
                     f"{_times(overall['gain'])}); {overall['wrong_candidates']} of {overall['candidates']} "
                     "candidates wrong, never kept")
        for title, key in (("level", "by_level"), ("domain", "by_domain"), ("tier", "by_tier")):
            gains = [f"{name} {_times(refinement['gain'])}" for name, group in groups_of(agg, key).items()
                     if (refinement := group["refinement"]) and refinement["n_refined"]]
            lines.append(f"  refinement gain by {title}: {', '.join(gains)}")
    if overall["n_not_run"]:
        message = next((i["refinement"]["message"] for i in report["items"]
                        if "refinement" in i and i["refinement"]["status"] == "not-run"), None)
        lines.append(f"refinement: not run on {_items(overall['n_not_run'])}: {message}")
    return lines


def suite_properties(report: Report) -> dict[str, str]:
    """Run-level facts for JUnit's <properties> (dashboards read them)."""
    run, overall = report["run"], report["aggregates"]["overall"]
    gpu = run["gpu"] or {}
    # Where items really ran (auto resolves per machine); the requested runtime when none got that far.
    ran_on = sorted({i["runtime"] for i in report["items"] if i["runtime"]})
    props = {
        "run_id": run["id"], "model": run["model"], "seed": run["seed"],
        "runtime": ",".join(ran_on) or run["runtime"], "runtime_requested": run["runtime"],
        "gpu": gpu.get("name", "none"), "compile_rate": overall["compile_rate"],
        "correct_rate": overall["correct_rate"], "cudabench_score": overall["cudabench_score"],
        "mean_performance_score": overall["mean_performance_score"],
    }
    if overall["cudabench_score_ncu"] is not None:
        props["cudabench_score_ncu"] = overall["cudabench_score_ncu"]
    if overall["speedup"] is not None:
        props["speedup_geomean"] = overall["speedup"]
    pass_k = overall["pass_at_k"]
    if pass_k:
        for stage, per_k in (("compile", pass_k["compile"]), ("correct", pass_k["correct"])):
            props.update({f"pass_at_{k}.{stage}": value for k, value in per_k.items()})
    best = overall["best_of_k"]
    if best:
        props.update({f"best_of_{best['k']}.correct_rate": best["correct_rate"],
                      f"best_of_{best['k']}.cudabench_score": best["cudabench_score"]})
    props.update({f"version.{k}": v for k, v in run["versions"].items()})
    return {k: "not measured" if v is None else str(v) for k, v in props.items()}


def command_line() -> list[str]:
    return list(sys.argv)
