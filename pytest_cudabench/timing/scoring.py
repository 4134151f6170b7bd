"""Scores of one answer: the roofline fraction and CUDABench's exact ncu metric (aggregation over items, CUDABench-Score
and pass@k among it, is reporting/aggregates.py).

Pure functions on plain data (floats, dicts, lists); every result is JSON-serialisable.

Two performance scores exist (see shared notes):
- ours (default): analytic minimum work of the task, `roofline_bound_s(...) / measured_s`. Wasted work lowers it.
- CUDABench's: ncu hardware counters of the chosen kernel, `ncu_performance_score(...)`. Counts measured work, so
  redundant FLOPs or bytes raise it. Kept for comparison with the paper's numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence

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
