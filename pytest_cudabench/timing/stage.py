"""The time stage: time the answer at the task's five benchmark scales, check its outputs there against the task's
own solution, and turn medians into roofline Performance-Scores and a speedup (`time_answer`; `profile_answer` adds
CUDABench's ncu score).

Measurement runs in the same isolated child as execution (child.py, with `gpu_timing` and the `stats` stopping
rule: CUDA events with a device-wide synchronize, host wall-clock as a cross-check, L2 flushed between samples, so
numbers are cold-cache), started through one narrow entry of the execution layer (runner.run_timing, passed in:
`RunTiming`). What comes back is checked here, in the trusted process: the timing phase against the kernel's stamps
of the status channel (check_timing_phase) and the benchmark outputs decoded by name (decode_bench_outputs). Without
a GPU the stage is not run and the report says performance was not measured; only tests time on the CPU runtime,
with the host clock (Settings.host_clock_gpu, measurement_policy).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .. import protocol
from ..averages import geomean
from ..config import Settings
from ..errors import StageFailure
from ..protocol import Event, bench_key, parse_bench_key
from ..results import ROOFLINE_DEFINITION, ScaleRecord
from ..source.compiler import compile_library
from ..source.static_check import l2_persistence_imports
from ..source.toolkit import find_cuda_tool
from ..tasks import compare, inputs
from ..tasks.loader import Task
from . import gpu_tools, scoring
from .calibrate import calibrate_in_child, device_identity, load_or_calibrate
from .gpus import Peaks, gpu_info, lookup_peaks
from .policy import DEFAULT_POLICY, MeasurementPolicy

NOISE = 0.05  # a score above 1 + noise (+ the measured spread) is physically impossible
NOT_MEASURED = "timing needs a GPU; performance not measured"
HOST_CLOCK_CAP_S = 0.1  # per scale, timing with the host clock: its numbers only need to tell redundant work apart
# The parent's own clock around each scale's timing phase (see check_timing_phase).
# Receipt times lag the child's writes by the parent's wake-up latency, tens of ms on a loaded machine (measured:
# 14 ms on two shared cores), which shortens the measured phase when the start mark lags most: hence the slack.
PHASE_MARGIN = 1.25  # a claim may exceed the parent's measurement by this factor ...
PHASE_SLACK_S = 0.1  # ... plus this much
PER_CALL_SLACK_S = 0.005  # per-call disagreement ignored below this (host jitter, launch costs)
CLOCK_SLOW_FACTOR = 10.0  # the child's clock saw under 1/10 of a phase the parent measured ...
CLOCK_MIN_PHASE_S = 0.05  # ... that took at least this long

# Reference solution timings and outputs of the task being measured; items of one task run on one worker in turn.
_reference_cache: dict[tuple, Any] = {}


# ---------------------------------------------------------------------- the stage


@dataclass(frozen=True)
class Build:
    """A library to time: nvcc's build of `source`, and the build the runtime loads where one was made already
    (the execute stage's; None: the runner builds it for the runtime)."""

    source: str
    library: Path
    runtime_library: Path | None = None


class Measured(Protocol):
    """What a timing run hands back (runner.ExecutionResult): per scale the sizes and timing summary, and the
    benchmark outputs by protocol.bench_key."""

    timed: list[dict[str, Any]]
    bench_outputs: dict[str, np.ndarray]


class RunTiming(Protocol):
    """The execution layer's timing entry (runner.run_timing): times `build` in a sandboxed child at every benchmark
    scale (or calls it once at `profile_scale`, under `wrapper`). Raises StageFailure('time')."""

    def __call__(self, task: Task, build: Build, runtime: str, settings: Settings, *, policy: MeasurementPolicy,
                 timeout_s: float, monitor: Callable[[], dict[str, Any] | None] | None = None,
                 profile_scale: int | None = None, wrapper: list[str] | None = None) -> Measured: ...


@dataclass(frozen=True)
class TimeScores:
    performance_score: float | None
    speedup: float | None
    reference_outputs: dict[str, np.ndarray]  # the solution's benchmark outputs (profile_answer checks against them)


def measurement_policy(settings: Settings, runtime: str) -> MeasurementPolicy | None:
    """How the answer is timed on `runtime`: CUDA events on a GPU; on the CPU runtime only where tests ask for the
    host clock (Settings.host_clock_gpu), with short loops; None: not timed here."""
    if runtime == "gpu":
        return DEFAULT_POLICY
    if runtime == "cpu" and settings.host_clock_gpu:
        return replace(DEFAULT_POLICY, timer="host", cap_s=HOST_CLOCK_CAP_S)
    return None


def time_limit_s(task: Task, settings: Settings) -> float:
    """Generous wall limit of a timing child: five scales up to ~1 GB each, plus warm-up and L2 flushes."""
    return (settings.timeout_s or task.timeout_s) + 10 * DEFAULT_POLICY.item_cap_s


def time_answer(task: Task, settings: Settings, runtime: str, answer: Build, arch: str, record: dict[str, Any],
                run_timing: RunTiming) -> TimeScores | None:
    """The time stage's measurement: the answer and the task's solution (built for `arch`) timed alike, the answer's
    benchmark outputs checked against the solution's, the medians scored on the GPU's peaks (calibrated with
    --cudabench-calibrate). Fills `record`; returns the scores, or None where the runtime has no timing (the
    record then says so). Raises StageFailure('time')."""
    policy = measurement_policy(settings, runtime)
    if policy is None:
        record.update(status_override="not-run", message=NOT_MEASURED)
        return None
    host_clock = settings.host_clock_gpu if policy.timer == "host" else None
    gpu = {"name": host_clock} if host_clock else (gpu_info() or {})
    peaks = lookup_peaks(gpu.get("name", ""))
    if settings.calibrate and not host_clock:
        try:
            gpu_api = settings.gpu_api
            peaks = load_or_calibrate(settings.cache_path / "peaks",
                                      calibrate_fn=lambda device: calibrate_in_child(device, gpu_api=gpu_api),
                                      identity_fn=lambda device: device_identity(device, gpu_api))
        except Exception as exc:  # the measurement of the machine failed, not the answer: datasheet peaks
            record["calibration_error"] = f"{type(exc).__name__}: {exc}; scored on datasheet peaks"

    def measure(build: Build) -> Measured:
        return run_timing(task, build, runtime, settings, policy=policy, timeout_s=time_limit_s(task, settings),
                          monitor=None if host_clock else gpu_info)

    reference = reference_timing(task, settings.seed, gpu.get("name", "?"), lambda: measure(
        Build(task.solution_source(), reference_library(task, settings.cache_path, arch))))
    measured = measure(answer)
    for k, sizes in enumerate(task.sizes.bench):
        check_bench_outputs(task, measured.bench_outputs, reference.bench_outputs, k, sizes, settings.seed)
    works = bench_works(task, settings.seed)
    scales = score_scales(task, measured.timed, peaks, works)
    reference_scales = score_scales(task, reference.timed, peaks, works)
    record.update(scales=scales, reference_scales=reference_scales, cold_cache=True, gpu=gpu.get("name"),
                  peaks=peaks.to_dict() if peaks else None, definition=ROOFLINE_DEFINITION)
    if host_clock:
        record.update(clock="host", cold_cache=False,
                      definition=f"host-clock timing (tests only): CPU-runtime host-clock times scored on "
                                 f"{host_clock}'s datasheet peaks; not a GPU measurement")
    record["l2_persistence"] = l2_persistence_record(answer.library, measured.timed)
    check_plausible(task, scales)
    if peaks is None:
        record["message"] = f"no peak figures for GPU {gpu.get('name')!r}: Performance-Score not computed"
    return TimeScores(performance_score=scoring.item_performance_score([row["score"] for row in scales])
                      if peaks else None, speedup=speedup(scales, reference_scales),
                      reference_outputs=reference.bench_outputs)


def profile_answer(task: Task, settings: Settings, runtime: str, answer: Build, scores: TimeScores,
                   record: dict[str, Any], run_timing: RunTiming) -> dict[str, Any] | None:
    """With --cudabench-perf=ncu on a GPU, after time_answer: CUDABench's ncu score beside ours, recorded as
    record["ncu"] and returned. None, with nothing recorded, otherwise."""
    if settings.perf != "ncu" or runtime != "gpu":
        return None
    limit = 3 * time_limit_s(task, settings)  # ncu replays every kernel once per group of counters
    record["ncu"] = profile_with_ncu(
        task, lambda k, wrapper: run_timing(task, answer, runtime, settings, policy=DEFAULT_POLICY, timeout_s=limit,
                                            profile_scale=k, wrapper=wrapper),
        scores.reference_outputs, settings.seed)
    return record["ncu"]


# ---------------------------------------------------------------------- what the timing child hands back


def timing_phase_s(events: list[dict[str, Any]], scale_index: int) -> float | None:
    """Seconds between the kernel's stamps of a scale's timing-start and timing-end events (never the child's
    clock)."""
    marks = {e.get("event"): e["received_s"] for e in events
             if e.get("scale") == scale_index and e.get("event") in (Event.TIMING_START, Event.TIMING_END)}
    if Event.TIMING_START not in marks or Event.TIMING_END not in marks:
        return None
    return marks[Event.TIMING_END] - marks[Event.TIMING_START]


def check_timing_phase(row: dict[str, Any], phase_s: float | None, sizes: dict[str, int],
                       empty_samples: int = DEFAULT_POLICY.empty_samples) -> None:
    """The child's timing claims against the harness's clock around the scale's timing phase:
    - the timed samples (their sum; n x median is at most twice that) must fit in the phase: claimed <= measured
      x PHASE_MARGIN + PHASE_SLACK_S. Samples are a part of the phase, so a larger claim means a patched clock.
    - the child's own clock over its loop (loop_s) must agree with the phase the same way, and must not show
      under 1/CLOCK_SLOW_FACTOR of a phase longer than CLOCK_MIN_PHASE_S: a clock made to run slow (tiny times
      while the calls take long) shows up there.
    - per call, the phase minus the child's harness overhead must not exceed CLOCK_SLOW_FACTOR x the median
      (beyond the slack) when the phase is longer than CLOCK_MIN_PHASE_S: the calls really took that long.
    Honest overheads (warm-up, empty samples, flushes, output checks) only make the phase longer than the claims."""
    if phase_s is None:
        raise StageFailure("time", f"the timing phase at scale {sizes} was not bracketed by the child's start and "
                           "end events; the status channel was tampered with")
    limit = phase_s * PHASE_MARGIN + PHASE_SLACK_S
    events = row.get("events") or {}
    claimed = float(events.get("total_time_s") or 0.0)
    if claimed > limit:
        raise StageFailure("time", f"at scale {sizes} the timed samples add up to {claimed:.4g} s, but the whole "
                           f"timing phase took {phase_s:.4g} s on the harness's clock: the timer was tampered with")
    loop = row.get("loop_s")
    if loop is not None:
        loop = float(loop)
        if loop > limit or (phase_s > CLOCK_MIN_PHASE_S and loop * CLOCK_SLOW_FACTOR < phase_s):
            raise StageFailure("time", f"at scale {sizes} the child's clock measured its timing loop as {loop:.4g} "
                               f"s, the harness's clock {phase_s:.4g} s: the clock was tampered with")
    calls, median = row.get("calls"), events.get("median_s")
    if calls and median is not None and phase_s > CLOCK_MIN_PHASE_S:
        overhead = float(row.get("overhead_s") or 0.0)
        busy = phase_s - float(row.get("after_sample_s") or 0.0) - overhead * (calls + empty_samples)
        per_call = busy / calls
        if per_call > CLOCK_SLOW_FACTOR * float(median) + PER_CALL_SLACK_S:
            raise StageFailure("time", f"at scale {sizes} each call took about {per_call:.3g} s on the harness's "
                               f"clock beyond the timing overhead, but the timer reported a median of "
                               f"{float(median):.3g} s: the timer was tampered with or the work outlives the call")


def decode_bench_outputs(task: Task, blob: bytes, results_index: dict[str, list[int]],
                         scales: list[dict[str, int]]) -> dict[str, np.ndarray]:
    """The benchmark outputs among the child's results (protocol.bench_key), by key; any other key that claims to be
    one is a tampered protocol."""
    names = {arg.name: arg for arg in task.outputs}
    outputs = {}
    for key in results_index:
        if not protocol.is_bench_key(key):
            continue
        parsed = parse_bench_key(key)
        if parsed is None or parsed.scale >= len(scales) or parsed.name not in names:
            raise StageFailure("time", "the child returned a benchmark result under an unknown name; the "
                               "protocol was tampered with")
        arg = names[parsed.name]
        outputs[key] = protocol.result_array(blob, results_index, key, arg.dtype.numpy,
                                             arg.shape_for(scales[parsed.scale]), "time")
    return outputs


# ---------------------------------------------------------------------- scores


def peak_flops(peaks: Peaks, precision: str) -> float | None:
    """The FLOP/s roof of a task's precision class. "fp16" without tensor cores: packed half2, twice fp32."""
    if precision == "none":
        return None
    if precision == "fp16":
        return 2 * peaks.fp32 if peaks.fp32 else None
    return peaks.flops(precision)


def fp32_emulation_factor(task: Task, peaks: Peaks) -> float:
    """How much faster than the CUDA-core roof fp32 work can legitimately run: on tensor cores as 3xTF32 (fp32
    accuracy from three TF32 products, as CUTLASS does), at a third of the TF32 rate, which is half the bf16 rate.
    1.0 for other precisions or without tensor-core figures."""
    if task.roofline.precision != "fp32" or not peaks.fp32 or not peaks.bf16_tensor:
        return 1.0
    return min(1.0, peaks.fp32 / (peaks.bf16_tensor / 2 / 3))


def score_scales(task: Task, timed: list[dict[str, Any]], peaks: Peaks | None,
                 works: list[tuple[float, float] | None] | None = None) -> list[ScaleRecord]:
    """Per scale: the task's minimum work (its formulas, or `works[k]` counted on that scale's very inputs), the
    roofline bound on these peaks and bound / median."""
    scored: list[ScaleRecord] = []
    for k, entry in enumerate(timed):
        sizes = entry["sizes"]
        counted = works[k] if works and k < len(works) else None
        flops, dram = counted or task.roofline.work(sizes)
        median = entry["events"]["median_s"]
        row: ScaleRecord = {"sizes": sizes, "median_s": median, "iqr_s": entry["events"].get("iqr_s"),
               "min_s": entry["events"].get("min_s"), "n": entry["events"].get("n"),
               "converged": entry["events"].get("converged"), "flagged": entry.get("flagged"),
               "flag_reasons": entry.get("flag_reasons"), "throttle": entry.get("throttle"),
               "flops": flops, "bytes": dram, "work_from": "inputs" if counted else "formula",
               "bound_s": None, "bound_by": None, "score": None, "limit_s": None}
        if peaks is not None and median and median > 0:
            roof = peak_flops(peaks, task.roofline.precision)
            compute_s = flops / roof if roof else 0.0
            bound = max(compute_s, dram / peaks.dram_bw)
            row["bound_s"] = bound
            row["bound_by"] = "compute" if compute_s > dram / peaks.dram_bw else "memory"
            row["score"] = scoring.performance_score(bound, median)
            # What no answer can beat: a multi-pass task's bytes count a pass per step, which temporal blocking
            # legitimately avoids (a score above 1 there beats the model, not physics), so plausibility is judged on
            # the traffic no algorithm avoids when that is less.
            compulsory = min(dram, task.compulsory_bytes(sizes))
            row["limit_s"] = max(compute_s * fp32_emulation_factor(task, peaks), compulsory / peaks.dram_bw)
        scored.append(row)
    return scored


def check_plausible(task: Task, scored: list[ScaleRecord]) -> None:
    for row in scored:
        limit = row["limit_s"] or row["bound_s"]
        if row["score"] is None or limit is None:  # scored rows have both: no peaks, no score
            continue
        spread = (row["iqr_s"] or 0.0) / row["median_s"] if row["median_s"] else 0.0
        if scoring.is_suspicious(limit / row["median_s"], noise=NOISE, spread=spread):
            raise StageFailure("time", f"Performance-Score {row['score']:.2f} at scale {row['sizes']} is above the "
                               "hardware's roofline: the measurement or the answer cannot be trusted (work on "
                               "another stream, skipped work, or cached results)")
        if row.get("flagged"):
            raise StageFailure("time", f"timing at scale {row['sizes']} is inconsistent: "
                               f"{'; '.join(row.get('flag_reasons') or [])}")


def speedup(answer: list[ScaleRecord], reference: list[ScaleRecord]) -> float | None:
    """The answer's speedup over the reference: the geometric mean over the scales of the median-time ratios."""
    return geomean(r["median_s"] / a["median_s"]
                   for a, r in zip(answer, reference, strict=True) if a["median_s"] and r["median_s"])


def check_bench_outputs(task: Task, outputs: dict[str, np.ndarray], reference_outputs: dict[str, np.ndarray],
                        scale_index: int, sizes: dict[str, int], seed: int | None = None) -> None:
    """The answer's outputs at a benchmark scale must agree with the task's own solution there, on the same data:
    those of one call per input set after the timing loop, and those the child kept from randomly chosen timed
    calls (an answer that skips work or replays a remembered result in some calls fails here). A task with a
    checker (answers that are not unique) judges them itself, on the inputs of that set, rebuilt here from `seed`
    (which such a task needs)."""
    if task.check is not None and seed is None:
        raise ValueError(f"{task.id} has a checker: check_bench_outputs needs the seed to rebuild its inputs")

    def parsed(keys):
        return [b for b in map(parse_bench_key, keys) if b is not None and b.scale == scale_index]

    judged: list[tuple[str, int, int | None]] = []  # (what, input set, timed call or None: after timing)
    for r in sorted({b.input_set for b in parsed(reference_outputs) if b.call is None} | {0}):
        judged.append(("after timing" if r == 0 else f"after timing (input set {r})", r, None))
    for call, r in sorted({(b.call, b.input_set) for b in parsed(outputs) if b.call is not None}):
        judged.append((f"in timed call {call + 1} (input set {r}): an answer must do the full work in "
                       "every call, not skip it or replay a remembered result", r, call))
    cases: dict[int, inputs.Case] = {}
    for what, r, call in judged:
        got, expected = {}, {}
        for arg in task.outputs:
            got_key, expected_key = bench_key(scale_index, arg.name, r, call), bench_key(scale_index, arg.name, r)
            if got_key in outputs and expected_key in reference_outputs:
                got[arg.name] = outputs[got_key]
                expected[arg.name] = reference_outputs[expected_key]
        if not got:
            continue
        if task.check is not None and len(got) == len(task.outputs):
            assert seed is not None
            if r not in cases:
                cases[r] = inputs.bench_case(task, seed, scale_index, r)
            case = cases[r]
            problem = compare.compare_outputs(task, expected, got, {**inputs.reference_kwargs(task, case),
                                                                    **case.sizes})
        else:
            problems = [compare.compare_output(arg, expected[arg.name], got[arg.name],
                                               *arg.tolerance(task.tolerance))
                        for arg in task.outputs if arg.name in got]
            problem = "\n".join(p for p in problems if p) or None
        if problem:
            raise StageFailure("time", f"wrong result at benchmark scale {sizes} {what}:\n{problem}")


def l2_persistence_record(library: Path, timed: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the answer set an access-policy window or a persisting-L2 carve-out: the calls its library imports
    for that, and what the runtime showed after each scale's timing loop (persisting lines are reset before every
    sample regardless, so a window cannot carry data across the flush)."""
    seen = [row.get("l2_persistence") for row in timed]
    window = any((s or {}).get("access_policy_window_bytes") or (s or {}).get("persisting_limit_bytes")
                 for s in seen)
    imports = l2_persistence_imports(Path(library))
    return {"imports": imports, "scales": seen, "set_by_answer": bool(window)}


_work_cache: dict[tuple, list[tuple[float, float] | None]] = {}


def bench_works(task: Task, seed: int) -> list[tuple[float, float] | None] | None:
    """`work()` of a data-dependent task on each benchmark input, computed here, in the trusted process, on the
    inputs the child times (inputs.bench_case); None for formula-only tasks.
    Once per task and seed: the items of a task run on one worker in turn."""
    if task.work is None:
        return None
    key = (task.id, seed)
    if key not in _work_cache:
        _work_cache.clear()
        _work_cache[key] = [inputs.input_work(task, inputs.bench_case(task, seed, k))
                            for k in range(len(task.sizes.bench))]
    return _work_cache[key]


def reference_timing(task: Task, seed: int, gpu_name: str, measure) -> Any:
    """The task's own solution timed the same way, once per task, seed and GPU in this process."""
    key = (task.id, seed, gpu_name, task.solution_path.stat().st_mtime_ns)
    if key not in _reference_cache:
        _reference_cache.clear()  # one task at a time: reference outputs at 1 GB scales are large
        measured = measure()
        # The solution's own kept timed calls are never compared with anything: at 1 GB scales they are large.
        measured.bench_outputs = {k: v for k, v in measured.bench_outputs.items() if ":call" not in k}
        _reference_cache[key] = measured
    return _reference_cache[key]


def reference_library(task: Task, cache_dir: Path, arch: str) -> Path:
    return Path(compile_library(task.solution_source(), cache_dir=cache_dir, arch=arch).library)


NCU_DEFINITION = ("CUDABench: ncu counters of the kernel with the most FP32 FLOP/s, max(compute efficiency, "
                  "bandwidth utilisation), measured work, mean over the benchmark scales")


def profile_with_ncu(task: Task, run_profiled, reference_outputs: dict[str, np.ndarray],
                     seed: int | None = None) -> dict[str, Any]:
    """CUDABench's Performance-Score beside ours: each benchmark scale's call profiled under ncu.
    `run_profiled(scale_index, wrapper)` runs the child under the wrapper, calling solve once at that scale.
    A profiler that cannot measure (no ncu, no counter permission) leaves the score unmeasured with the reason; an
    answer that goes wrong under the profiler fails the stage like any other."""
    record: dict[str, Any] = {"definition": NCU_DEFINITION, "scales": [], "performance_score": None}
    tool = find_cuda_tool("ncu")
    if tool is None:
        return {**record, "status": "not-run",
                "message": "--cudabench-perf=ncu needs Nsight Compute's ncu (set CUDA_HOME or put it on PATH)"}
    for k, sizes in enumerate(task.sizes.bench):
        log_dir = Path(tempfile.mkdtemp(prefix="cudabench-ncu-"))
        log_path = log_dir / "ncu.csv"
        try:
            try:
                measured = run_profiled(k, gpu_tools.ncu_command(tool, log_path))
            except StageFailure:
                log = log_path.read_text(errors="replace") if log_path.exists() else ""
                problem = gpu_tools.ncu_failure(log)
                if problem:  # the profiler broke, not the answer
                    return {**record, "status": "failed", "message": problem}
                raise
            check_bench_outputs(task, measured.bench_outputs, reference_outputs, k, sizes, seed)
            try:
                row = gpu_tools.ncu_scale_score(log_path.read_text(errors="replace") if log_path.exists() else "")
            except ValueError as exc:
                return {**record, "status": "failed", "message": str(exc)}
            record["scales"].append({"sizes": sizes, **row})
        finally:
            shutil.rmtree(log_dir, ignore_errors=True)
    record["performance_score"] = scoring.item_performance_score([row["score"] for row in record["scales"]])
    return {**record, "status": "passed"}
