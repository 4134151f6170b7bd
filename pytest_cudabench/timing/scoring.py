"""Scores: roofline fraction, CUDABench-Score, pass@k, CUDABench's exact ncu metric, and per-group aggregation.

Pure functions on plain data (floats, dicts, lists); every result is JSON-serialisable.

Two performance scores exist (see shared notes):
- ours (default): analytic minimum work of the task, `roofline_bound_s(...) / measured_s`. Wasted work lowers it.
- CUDABench's: ncu hardware counters of the chosen kernel, `ncu_performance_score(...)`. Counts measured work, so
  redundant FLOPs or bytes raise it. Kept for comparison with the paper's numbers.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# ---------------------------------------------------------------- roofline score


def roofline_bound_s(flops: float, dram_bytes: float, peak_flops: float, peak_bw: float) -> float:
    """Fastest possible time for the task's minimum work: max(flops / peak_flops, bytes / peak_bw)."""
    if peak_flops <= 0 or peak_bw <= 0:
        raise ValueError("peaks must be positive")
    return max(flops / peak_flops, dram_bytes / peak_bw)


def performance_score(bound_s: float, measured_s: float) -> float:
    """Fraction of the roofline reached: bound / measured. Not clipped at 1: a value above 1 means the peaks are
    wrong, the work formula overcounts, or the kernel skipped work; `is_suspicious` flags it."""
    if measured_s <= 0:
        raise ValueError(f"measured time must be positive, got {measured_s}")
    return bound_s / measured_s


def is_suspicious(score: float, noise: float = 0.05, spread: float = 0.0) -> bool:
    """A score beyond the roofline by more than timing noise (`noise`, plus the measured relative spread)."""
    return score > 1.0 + noise + spread


def item_performance_score(per_scale_scores: Sequence[float | None]) -> float | None:
    """Mean performance score of one answer over the input scales it was measured at.

    Convention (the caller applies it): a scale where the answer failed correctness is passed as 0.0, so it pulls
    the mean down as in CUDABench's zeros-included average; a scale not measured (None: no GPU, skipped as too
    large for the device, timing error) is left out of the mean. None when no scale was measured.
    """
    values = [float(s) for s in per_scale_scores if s is not None]
    return sum(values) / len(values) if values else None


# Only answers that were judged count in rates: a skip (unsupported here) and an error (the model API, the task or
# the harness broke, see results.ItemResult) say nothing about the answer. Both are counted apart.
NOT_JUDGED = ("skipped", "error")


def _judged(items: Iterable[Mapping]) -> list[Mapping]:
    return [it for it in items if it.get("outcome") not in NOT_JUDGED]


PERFORMANCE_KEY = "performance_score"  # ours: analytic roofline
NCU_PERFORMANCE_KEY = "ncu_performance_score"  # CUDABench's: ncu counters (--cudabench-perf=ncu)


def _credited(item: Mapping, key: str = PERFORMANCE_KEY) -> float:
    """1(compiled and functional) x Performance-Score, 0 when not measured."""
    ok = bool(item.get("compiled")) and item.get("correct") is True
    score = item.get(key)
    return float(score) if ok and score is not None else 0.0


def performance_measured(items: Iterable[Mapping]) -> bool:
    """Whether any item carries a Performance-Score, ours or CUDABench's (a set row on a GPU may have only the
    latter, where the work table does not cover its task)."""
    return any(it.get(PERFORMANCE_KEY) is not None or it.get(NCU_PERFORMANCE_KEY) is not None for it in items)


def cudabench_score(items: Iterable[Mapping], key: str = PERFORMANCE_KEY) -> float | None:
    """CUDABench-Score as a fraction (the paper prints it in %): mean over items of
    1(compiled and correct) x Performance-Score (`key`: ours or the ncu one), zeros included. Skipped items are left
    out. None ("not measured") when no item carries that score, e.g. on the CPU runtime; compile and correct
    rates stay computable then (see `aggregate`)."""
    judged = _judged(items)
    if not judged or all(it.get(key) is None for it in judged):
        return None
    return sum(_credited(it, key) for it in judged) / len(judged)


