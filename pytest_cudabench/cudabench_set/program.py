"""Building and running an answer program of CUDABench-Set.

Build: on the GPU, nvcc into a shared library with the program's main renamed (`-Dmain=cudabench_user_main`); on
the CPU runtime, g++ against the shim (build_cpu_program, as a library exporting cudabench_program_main). Either
way the program is called, not exec'd, by a sandboxed Python child (program_child.py) whose cwd is a scratch
directory holding data/ with copies of the inputs only (never the reference outputs).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import HarnessError, StageFailure, StageSkip
from ..execution import supervisor
from ..execution.cpu_runtime import CpuBuildError, CpuRuntimeUnsupported
from ..execution.cpu_runtime.build import build_cpu_program
from ..execution.cpu_runtime.progress import last_progress, progress_window_s
from ..execution.cpu_runtime.rewrite import defines_main
from ..execution.landlock import gpu_device_paths
from ..protocol import ProgramEvent, ProgramJob, events_of, first_event
from ..source import lexer, static_check
from ..source.compiler import compile_library
from ..source.extract import CODE_LANGUAGES, code_blocks
from .rows import Row

CPU_MAX_IO_BYTES = 128 << 20  # rows moving more than this skip on the CPU runtime
PROGRAM_TIMEOUT_S = {"gpu": 60.0, "cpu": 120.0}  # CUDABench's limit is 60 s on a GPU; the CPU runtime is slower
STDOUT_TAIL = 3000
GPU_MAIN = "cudabench_user_main"
# What a GPU program's runtime must read besides its scratch dir: libraries it loads late, the driver's devices
# (which it also opens read-write and drives by ioctl: landlock_paths).
GPU_READ_ONLY = ["/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev", "/opt", "/run/nvidia-persistenced"]
CPU_READ_ONLY = ["/sys/devices/system/cpu", "/proc/self"]  # CPU counts (sysconf) for the shim's workers


@dataclass
class ProgramRun:
    returncode: int | None
    timed_out: bool
    seconds: float
    output: str  # the tail of the program's stdout and stderr
    landlock_abi: int | None
    seccomp: bool
    runtime_error: str | None  # a fault the CPU runtime caught inside a kernel (racecheck's with source lines)
    thread_order: str = "forward"  # a block's threads between barriers (CPU runtime; supervisor.THREAD_ORDERS)
    racecheck: bool | None = None  # shared-memory race detection was on; None: not the CPU runtime
    harness_error: str | None = None  # the child itself raised (protocol.exception_event): nobody's answer
    work: int | None = None  # the CPU runtime's work counter at its last sample (progress.py); None: no sample
    progress_age_s: float | None = None  # seconds from the counter's last increase to the end of the run
    knockout: bool = False  # every kernel launch was a no-op (the knockout run)

    def to_dict(self) -> dict:
        return {"returncode": self.returncode, "timed_out": self.timed_out, "seconds": round(self.seconds, 3),
                "output": self.output, "landlock_abi": self.landlock_abi, "seccomp": self.seccomp,
                "runtime_error": self.runtime_error, "thread_order": self.thread_order, "racecheck": self.racecheck,
                "work": self.work, "progress_age_s": None if self.progress_age_s is None
                else round(self.progress_age_s, 3), "knockout": self.knockout}


def check_includes(source: str) -> None:
    """Only standard and CUDA headers by name: a path in an #include would read a file at compile time."""
    for name in lexer.includes(source):
        if not static_check.header_allowed(name):
            raise StageFailure("static-check", f"#include {name!r} is not a standard C/C++ or CUDA header; a "
                               "program includes only those, by name")


def build(source: str, runtime: str, cache_dir: Path, arch: str) -> tuple[Path, str, dict]:
    """(library, entry symbol, record) for `runtime`. Raises StageFailure('compile'), StageSkip on the CPU runtime
    for a feature it cannot run."""
    if runtime == "gpu":
        result = compile_library(source, cache_dir=cache_dir, arch=arch, extra_flags=(f"-Dmain={GPU_MAIN}",))
        library = Path(result.library)
        entry = next((s for s in static_check.defined_symbols(library) if GPU_MAIN in s), None)
        if entry is None:
            raise StageFailure("compile", "the program defines no main(): a CUDABench program must be complete")
        return library, entry, {"cached": result.cached, "log": result.log, "command": " ".join(result.command[1:])}

    try:
        target, cached = supervisor.cached_cpu_build(
            cache_dir / "cpu-program", [source, "program", arch], "libprogram_cpu.so",
            lambda out: build_cpu_program(source, out, as_library=True, arch=arch))
    except CpuRuntimeUnsupported as exc:
        raise StageSkip("compile", str(exc)) from None
    except CpuBuildError as exc:
        raise StageFailure("compile", f"the CPU runtime could not build this program: {exc}",
                           getattr(exc, "log", "")) from None
    return target, "cudabench_program_main", {"cached": cached, "command": "g++ against the CPU runtime (cuda_shim.h)"}


