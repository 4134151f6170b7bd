"""The execute stage: run the answer on randomized cases in an isolated child process and judge the outputs.

The parent (this module) computes expected outputs with the numpy reference first, on its own copies; the child
(child.py) only runs the answer and hands back raw buffers; every verdict is decided here. Checks, each against a
known cheat (see the project's notes): fresh sentinel-filled outputs, two runs with different sentinels that must
agree, inputs unchanged after the call, several cases at ragged sizes plus a repeat of the first shape with new
values at the same addresses, guard pages and slack markers around buffers, a wall-time limit, an address-space
limit, and a seccomp filter against process, file and network access.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import protocol
from ..config import Settings
from ..errors import GpuApiError, HarnessError, StageFailure, StageSkip
from ..protocol import Event, events_of, first_event
from ..source.toolkit import find_cuda_tool
from ..tasks import compare, inputs
from ..tasks.loader import Task
from ..timing import gpu_tools
from ..timing import stage as time_stage
from ..timing.gpu_api import resolve_gpu_api
from ..timing.gpus import detect_cuda_devices, throttled
from ..timing.policy import DEFAULT_POLICY, MeasurementPolicy
from . import landlock, sandbox
from .supervisor import (
    CHILD_ADDRESS_SPACE,
    CPU_MEMORY_CAP,
    ORDER_NAMES,
    ORDER_RUNS,
    RACE_FIX,
    SIGNAL_HINTS,
    THREAD_ORDERS,
    build_for_runtime,
    child_environment,
    describe_signal,
    host_access_fault,
    signal_name,
    source_lines,
    supervise,
)

SENTINELS = (0xFF, 0x7B)  # 0xFF..: NaN / -1; 0x7B..: a plausible-looking large number
ORDER_RUN_BYTES = 1 << 20  # the thread-order call is made on the cases up to this size (races show at small sizes)
STDERR_TAIL = 2000
SANITIZER_LOG = "sanitizer.log"


@dataclass
class ExecutionResult:
    runtime: str
    cases: list[dict[str, Any]]
    duration_s: float
    sandbox: str
    timed: list[dict[str, Any]] = field(default_factory=list)  # per benchmark scale: sizes and timing summary
    bench_outputs: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"runtime": self.runtime, "cases": self.cases, "duration_s": round(self.duration_s, 4),
                "sandbox": self.sandbox}


def gpu_usable(gpu_api: str = "auto") -> bool:
    """A CUDA device is visible and the GPU API the harness would use is installed (see gpu_unusable_reason)."""
    return gpu_unusable_reason(gpu_api) is None


def gpu_unusable_reason(gpu_api: str = "auto") -> str | None:
    """Why the GPU runtime cannot run here (no device, or the GPU API missing, with what to install), or None."""
    if detect_cuda_devices() <= 0:
        return "no usable CUDA device"
    try:
        resolve_gpu_api(gpu_api)
    except GpuApiError as exc:
        return str(exc)
    return None


def choose_runtime(requested: str, gpu_api: str = "auto") -> str:
    if requested == "cpu":
        return "cpu"
    if requested == "gpu":
        reason = gpu_unusable_reason(gpu_api)
        if reason:
            raise StageSkip("execute", f"--cudabench-runtime=gpu, but {reason}")
        return "gpu"
    return "gpu" if gpu_usable(gpu_api) else "cpu"


def run_cases(task: Task, library: Path, runtime: str, cases: list[inputs.Case], *, timeout_s: float,
              sanitize: bool = False, workers: int | None = None, timing: dict[str, Any] | None = None,
              stage: str = "execute", wrapper: list[str] | None = None,
              monitor: Callable[[], dict | None] | None = None, gpu_api: str = "auto",
              knockout: bool = False) -> ExecutionResult:
    """Runs every case in one child and judges the results. Raises StageFailure(stage) on the first problem.
    With `timing` ({"seed"}, optionally "policy" (a MeasurementPolicy, default DEFAULT_POLICY) and "profile_scale";
    GPU runtime, or the CPU runtime under the host timer) the child then times the answer at every benchmark scale
    (or calls it once at the profiled scale). `wrapper` is a tool the child runs under (ncu). `gpu_api`: the GPU
    API of the GPU runtime's child (config.GPU_APIS). `knockout` (CPU runtime): one call per case with every kernel
    launch a no-op (knockout.py)."""
    start = time.perf_counter()
    job_dir = Path(tempfile.mkdtemp(prefix="cudabench-run-"))
    if sanitize and runtime == "gpu":
        tool = find_cuda_tool("compute-sanitizer")
        if tool is None:
            raise StageSkip(stage, "--cudabench-sanitize on the GPU needs compute-sanitizer from the CUDA toolkit "
                                   "(set CUDA_HOME or put it on PATH)")
        wrapper = gpu_tools.sanitizer_command(tool, job_dir / SANITIZER_LOG)
    # Injected tools (sanitizers, profilers) talk to their front end: no syscall filter under them.
    use_seccomp = sandbox.seccomp_available() and not sanitize and wrapper is None
    gpu_sandbox = use_seccomp and runtime == "gpu"
    confinement = sandbox.choose(runtime, use_seccomp, landlock.abi_version() if gpu_sandbox else 0,
                                 landlock.gpu_device_paths() if gpu_sandbox else [])
    try:
        extra: dict[str, Any] = {"sanitize": sanitize, "knockout": knockout}
        if runtime == "gpu":
            extra["gpu_api"] = resolve_gpu_api(gpu_api)
        policy = _timing_policy(timing)
        if timing is not None:
            extra["timing"] = {"task_path": str(task.path.resolve()),
                               "suite_root": str(task.path.resolve().parents[1]),
                               "seed": timing["seed"], "policy": policy.to_dict(),
                               "profile_scale": timing.get("profile_scale"),
                               "scales": [task.sizes.complete(s) for s in task.sizes.bench],
                               # which timed calls get checked: secret per run, drawn here
                               "check_seed": secrets.randbits(63)}
        job = _write_job(task, library, runtime, cases, job_dir, confinement, workers, extra)
        # GPU state is read here, around the timing child: NVML opens device files, which the sandboxed child may not.
        watch = monitor if timing is not None else None
        before = watch() if watch else None
        events, returncode, stderr_tail, timed_out = _run_child(job_dir, runtime, timeout_s, sanitize, wrapper)
        after = watch() if watch else None
        if not timed_out and first_event(events, Event.STARTED) is None:
            if first_event(events, Event.LOADING) is not None and first_event(events, Event.LOADED) is None:
                raise StageFailure(stage, _load_failure_message(events, returncode, stderr_tail))
            raise HarnessError(_setup_failure_message(runtime, events) or _not_started_message(returncode, stderr_tail))
        ready = first_event(events, Event.READY)
        verdicts = _judge(task, cases, job, job_dir, events, returncode, stderr_tail, timed_out, timeout_s, stage)
        timed = [{"sizes": e["sizes"], **e["timing"]} for e in events_of(events, Event.TIMED)]
        throttle = throttled(before, after) if watch else None
        for row in timed if throttle else ():  # the machine's state, recorded with the numbers; not the answer's fault
            row["throttle"] = throttle
        if timing is not None and timing.get("profile_scale") is None:
            for k, row in enumerate(timed):
                time_stage.check_timing_phase(row, time_stage.timing_phase_s(events, k), row["sizes"],
                                              policy.empty_samples)
        bench_outputs = {}
        if timing is not None:
            finished = first_event(events, Event.FINISHED)
            assert finished is not None  # _judge failed the item otherwise
            bench_outputs = time_stage.decode_bench_outputs(task, (job_dir / protocol.RESULTS_FILE).read_bytes(),
                                                            finished["results_index"], job["timing"]["scales"])
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    sandbox_note = str(ready.get("sandbox") or confinement.describe()) if ready else confinement.describe()
    return ExecutionResult(runtime=runtime, cases=verdicts, duration_s=time.perf_counter() - start,
                           sandbox=sandbox_note, timed=timed, bench_outputs=bench_outputs)


def run_timing(task: Task, build: time_stage.Build, runtime: str, settings: Settings, *, policy: MeasurementPolicy,
               timeout_s: float, monitor: Callable[[], dict | None] | None = None, profile_scale: int | None = None,
               wrapper: list[str] | None = None) -> ExecutionResult:
    """The time stage's one entry here (timing.stage.RunTiming): `build` as `runtime` loads it (the CPU runtime's
    build is made now when `build` has none) timed in one child at every benchmark scale, or called once at
    `profile_scale` under `wrapper` (ncu). Its failures are the time stage's."""
    library = build.runtime_library or build_for_runtime(runtime, build.source, build.library, settings.cache_path,
                                                         False)
    return run_cases(task, library, runtime, [], timeout_s=timeout_s, stage="time", wrapper=wrapper, monitor=monitor,
                     gpu_api=settings.gpu_api,
                     timing={"seed": settings.seed, "policy": policy, "profile_scale": profile_scale})