# ---------------------------------------------------------------- pass@k


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k), as the stable product
    1 - prod_{i=n-c+1}^{n} (1 - k / i). n samples, c of them passing."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def best_of_k(samples: Sequence[Mapping]) -> Mapping | None:
    """CUDABench's "Pass@3" choice among the given samples (pass the first k): a correct one is preferred, then the
    highest performance score (unmeasured counts as -inf), then a compiled one, then the earliest."""
    if not samples:
        return None

    def key(pair):
        i, s = pair
        score = s.get("performance_score")
        return (s.get("correct") is True, -math.inf if score is None else float(score), bool(s.get("compiled")), -i)

    return max(enumerate(samples), key=key)[1]


# ---------------------------------------------------------------- CUDABench's ncu score

# The metrics CUDABench's evaluation script requests and reads (per kernel launch). Rates (per_second,
# per_cycle_elapsed) rather than totals, so the score does not depend on the kernel's duration.
NCU_FFMA = "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum.per_cycle_elapsed"
NCU_FMUL = "smsp__sass_thread_inst_executed_op_fmul_pred_on.sum.per_cycle_elapsed"
NCU_FADD = "smsp__sass_thread_inst_executed_op_fadd_pred_on.sum.per_cycle_elapsed"
NCU_SMSP_HZ = "smsp__cycles_elapsed.avg.per_second"
NCU_SM_HZ = "sm__cycles_elapsed.avg.per_second"
NCU_FFMA_PEAK = "sm__sass_thread_inst_executed_op_ffma_pred_on.sum.peak_sustained"
NCU_DRAM_BPS = "dram__bytes.sum.per_second"
NCU_DRAM_PEAK = "dram__bytes.sum.peak_sustained"
NCU_DRAM_HZ = "dram__cycles_elapsed.avg.per_second"
NCU_REQUIRED = (NCU_FFMA, NCU_FMUL, NCU_FADD, NCU_SMSP_HZ, NCU_SM_HZ, NCU_FFMA_PEAK, NCU_DRAM_BPS, NCU_DRAM_PEAK, NCU_DRAM_HZ)
# Not used by the score; recorded for the report (kernel time, total DRAM bytes).
NCU_EXTRA = ("gpu__time_duration.sum", "dram__bytes.sum")
NCU_EPSILON = 1e-9  # CUDABench: FLOP/s below this counts as no floating-point work


def ncu_metric_names() -> list[str]:
    """Metric names to pass to `ncu --metrics` (comma-joined). Use `--csv --print-units base` so values need no
    unit scaling (parse_ncu_csv scales the auto units too)."""
    return [*NCU_REQUIRED, *NCU_EXTRA]