def check_fits(row: Row, runtime: str) -> None:
    if runtime == "cpu" and row.io_bytes > CPU_MAX_IO_BYTES:
        raise StageSkip("execute", f"the row moves {row.io_bytes / 2**20:.0f} MiB of inputs and outputs; the CPU "
                        f"runtime runs rows up to {CPU_MAX_IO_BYTES >> 20} MiB (run it on a GPU)")


def scratch_with_inputs(row: Row, data_dir: Path, parent: Path | None = None) -> Path:
    """A fresh directory holding data/ with copies of the row's inputs (copies: the program may write there)."""
    scratch = Path(tempfile.mkdtemp(prefix="cudabench-set-", dir=parent))
    (scratch / "data").mkdir()
    for t in row.inputs:
        shutil.copyfile(data_dir / "data" / f"{t.name}.bin", scratch / "data" / f"{t.name}.bin")
    return scratch


def landlock_paths(runtime: str, dev: str = "/dev") -> tuple[list[str], list[str]]:
    """(paths it may read, device nodes it may open read-write and drive by ioctl) of a program's Landlock domain
    besides its scratch directory: on the GPU runtime libcuda opens /dev/nvidiactl, /dev/nvidiaN and
    /dev/nvidia-uvm read-write and works through ioctls on them (which Landlock ABI 5+ confines too)."""
    if runtime == "gpu":
        return GPU_READ_ONLY, gpu_device_paths(dev)
    return CPU_READ_ONLY, []


def run(library: Path, entry: str, scratch: Path, runtime: str, timeout_s: float, max_file_bytes: int = 4 << 30,
        thread_order: str = "forward", order_seed: int = 0, racecheck: bool = False,
        wrapper: list[str] | None = None, landlock: bool = True, knockout: bool = False) -> ProgramRun:
    """Runs the program in the sandboxed child with cwd = scratch; never raises for what the program does.
    `max_file_bytes` bounds every file it writes, its log included (past it, SIGXFSZ ends it). On the CPU runtime a
    block's threads run in `thread_order` (one of supervisor.THREAD_ORDERS; `order_seed` seeds the shuffle) and
    `racecheck` turns on shared-memory race detection; the GPU ignores both. Under a `wrapper` (ncu) the child runs
    without its seccomp filter, which the profiler's injected library cannot live with; the program has passed the
    execute stage in the full sandbox by then, and `landlock=False` is the profiler's fallback where it cannot run
    confined. An exception of the child itself (not the program's doing) comes back as `harness_error`. `knockout`
    (CPU runtime): every kernel launch is a no-op (the knockout run)."""
    read_only, devices = landlock_paths(runtime)
    job: ProgramJob = {
        "library": str(library), "entry": entry, "scratch": str(scratch), "runtime": runtime,
        "thread_order": supervisor.THREAD_ORDERS[thread_order], "order_seed": order_seed, "racecheck": racecheck,
        "knockout": knockout, "seccomp": wrapper is None, "landlock": landlock, "read_only": read_only,
        "devices": devices, "address_space": supervisor.CHILD_ADDRESS_SPACE if runtime == "cpu" else 0,
        "cpu_seconds": int(timeout_s * 4) + 30,  # threads of the CPU runtime add up CPU time
        "workers": max(1, min(4, os.cpu_count() or 1)), "memory_cap": supervisor.CPU_MEMORY_CAP,
        "max_file_bytes": max_file_bytes}
    log_path = scratch.parent / f"{scratch.name}.log"  # outside the scratch dir: the program cannot rewrite it
    start = time.perf_counter()
    events, returncode, timed_out = supervisor.supervise(
        lambda status: [*(wrapper or []), sys.executable, "-m", "pytest_cudabench.cudabench_set.program_child",
                        json.dumps(job), status],
        cwd=scratch, env=supervisor.child_environment(scratch), log_path=log_path, timeout_s=timeout_s)
    seconds = time.perf_counter() - start
    work, progress_age = last_progress(events, time.time())
    landlock_abi = next((e.get("abi") for e in events_of(events, ProgramEvent.LANDLOCK)), None)
    returned = first_event(events, ProgramEvent.RETURNED) or {}
    ready = first_event(events, ProgramEvent.READY) or {}
    error = returned.get("error")
    raised = first_event(events, ProgramEvent.EXCEPTION)
    output = log_path.read_bytes()[-STDOUT_TAIL:].decode(errors="replace")
    log_path.unlink(missing_ok=True)
    return ProgramRun(returncode=returncode, timed_out=timed_out, seconds=seconds, output=output,
                      landlock_abi=landlock_abi, seccomp=first_event(events, ProgramEvent.SECCOMP) is not None,
                      runtime_error=supervisor.source_lines(error, str(library)) if error else None,
                      thread_order=thread_order, racecheck=ready.get("racecheck"),
                      harness_error=_harness_error(raised, ready), work=work, progress_age_s=progress_age,
                      knockout=knockout)