def case_runs(runtime: str, case: inputs.Case, order_position: int | None) -> list[tuple[int, str, bool]]:
    """The calls made on one case, as (output sentinel, thread order, racecheck): two sentinels in thread order,
    and on the CPU runtime, for the `order_position`-th case that gets one, a third call in another thread order with
    shared-memory race detection (cuda_shim.h). A benchmark scale or a size probe judged on the CPU runtime gets
    one call."""
    if case.scale is not None or case.probe:
        return [(SENTINELS[0], "forward", False)]
    runs = [(sentinel, "forward", False) for sentinel in SENTINELS]
    if runtime == "cpu" and order_position is not None:
        runs.append((SENTINELS[0], ORDER_RUNS[order_position % len(ORDER_RUNS)], True))
    return runs


def order_positions(cases: list[inputs.Case]) -> list[int | None]:
    """Which correctness cases get the thread-order call, numbered in turn: those up to ORDER_RUN_BYTES, or the
    smallest one if none is that small."""
    sizes = [None if c.scale is not None or c.probe else sum(a.nbytes for a in c.arrays.values()) for c in cases]
    chosen = [s is not None and s <= ORDER_RUN_BYTES for s in sizes]
    if not any(chosen) and any(s is not None for s in sizes):
        chosen[min((s, k) for k, s in enumerate(sizes) if s is not None)[1]] = True
    positions, n = [], 0
    for take in chosen:
        positions.append(n if take else None)
        n += take
    return positions


