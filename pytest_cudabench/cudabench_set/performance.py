"""The time stage of a CUDABench-Set item on a GPU: the whole program profiled under Nsight Compute.

CUDABench measures performance only this way (see the project's notes): ncu over the whole program, the kernel with
the most FP32 FLOP/s (its launches averaged), Performance-Score = max(compute efficiency, bandwidth utilisation).
Beside it, where the project's work table (work.toml) covers the task, our analytic roofline: the task's minimum
FLOPs and DRAM bytes at this row's shapes against the GPU's peaks, over the program's total kernel time under ncu
(ncu flushes caches before each kernel: cold-cache times, as our own time stage measures). A program whose kernels
take less than that bound did its work somewhere else (on the host) and gets no roofline score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import StageFailure
from ..timing import gpu_tools, scoring
from ..timing.gpus import Peaks
from ..timing.stage import peak_flops
from .rows import Row
from .work import RowWork, row_work

NCU_DEFINITION = ("CUDABench: ncu counters over the whole program, the kernel with the most FP32 FLOP/s (its "
                  "launches averaged), max(compute efficiency, bandwidth utilisation); measured work")
ROOFLINE_DEFINITION = ("analytic roofline: the task's minimum FLOPs and DRAM bytes (cudabench_set/work.toml) at this "
                       "row's shapes over the program's total kernel time under ncu (cold caches)")
KERNEL_TIME = "gpu__time_duration.sum"
PLAUSIBLE_LIMIT = 1.10  # the table's counts and datasheet peaks are not exact: only a clear excess is refused


def kernel_seconds(launches: Sequence[Mapping[str, Any]]) -> float | None:
    """The program's total kernel time: the sum of every launch's duration; None when ncu gave none."""
    durations = [launch["metrics"].get(KERNEL_TIME) for launch in launches]
    known = [float(d) for d in durations if d is not None]
    return sum(known) if known else None


def roofline(row: Row, seconds: float | None, peaks: Peaks | None) -> dict[str, Any]:
    """Our roofline score of the row's program from its total kernel time; a record with `score` None and a
    `message` where it cannot be computed."""
    work = row_work(row)
    if work is None:
        return {"score": None, "message": f"the project's work table (cudabench_set/work.toml) does not cover task "
                                          f"{row.task_name!r}: no analytic roofline score"}
    return roofline_record(work, seconds, peaks)


def roofline_record(work: RowWork, seconds: float | None, peaks: Peaks | None) -> dict[str, Any]:
    """bound / measured for one row's minimum work (`work`) and its program's total kernel time."""
    record: dict[str, Any] = {"definition": ROOFLINE_DEFINITION, "flops": work.flops, "bytes": work.dram_bytes,
                              "precision": work.precision, "formulas": dict(work.formulas), "kernel_s": seconds,
                              "bound_s": None, "bound_by": None, "score": None}
    if peaks is None:
        return {**record, "message": "no peak figures for this GPU: no analytic roofline score"}
    if not seconds:
        return {**record, "message": "ncu reported no kernel time: no analytic roofline score"}
    roof = peak_flops(peaks, work.precision)
    compute_s = work.flops / roof if roof else 0.0
    memory_s = work.dram_bytes / peaks.dram_bw
    bound = max(compute_s, memory_s)
    score = scoring.performance_score(bound, seconds)
    record.update(bound_s=bound, bound_by="compute" if compute_s > memory_s else "memory")
    if score > PLAUSIBLE_LIMIT:
        return {**record, "implausible": round(score, 3),
                "message": f"the program's kernels ran {seconds:.3g} s in all, {score:.2f}x faster than the "
                           f"{bound:.3g} s this task's minimum work needs on this GPU: the work was done outside its "
                           "kernels (on the host?), or the work table overcounts; no roofline score"}
    record["score"] = score
    return record


def score_profile(row: Row, log: str, peaks: Peaks | None) -> dict[str, Any]:
    """Both scores from the ncu log of one whole-program run:
    {"ncu": {definition, kernel, launches, kernels, flop_s, dram_bytes_s, ce, bu, ai, score}, "roofline": {...}}.
    `log` is from a run that exited 0. Raises StageFailure('time') when the program launched no kernel (a CUDA
    answer that ran on the host), ValueError when the log holds no usable measurement (the profiler's problem)."""
    problem = gpu_tools.ncu_failure(log)
    if problem:
        raise ValueError(problem)
    launches = scoring.parse_ncu_csv(log)
    if not launches:  # the program ran to its end under a working profiler ("No kernels were profiled")
        last = next((line for line in reversed(log.splitlines()) if line.strip()), "an empty log")
        raise StageFailure("time", "the program launched no kernel under the profiler (ncu: "
                           f"{last.strip()[:200]}): a CUDA answer must run its work on the GPU")
    chosen = scoring.ncu_score_from_launches(launches)
    if chosen is None:
        raise ValueError(f"ncu did not report every metric CUDABench's score needs ({', '.join(scoring.NCU_REQUIRED)})")
    seconds = kernel_seconds(launches)
    ncu = {"definition": NCU_DEFINITION, **chosen, "kernel_launches": len(launches),
           "kernels": sorted({launch["kernel"] for launch in launches}), "kernel_s": seconds}
    return {"ncu": ncu, "roofline": roofline(row, seconds, peaks)}
