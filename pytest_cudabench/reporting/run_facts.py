"""The report's `run` record: what was run, where and with what, built from plain values the pytest layer hands
over (settings, times, the items, the worker machines, why the run stopped, ...) and the facts of this machine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ..config import Settings
from ..cudabench_set.performance import NCU_DEFINITION as SET_NCU_DEFINITION
from ..errors import ConfigError
from ..results import ROOFLINE_DEFINITION, TEMPLATE_VERSION, ItemResult, ResumedFrom, RunRecord
from ..source.compiler import nvcc_version as version_of
from ..source.toolkit import find_nvcc
from ..timing.gpus import gpu_arch, gpu_info, lookup_peaks
from ..timing.policy import run_record as measurement_record
from ..timing.stage import NCU_DEFINITION
from .aggregates import performance_measured, usage_totals
from .report import command_line, machine, run_peaks, versions


def iso_time(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def nvcc_version() -> str | None:
    """The version of the nvcc on this machine, None without one."""
    try:
        return version_of(str(find_nvcc()))
    except ConfigError:
        return None


def run_record(settings: Settings, *, started: float, finished: float, items: Sequence[ItemResult],
               collected: int | None, stopped: str | None, workers: int | None,
               worker_machines: dict[str, dict[str, Any]], shard: dict[str, Any] | None,
               prices: dict[str, float | None] | None, resumed_from: ResumedFrom | None) -> RunRecord:
    """The report's `run` (docs/reports.md). `collected`: the items selected to run, None when not known (every
    item ran then); `stopped`: why the run ended early (-x, --maxfail, Ctrl-C, SIGTERM), None when it did not;
    `workers`: xdist's worker count, None without xdist; `worker_machines`: each worker's machine facts."""
    s = settings
    gpu = gpu_info()
    if gpu is None:  # a controller without a GPU (remote workers): the GPU the workers measured on
        gpu = next((w["gpu"] for w in worker_machines.values() if w.get("gpu")), None)
    table = lookup_peaks(gpu["name"]) if gpu and gpu.get("name") else None
    peaks, peaks_by_item = run_peaks(items, table.to_dict() if table else None)
    return {
        "id": s.run_id, "started": iso_time(started), "finished": iso_time(finished),
        "duration_s": round(finished - started, 3), "model": s.model, "seed": s.seed,
        "levels": list(s.levels), "samples": s.samples, "runtime": s.runtime, "gpu_api": s.gpu_api,
        "arch": s.arch or gpu_arch(),
        "cases": s.cases, "template_version": TEMPLATE_VERSION, "shard": shard,
        "command": command_line(), "workers": workers, "versions": versions(nvcc_version()),
        "machine": machine(), "gpu": gpu, "peaks": peaks, "peaks_by_item": peaks_by_item,
        "worker_machines": worker_machines or None,
        "performance_measured": performance_measured(items),
        "performance_definition": ROOFLINE_DEFINITION,
        "ncu_performance_definition": NCU_DEFINITION if s.perf == "ncu" else None,
        "set_ncu_performance_definition": SET_NCU_DEFINITION if any(
            i.get("set") and i.get("ncu_performance_score") is not None for i in items) else None,
        "measurement": measurement_record(),
        "usage": usage_totals(items, prices),
        "collected_items": collected if collected is not None else len(items),
        "complete": stopped is None and (collected is None or len(items) >= collected),
        "stopped": stopped,
        # Ctrl-C, -x or --maxfail: items that did not run are absent; `compare` refuses such a report as a baseline.
        "interrupted": stopped is not None,
        "resumed_from": resumed_from,  # --cudabench-resume: what was carried over
    }