def _write_job(task: Task, library: Path, runtime: str, cases: list[inputs.Case], job_dir: Path,
               confinement: sandbox.Confinement, workers: int | None, extra: dict[str, Any]) -> protocol.Job:
    index: dict[str, list[int]] = {}
    offset = 0
    job_cases: list[protocol.JobCase] = []
    with open(job_dir / protocol.INPUTS_FILE, "wb") as blob:
        for case in cases:
            for arg in task.inputs:
                data = np.ascontiguousarray(case.arrays[arg.name]).tobytes()
                blob.write(data)
                index[protocol.input_key(case.index, arg.name)] = [offset, len(data)]
                offset += len(data)
    for position, case in zip(order_positions(cases), cases, strict=True):
        job_cases.append({
            "index": case.index,
            "runs": [[sentinel, THREAD_ORDERS[order], case.index, racecheck] for sentinel, order, racecheck in
                     case_runs(runtime, case, position)[:1 if extra.get("knockout") else None]],
            "size_key": json.dumps(case.sizes, sort_keys=True),
            "scalars": {a.name: (float(case.scalars[a.name]) if a.dtype.is_float else int(case.scalars[a.name]))
                        for a in task.scalars},
            "shapes": {a.name: list(case.arrays[a.name].shape) for a in task.args if a.is_pointer},
        })
    job: protocol.Job = {
        "library": str(Path(library).resolve()), "runtime": runtime, "seccomp": confinement.seccomp,
        "landlock_devices": None if confinement.landlock_devices is None else list(confinement.landlock_devices),
        "workers": workers or max(1, min(4, os.cpu_count() or 1)), "memory_cap": CPU_MEMORY_CAP,
        "sentinels": list(SENTINELS),
        "args": [{"name": a.name, "role": a.role, "dtype": a.dtype.name, "itemsize": a.dtype.itemsize}
                 for a in task.args],
        "cases": job_cases, "inputs_index": index, **extra,  # type: ignore[typeddict-item]  # sanitize, timing
    }
    (job_dir / protocol.JOB_FILE).write_text(json.dumps(job))
    return job