def ncu_performance_score(metrics: Mapping[str, float]) -> dict:
    """CUDABench's Performance-Score from one launch's (or one kernel's averaged) ncu metrics, in base units
    (inst/cycle, cycle/second, byte/cycle, byte/second).

    PeakWork    = 2 x FFMA peak_sustained [inst/cycle] x SM cycles/s
    PeakTraffic = DRAM bytes peak_sustained [byte/cycle] x DRAM cycles/s
    FLOP/s      = (2 x FFMA + FMUL + FADD) [per cycle elapsed, summed over SMSPs] x SMSP cycles/s   (FP32 only)
    CE = FLOP/s / PeakWork;  BU = DRAM B/s / PeakTraffic;  AI = FLOP/s / DRAM B/s
    score = FLOP/s / min(PeakWork, AI x PeakTraffic) (= max(CE, BU)); score = BU when FLOP/s < 1e-9.

    Returns {flop_s, dram_bytes_s, peak_work, peak_traffic, ai (None when no DRAM traffic), ce, bu, score}.
    Raises KeyError naming the missing metrics.
    """
    missing = [m for m in NCU_REQUIRED if metrics.get(m) is None]
    if missing:
        raise KeyError(f"ncu metrics missing: {missing}")
    m = {k: float(metrics[k]) for k in NCU_REQUIRED}
    peak_work = 2.0 * m[NCU_FFMA_PEAK] * m[NCU_SM_HZ]
    peak_traffic = m[NCU_DRAM_PEAK] * m[NCU_DRAM_HZ]
    flop_s = (2.0 * m[NCU_FFMA] + m[NCU_FMUL] + m[NCU_FADD]) * m[NCU_SMSP_HZ]
    dram_bps = m[NCU_DRAM_BPS]
    bu = dram_bps / peak_traffic if peak_traffic > 0 else 0.0
    ai = flop_s / dram_bps if dram_bps > 0 else None
    if abs(flop_s) < NCU_EPSILON:
        ce, score = 0.0, bu
    else:
        ce = flop_s / peak_work if peak_work > 0 else 0.0
        # No DRAM traffic: AI is infinite and the compute roof alone applies.
        roof = peak_work if ai is None else min(peak_work, ai * peak_traffic)
        score = flop_s / roof if roof > 0 else 0.0
    return {
        "flop_s": flop_s,
        "dram_bytes_s": dram_bps,
        "peak_work": peak_work,
        "peak_traffic": peak_traffic,
        "ai": ai,
        "ce": ce,
        "bu": bu,
        "score": score,
    }


def ncu_score_from_launches(launches: Sequence[Mapping]) -> dict | None:
    """CUDABench's kernel choice over the launches of one program (from `parse_ncu_csv`): metrics are averaged per
    kernel name over its launches; the kernel with the highest FLOP/s is kept, or the highest DRAM B/s when no kernel
    does floating-point work. Returns `ncu_performance_score` of it plus "kernel" and "launches"; None when no
    launch has all required metrics."""
    by_kernel: dict[str, list[Mapping]] = defaultdict(list)
    for launch in launches:
        if all(launch["metrics"].get(m) is not None for m in NCU_REQUIRED):
            by_kernel[launch["kernel"]].append(launch["metrics"])
    if not by_kernel:
        return None
    results = []
    for kernel, runs in by_kernel.items():
        avg = {m: sum(float(r[m]) for r in runs) / len(runs) for m in NCU_REQUIRED}
        results.append({**ncu_performance_score(avg), "kernel": kernel, "launches": len(runs)})
    if any(r["flop_s"] > 0 for r in results):
        return max(results, key=lambda r: r["flop_s"])
    return max(results, key=lambda r: r["dram_bytes_s"])


_SI = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
_TIME = {"second": 1.0, "msecond": 1e-3, "usecond": 1e-6, "nsecond": 1e-9, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_HZ = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}


def _unit_factor(word: str) -> float:
    """Multiplier from a unit word to its base unit: "Kbyte" -> 1e3, "nsecond" -> 1e-9, "GHz" -> 1e9."""
    w = word.strip()
    if w in _TIME:
        return _TIME[w]
    if w.lower() in _HZ:
        return _HZ[w.lower()]
    if len(w) > 1 and w[0] in _SI and w[1:].isalpha() and w[1:].islower():
        return _SI[w[0]]
    return 1.0


def ncu_unit_factor(unit: str) -> float:
    """Multiplier from an ncu "Metric Unit" to base units ("Gbyte/second" -> 1e9, "cycle/nsecond" -> 1e9)."""
    if not unit or unit == "%":
        return 1.0
    num, _, den = unit.partition("/")
    return _unit_factor(num) / (_unit_factor(den) if den else 1.0)


def _number(text: str) -> float | None:
    t = (text or "").replace(",", "").strip()
    if not t or t.lower() in {"n/a", "nan"}:
        return None
    try:
        return float(t)
    except ValueError:
        return None