def _harness_error(raised: dict | None, ready: dict) -> str | None:
    """The child's own exception, as a harness error's message (the program's faults end it otherwise)."""
    if raised is None:
        return None
    when = "while running the program" if ready else "while setting up the program's run"
    trace = str(raised.get("traceback") or "").rstrip()
    return f"the program's child failed {when}: {raised.get('error')}: {raised.get('message')}" + \
        (f"\n{trace}" if trace else "")


def verdict(result: ProgramRun, timeout_s: float, runtime: str = "gpu") -> None:
    """CUDABench's execution rule: exit code 0 within the limit. Raises StageFailure('execute') otherwise, or
    HarnessError when the child itself failed, or StageSkip('execute') for a program the CPU runtime's slowness
    stopped while its kernels still worked (check_progress)."""
    if result.harness_error:
        raise HarnessError(result.harness_error)
    tail = result.output.strip()[-1500:]
    if result.timed_out:
        check_progress(result, timeout_s, runtime, tail)
        raise StageFailure("execute", f"the program ran past the {timeout_s:.0f} s limit and was killed", tail)
    if result.runtime_error:
        raise StageFailure("execute", f"the CPU runtime caught a fault in a kernel: {result.runtime_error}", tail)
    if result.returncode is not None and result.returncode < 0:
        host_access = supervisor.host_access_fault(result.output)
        if host_access:
            raise StageFailure("execute", f"the program was killed by SIGSEGV: {host_access}", tail)
        raise StageFailure("execute", f"the program was killed by signal {supervisor.describe_signal(-result.returncode)}",
                           tail)
    if result.returncode != 0:
        last = re.sub(r"\s+", " ", tail.splitlines()[-1])[:300] if tail else "no output"
        raise StageFailure("execute", f"the program exited with code {result.returncode} (last output: {last})", tail)


def check_progress(result: ProgramRun, timeout_s: float, runtime: str, tail: str) -> None:
    """A program killed at the limit on the CPU runtime (progress.py): skipped as too slow for the runtime while its
    kernels were still working, as the kernel pipeline skips an answer whose calls finished; failed as a hang
    otherwise (host code only runs as fast there as on a GPU's machine)."""
    if runtime != "cpu":
        return
    window = progress_window_s(timeout_s)
    if result.progress_age_s is not None and result.progress_age_s <= window:
        raise StageSkip("execute", f"too slow for the CPU runtime: the program's kernels were still working at the "
                        f"{timeout_s:.0f} s limit ({result.work} threads finished or barriers passed, the last "
                        f"{result.progress_age_s:.1f} s before the end); judge it on a GPU (or raise "
                        "--cudabench-timeout)")
    since = ("no kernel work at all" if result.work is None else
             f"no kernel work in its last {result.progress_age_s:.1f} s")
    raise StageFailure("execute", f"the program ran past the {timeout_s:.0f} s limit of the CPU runtime and was "
                       f"killed: {since} (a hang: host code spinning, or threads waiting for what never comes)", tail)


def output_bytes(row: Row, scratch: Path) -> dict[str, bytes]:
    """The declared outputs the program wrote into scratch/data, by name."""
    return {t.name: (scratch / "data" / f"{t.name}.bin").read_bytes() for t in row.outputs
            if (scratch / "data" / f"{t.name}.bin").is_file()}


def extract_program(answer: str) -> str:
    """The code block holding main() (the last one if several do). Raises StageFailure('extract')."""
    if not answer.strip():
        raise StageFailure("extract", "the answer is empty")
    candidates = [b for b in code_blocks(answer) if b.language in CODE_LANGUAGES]
    if not candidates:
        raise StageFailure("extract", "the answer contains no fenced C/C++/CUDA code block (```cuda ... ```)",
                           answer[:1500])
    with_main = [b for b in candidates if defines_main(b.code)]
    if not with_main:
        raise StageFailure("extract", f"none of the {len(candidates)} code block(s) defines main(): a CUDABench "
                           "answer is a complete program", candidates[-1].code[:1500])
    return with_main[-1].code


def file_limit(row: Row) -> int:
    """The largest file a row's program may write: twice what its spec moves, plus room for its messages."""
    return 2 * row.io_bytes + (64 << 20)