def asan_runtime() -> str | None:
    """The AddressSanitizer runtime, which must be loaded before anything else in the child (LD_PRELOAD)."""
    compiler = shutil.which("g++")
    if compiler is None:
        return None
    found = subprocess.run([compiler, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    return found if os.path.isabs(found) and os.path.exists(found) else None


def _run_child(job_dir: Path, runtime: str, timeout_s: float, sanitize: bool = False,
               wrapper: list[str] | None = None) -> tuple[list[dict], int | None, str, bool]:
    stderr_path = job_dir / protocol.CHILD_LOG
    env = child_environment(job_dir)
    address_space = CHILD_ADDRESS_SPACE if runtime == "cpu" else None  # the CUDA driver maps huge ranges
    if sanitize and runtime == "cpu":
        libasan = asan_runtime()
        if libasan is None:
            raise StageSkip("execute", "--cudabench-sanitize needs g++'s AddressSanitizer runtime (libasan)")
        env["LD_PRELOAD"] = libasan
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0:exitcode=86"
        address_space = None  # ASan reserves terabytes of shadow memory
    events, returncode, timed_out = supervise(
        lambda status: [*(wrapper or []), sys.executable, "-m", "pytest_cudabench.execution.child", str(job_dir),
                        status, str(address_space or 0), str(int(timeout_s) + 30)],
        cwd=job_dir, env=env, log_path=stderr_path, timeout_s=timeout_s)
    tail = stderr_path.read_bytes()[-STDERR_TAIL:].decode(errors="replace")
    return events, returncode, tail, timed_out


def _setup_failure_message(runtime: str, events: list[dict]) -> str | None:
    """What the child said when its set-up raised (before STARTED): the runtime, the GPU context, the answer's
    library or the timing machinery; None when it said nothing."""
    raised = first_event(events, Event.EXCEPTION)
    if raised is None:
        return None
    trace = str(raised.get("traceback") or "").rstrip()
    return (f"the child could not set up the {runtime} runtime before calling the answer: {raised.get('error')}: "
            f"{raised.get('message')}" + (f"\n{trace}" if trace else ""))


def _load_failure_message(events: list[dict], returncode: int | None, output: str) -> str:
    """The child ended while it loaded the answer's library (after Event.LOADING, before STARTED): the library
    does not load (an undefined symbol, a missing dependency) or one of its initialisers failed."""
    raised = first_event(events, Event.EXCEPTION)
    if raised is not None:
        cause = f"{raised.get('error')}: {raised.get('message')}"
    elif returncode is not None and returncode < 0:
        cause = f"{describe_signal(-returncode)} in a static initialiser"
    else:
        lines = [line for line in output.strip().splitlines() if line.strip()][-3:]
        cause = f"exit code {returncode}" + (": " + " / ".join(lines) if lines else "")
    return f"the answer's library could not be loaded: {cause}"


def _not_started_message(returncode: int | None, output: str) -> str:
    """The child ended during its set-up, before it could call the answer, without saying why (Event.EXCEPTION):
    this interpreter or its environment is broken, not the answer."""
    lines = [line for line in output.strip().splitlines() if line.strip()][-4:]
    said = ("; its output ends:\n  " + "\n  ".join(lines)) if lines else " without output"
    return (f"the child interpreter ({sys.executable} -m pytest_cudabench.execution.child) ended with exit code "
            f"{returncode} before it was ready to call the answer{said}\nCheck that this Python starts and imports "
            "pytest_cudabench with the allowlisted environment (PYTHONPATH, PYTHONHOME, LD_LIBRARY_PATH).")


def _timing_policy(timing: dict[str, Any] | None) -> MeasurementPolicy:
    if timing and {"cap_s", "clock", "input_sets"} & timing.keys():
        raise ValueError("run_cases(timing=...): cap_s, clock and input_sets are fields of timing['policy'] now, "
                         "e.g. MeasurementPolicy(cap_s=0.05, timer='host')")
    return (timing or {}).get("policy") or DEFAULT_POLICY


def _case_label(cases: list[inputs.Case], index: int | None) -> str:
    if index is None:
        return "before the first call"
    case = next((c for c in cases if c.index == index), None)
    return f"case {index} ({case.describe()})" if case else f"case {index}"


def judge_exception(cases: list[inputs.Case], events: list[dict], stderr_tail: str = "", stage: str = "execute") -> None:
    """An exception the child reported once it had started (Event.EXCEPTION): a CUDA error fails the answer (the
    harness's own CUDA call found the context broken by it, e.g. an illegal address at a large scale); anything
    else is the harness's error. Nothing to judge without one."""
    raised = first_event(events, Event.EXCEPTION)
    if raised is None:
        return
    running = _running_label(cases, events)
    if raised.get("cuda"):
        raise StageFailure(stage, f"CUDA error in {running}: {raised.get('message')}", stderr_tail)
    raise HarnessError(f"the child failed with {raised.get('error')}: {raised.get('message')} ({running}; an "
                       "error of the harness, not of the answer)")


def _running_label(cases: list[inputs.Case], events: list[dict]) -> str:
    """What the child was doing at its last call or benchmark-scale event."""
    last = next((e for e in reversed(events) if e.get("event") in (Event.CALL, Event.TIME)), None)
    if last is not None and last.get("event") == Event.TIME:
        return f"benchmark scale {last.get('scale')}"
    return _case_label(cases, last["case"] if last else None)


def _judge(task: Task, cases: list[inputs.Case], job: protocol.Job, job_dir: Path, events: list[dict],
           returncode: int | None, stderr_tail: str, timed_out: bool, timeout_s: float, stage: str) -> list[dict[str, Any]]:
    last_call = next((e for e in reversed(events) if e.get("event") == Event.CALL), None)
    where = _case_label(cases, last_call["case"] if last_call else None)
    tail = f"\n--- child output (tail) ---\n{stderr_tail}" if stderr_tail.strip() else ""
    if timed_out:
        finished_calls = [e for e in events if e.get("event") == "done-call"]
        if job["runtime"] == "cpu" and finished_calls:
            # Calls finished, then a larger one ran out of time: the CPU runtime is ~1000x slower than a GPU, and a
            # correct quadratic answer gets here. Not a wrong answer; an answer stuck from its first call still is.
            slowest = max(float(e.get("seconds") or 0.0) for e in finished_calls)
            raise StageSkip("execute", f"too slow for the CPU runtime: {len(finished_calls)} call(s) finished (the "
                            f"slowest in {slowest:.3g} s), then {where} did not finish within the {timeout_s:g} s "
                            "limit; judge it on a GPU (or raise --cudabench-timeout)")
        raise StageFailure(stage, f"did not finish within {timeout_s:g} s in {where} "
                           "(an endless loop, a deadlock, or far too slow)", stderr_tail)
    sanitizer_log = job_dir / SANITIZER_LOG
    log = sanitizer_log.read_text(errors="replace") if sanitizer_log.exists() else ""
    findings = gpu_tools.sanitizer_findings(log)
    if findings:
        raise StageFailure(stage, f"{findings} (in {where})", log[-4000:])
    error = first_event(events, Event.ERROR)
    if error and str(error["message"]).startswith("shared-memory race"):
        message = re.sub(r" \(cudaError\w+\)$", "", error["message"])
        raise StageFailure(stage, f"{source_lines(message, job['library'])} "
                           f"(in {_case_label(cases, error['case'])})")
    if error:
        raise StageFailure(stage, f"CUDA error in {_case_label(cases, error['case'])}: {error['message']}",
                           stderr_tail)
    judge_exception(cases, events, stderr_tail, stage)
    finished_event = first_event(events, Event.FINISHED)
    if returncode is not None and returncode < 0:
        host_access = host_access_fault(stderr_tail)
        if host_access:
            raise StageFailure(stage, f"the answer crashed with SIGSEGV in {where}: {host_access}", stderr_tail)
        raise StageFailure(stage, f"the answer crashed with {signal_name(-returncode)} in {where}"
                           + (f" ({SIGNAL_HINTS[-returncode]})" if -returncode in SIGNAL_HINTS else ""), stderr_tail)
    if "ERROR: AddressSanitizer" in stderr_tail:
        summary = next((line for line in stderr_tail.splitlines() if line.startswith("SUMMARY: AddressSanitizer")),
                       stderr_tail[stderr_tail.index("ERROR: AddressSanitizer"):].splitlines()[0])
        raise StageFailure(stage, f"AddressSanitizer in {where}: {summary}", stderr_tail)
    if finished_event is None:
        raise StageFailure(stage, f"the process ended (exit code {returncode}) in {where} before reporting "
                           "results; an answer must return from solve, not end the process" + tail, stderr_tail)
    blob = (job_dir / protocol.RESULTS_FILE).read_bytes()
    results = {}
    runs_of = {c["index"]: c["runs"] for c in job["cases"]}
    for case in cases:
        for arg in task.args:
            if arg.is_pointer:
                for run in range(len(runs_of[case.index])):
                    key = protocol.result_key(case.index, run, arg.name)
                    results[key] = protocol.result_array(blob, finished_event["results_index"], key, arg.dtype.numpy,
                                                         case.arrays[arg.name].shape, stage)
    done = {(e["case"], e["run"]): e for e in events_of(events, Event.DONE_CALL)}
    verdicts = []
    for case in cases:
        label = _case_label(cases, case.index)
        runs = runs_of[case.index]
        for run in range(len(runs)):
            overruns = done[(case.index, run)].get("overruns") or []
            if overruns:
                raise StageFailure(stage, f"{label}: wrote past the end of {', '.join(overruns)} "
                                   "(out-of-bounds write)")
            for arg in task.inputs:
                if arg.role != "input":
                    continue
                after = results[protocol.result_key(case.index, run, arg.name)]
                if not np.array_equal(after.view(np.uint8), case.arrays[arg.name].view(np.uint8)):
                    changed = int((after != case.arrays[arg.name]).sum())
                    raise StageFailure(stage, f"{label}: solve modified the input `{arg.name}` "
                                       f"({changed} element(s) changed); inputs are read-only")
        got = {a.name: results[f"{case.index}:0:{a.name}"] for a in task.outputs}
        context = {**inputs.reference_kwargs(task, case), **case.sizes}
        problem = compare.compare_outputs(task, case.expected, got, context)
        if problem:
            unwritten = _unwritten(task, got, SENTINELS[0])
            raise StageFailure(stage, f"wrong result in {label}:\n{problem}{unwritten}")
        for run in range(1, len(runs)):
            got_again = {a.name: results[protocol.result_key(case.index, run, a.name)] for a in task.outputs}
            differs = [a.name for a in task.outputs
                       if not np.array_equal(got[a.name].view(np.uint8), got_again[a.name].view(np.uint8))]
            if not differs:
                continue
            problem = compare.compare_outputs(task, case.expected, got_again, context)
            if not problem:
                continue
            order = next(name for name, code in THREAD_ORDERS.items() if code == runs[run][1])
            if order == "forward":
                raise StageFailure(stage, f"{label}: `{differs[0]}` differs between two calls whose output "
                                   "buffers started with different contents: the answer reads output memory it "
                                   "did not write, or races")
            raise StageFailure(stage, f"{label}: the result depends on thread order: correct with each block's "
                               f"threads run in thread order between barriers, wrong when run {ORDER_NAMES[order]}:"
                               f"\n{problem}\n{RACE_FIX}")
        seconds = [done[(case.index, r)].get("seconds") for r in range(len(runs))]
        used = compare.tolerance_used(task, case.expected, got)
        verdicts.append({"index": case.index, "sizes": case.sizes, "passed": True,
                         "seconds": [round(s, 6) for s in seconds if s is not None],
                         "tolerance_used": None if used is None else round(used, 4)})
    return verdicts


def _unwritten(task: Task, got: dict[str, np.ndarray], sentinel: int) -> str:
    notes = []
    for arg in task.outputs:
        raw = got[arg.name].view(np.uint8).reshape(-1, got[arg.name].itemsize)
        untouched = int((raw == sentinel).all(axis=1).sum())
        if untouched:
            notes.append(f"\n{untouched} element(s) of `{arg.name}` were never written (still hold the sentinel)")
    return "".join(notes)