def parse_ncu_csv(text: str) -> list[dict]:
    """Launches from `ncu --csv --metrics a,b,...` output (the default "details" page: one row per launch and metric).

    Leading lines that are not the CSV (==PROF== messages, the program's own stdout) are skipped: the table starts
    at the header line containing "ID" and "Metric Name". Thousands separators are removed, "n/a" becomes None, and
    values are scaled to base units using the "Metric Unit" column.
    Returns, in launch order: [{"id": str, "kernel": str, "device": str|None, "metrics": {name: float|None},
    "units": {name: unit as printed}}].
    Written against published samples of ncu's CSV; not yet verified against ncu on hardware here.
    """
    lines = text.splitlines()
    start = next(
        (i for i, ln in enumerate(lines) if re.match(r'\s*"?ID"?\s*,', ln) and "Metric Name" in ln),
        None,
    )
    if start is None:
        return []
    reader = csv.DictReader(io.StringIO("\n".join(lines[start:])))
    launches: dict[str, dict] = {}
    for row in reader:
        name = (row.get("Metric Name") or "").strip()
        if not name or row.get("ID") is None or row.get("ID") == "ID":
            continue
        launch_id = row["ID"].strip()
        launch = launches.setdefault(
            launch_id,
            {"id": launch_id, "kernel": (row.get("Kernel Name") or "").strip(), "device": row.get("Device"),
             "metrics": {}, "units": {}},
        )
        unit = (row.get("Metric Unit") or "").strip()
        value = _number(row.get("Metric Value", ""))
        launch["metrics"][name] = None if value is None else value * ncu_unit_factor(unit)
        launch["units"][name] = unit
    return list(launches.values())


# ---------------------------------------------------------------- aggregation

FAST_P = (0.0, 1.0, 1.5)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _geomean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def _fmt_p(p: float) -> str:
    return f"fast_{p:g}"


def _problem_key(item: Mapping) -> tuple:
    return (item.get("task"), item.get("level"))


def _pass_stats(judged: list[Mapping]) -> tuple[dict | None, dict | None]:
    """pass@k per stage and CUDABench best-of-k over problems = (task, level) with several samples."""
    problems: dict[tuple, list[Mapping]] = defaultdict(list)
    for it in judged:
        if it.get("sample") is not None:
            problems[_problem_key(it)].append(it)
    if not problems:
        return None, None
    k_max = min(len(v) for v in problems.values())
    if k_max < 2:
        return None, None
    stages = {"compile": lambda it: bool(it.get("compiled")), "correct": lambda it: it.get("correct") is True}
    pass_k: dict = {"n_problems": len(problems), "k_max": k_max}
    for stage, ok in stages.items():
        per_k = {}
        for k in range(1, k_max + 1):
            vals = [pass_at_k(len(v), sum(1 for it in v if ok(it)), k) for v in problems.values()]
            per_k[str(k)] = sum(vals) / len(vals)
        pass_k[stage] = per_k
    picks = (best_of_k(sorted(v, key=lambda it: it["sample"])[:k_max]) for v in problems.values())
    chosen = [c for c in picks if c is not None]  # every problem has samples: none is dropped
    best = {
        "k": k_max,
        "n_problems": len(chosen),
        "compile_rate": sum(1 for c in chosen if c.get("compiled")) / len(chosen),
        "correct_rate": sum(1 for c in chosen if c.get("correct") is True) / len(chosen),
        "cudabench_score": cudabench_score(chosen),
    }
    return pass_k, best


def group_stats(items: Sequence[Mapping]) -> dict:
    judged = _judged(items)
    n = len(judged)
    correct = [it for it in judged if it.get("correct") is True]
    measured_correct = [float(it["performance_score"]) for it in correct if it.get("performance_score") is not None]
    any_measured = any(it.get("performance_score") is not None for it in judged)
    speedups = [float(it["speedup"]) for it in correct if it.get("speedup") is not None and it["speedup"] > 0]
    any_speedup = any(it.get("speedup") is not None for it in judged)
    pass_k, best = _pass_stats(judged)
    out: dict[str, Any] = {
        "n_items": len(items),
        "n_skipped": sum(1 for it in items if it.get("outcome") == "skipped"),
        "n_errors": sum(1 for it in items if it.get("outcome") == "error"),
        "n_judged": n,
        "n_compiled": sum(1 for it in judged if it.get("compiled")),
        "n_correct": len(correct),
        "compile_rate": (sum(1 for it in judged if it.get("compiled")) / n) if n else None,
        "correct_rate": (len(correct) / n) if n else None,
        "n_measured": len(measured_correct),
        "mean_performance_score_correct": _mean(measured_correct),
        "mean_performance_score_all": (sum(_credited(it) for it in judged) / n) if n and any_measured else None,
        "cudabench_score": cudabench_score(judged),
        "cudabench_score_ncu": cudabench_score(judged, NCU_PERFORMANCE_KEY),
        "mean_ncu_performance_score_correct": _mean(
            [float(it[NCU_PERFORMANCE_KEY]) for it in correct if it.get(NCU_PERFORMANCE_KEY) is not None]),
        "speedup": _geomean(speedups),
    }
    for p in FAST_P:
        hits = sum(1 for it in correct if it.get("speedup") is not None and it["speedup"] > p)
        out[_fmt_p(p)] = (hits / n) if n and any_speedup else None
    out["pass_at_k"] = pass_k
    out["best_of_k"] = best
    out["mean_performance_score"] = out["mean_performance_score_correct"]
    return out


def aggregate(items: Sequence[Mapping], group_by: str | None = None) -> dict:
    """Summary statistics per group of judged answers; plain builtins only.

    `items`: dicts with keys task, domain, tier, level, sample, outcome ("passed"|"failed"|"skipped"|"error"),
    compiled (bool), correct (bool|None; None = not judged, counted as not correct), performance_score
    (float|None), speedup (float|None; reference time / our time).
    `group_by`: an item key ("level", "domain", "tier", ...) or None for one group named "all".
    Returns {str(group value): stats}, sorted by key (items lacking the key go to "None"). Stats keys:
      n_items            all items in the group, skipped included
      n_skipped          outcome == "skipped" (e.g. unsupported on the CPU runtime); left out of everything below
      n_errors           outcome == "error" (model API, task or harness broke, not the answer); left out likewise
      n_judged, n_compiled, n_correct
      compile_rate       n_compiled / n_judged (None when nothing judged)
      correct_rate       n_correct / n_judged
      n_measured         correct items with a performance score
      mean_performance_score_correct  mean score over correct, measured items (None when none)
      mean_performance_score_all      mean over judged items, zero for incorrect or unmeasured ones (None when no
                         item was measured); equals cudabench_score unless a failed item carries a score
      cudabench_score    CUDABench-Score as a fraction (None = not measured), on our roofline Performance-Score
      cudabench_score_ncu  the same on CUDABench's own ncu Performance-Score (--cudabench-perf=ncu; else None)
      mean_ncu_performance_score_correct  mean ncu score over correct, profiled items (None when none)
      speedup            geometric mean speedup over correct items with a speedup (None when none)
      fast_0, fast_1, fast_1.5   KernelBench fast_p: fraction of judged items that are correct and faster than
                         p x the reference (speedup > p); None when no speedup was measured
      pass_at_k          None, or when every (task, level) has >= 2 samples: {"n_problems", "k_max",
                         "compile": {"1": .., ..., str(k_max): ..}, "correct": {...}}: unbiased pass@k averaged
                         over problems; k_max = fewest samples of any problem
      best_of_k          None, or CUDABench's "Pass@k" over the first k_max samples (by `sample`) of each problem:
                         {"k", "n_problems", "compile_rate", "correct_rate", "cudabench_score"}
      mean_performance_score  = mean_performance_score_correct: the figure people read first (both other
                         definitions stay beside it)
    Every item of a rate counts once, so with several samples per problem the plain rates are expected pass@1.
    """
    if group_by is None:
        return {"all": group_stats(list(items))}  # also for no items at all
    groups: dict[str, list[Mapping]] = defaultdict(list)
    for it in items:
        groups[str(it.get(group_by))].append(it)
    return {key: group_stats(groups[key]) for key in sorted(groups)}
