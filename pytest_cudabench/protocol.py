"""What crosses between the parent (execution/runner.py) and the sandboxed child (execution/child.py), and between
CUDABench-Set's program runner (cudabench_set/program.py) and its child (program_child.py): `ProgramJob`, `ProgramEvent`.

Files in the job directory: JOB_FILE (the job, JSON: `Job`), INPUTS_FILE (every input array of every case, raw
bytes at the offsets of `Job.inputs_index`), RESULTS_FILE (written by the child: raw bytes at the offsets of the
`finished` event's `results_index`), CHILD_LOG (the child's stderr). Events: one JSON object per line on the
status channel, `{"event": <Event>, ...}`, a socket whose messages the kernel stamps when sent (`received_s`,
supervisor.status_listener; never the child's clock). The child connects to it by path (`open_status`), so a tool
wrapping the child (ncu, compute-sanitizer) that closes inherited descriptors cannot cut it. Everything is
builtins: the child is another interpreter, and an answer running inside it may write anything to the channel, so
the parent checks every key it reads back (`parse_bench_key`).
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NotRequired, TextIO, TypedDict

from .errors import StageFailure

if TYPE_CHECKING:
    import numpy as np

JOB_FILE = "job.json"
INPUTS_FILE = "inputs.bin"
RESULTS_FILE = "results.bin"
CHILD_LOG = "child.log"
EXCEPTION_EXIT = 70  # a child that reported an exception leaves with this code (os._exit, no traceback)


class Event(StrEnum):
    # the harness's set-up is done (for the GPU: API, context, runtime) and the answer's library is being loaded: a
    # failure from here on (a library that does not load, an initialiser that crashes) is the answer's
    LOADING = "loading"
    LOADED = "loaded"  # the answer's library loaded: what fails after it and before STARTED is the harness's again
    STARTED = "started"  # the runtime is set up and warmed up with the answer loaded: the harness's part is done
    READY = "ready"  # loaded and sandboxed; calls follow
    CALL = "call"  # case, run: a call of solve starts
    ERROR = "error"  # case (an index, or "bench<k>"), run, message: a CUDA error; the child stops
    DONE_CALL = "done-call"  # case, run, seconds, overruns
    TIME = "time"  # scale: timing of a benchmark scale starts (inputs being built)
    TIMING_START = "timing-start"  # scale: the timed loop starts; the parent's clock brackets the phase
    TIMING_END = "timing-end"  # scale
    TIMED = "timed"  # scale, sizes, timing: the measurement of one scale
    PROFILED = "profiled"  # scale, sizes: the one call made under ncu
    FINISHED = "finished"  # results_index: {key: [offset, length]} into RESULTS_FILE
    # error (the exception's class), message, cuda (a CUDA error: the context faulted): Python raised in the child,
    # which then left without a traceback (printing one opens files, which the sandbox forbids). Before STARTED the
    # harness's set-up failed.
    EXCEPTION = "exception"


class JobArg(TypedDict):
    name: str
    role: str  # input | output | inout | scalar
    dtype: str
    itemsize: int


class JobCase(TypedDict):
    index: int
    runs: list[list[Any]]  # per call: [sentinel byte, thread order, order seed, racecheck]
    size_key: str  # cases of the same sizes share device buffers
    scalars: dict[str, int | float]
    shapes: dict[str, list[int]]


class TimingSpec(TypedDict):
    task_path: str
    suite_root: str
    seed: int
    policy: dict[str, Any]  # timing.policy.MeasurementPolicy.to_dict(): timer, caps, stopping rule, input sets
    profile_scale: int | None
    scales: list[dict[str, int]]
    check_seed: int  # which timed calls are checked: secret per run


class Job(TypedDict):
    library: str
    runtime: str  # gpu | cpu
    seccomp: bool
    landlock_devices: NotRequired[list[str] | None]  # Landlock allowing only these device nodes (sandbox.choose)
    workers: int
    memory_cap: int
    sentinels: list[int]
    args: list[JobArg]
    cases: list[JobCase]
    inputs_index: dict[str, list[int]]
    sanitize: NotRequired[bool]
    gpu_api: NotRequired[str]  # GPU runtime: the harness's GPU API in the child (timing.gpu_api), resolved
    timing: NotRequired[TimingSpec]


# ---------------------------------------------------------------- CUDABench-Set's program child


class ProgramEvent(StrEnum):
    """What the program child (cudabench_set/program_child.py) says on its status channel, in this order."""

    CUDART = "cudart"  # path: the CUDA runtime preloaded for the program's libcudart dependency (GPU runtime)
    LANDLOCK = "landlock"  # abi: the Landlock ABI now confining it; 0 with message: Landlock could not be applied
    SECCOMP = "seccomp"  # the syscall filter is on
    READY = "ready"  # racecheck: shared-memory race detection is on (None: not the CPU runtime); main follows
    RETURNED = "returned"  # rc, error: main returned rc; error: a kernel fault the CPU runtime caught (or None)
    EXCEPTION = "exception"  # the kernel child's Event.EXCEPTION line (exception_event): Python raised in the child


class ProgramJob(TypedDict):
    """The program child's job, its first argument (JSON)."""

    library: str  # the program built as a library
    entry: str  # its main: cudabench_program_main (CPU runtime) or nvcc's renamed main
    scratch: str  # its working directory: data/ with copies of the inputs
    runtime: str  # gpu | cpu
    thread_order: int  # CPU runtime: a block's threads between barriers (supervisor.THREAD_ORDERS)
    order_seed: int  # seeds the shuffled order
    racecheck: bool  # CPU runtime: shared-memory race detection
    knockout: bool  # CPU runtime: every kernel launch a no-op
    seccomp: bool
    landlock: bool
    read_only: list[str]  # what Landlock lets it read besides its scratch directory
    devices: list[str]  # device nodes it may open read-write and drive by ioctl (GPU runtime)
    address_space: int  # RLIMIT_AS in bytes; 0: none
    cpu_seconds: int  # RLIMIT_CPU
    workers: int  # the CPU runtime's worker threads
    memory_cap: int  # the CPU runtime's simulated device memory
    max_file_bytes: int  # RLIMIT_FSIZE: every file it writes, its log included


def input_key(case: int, name: str) -> str:
    return f"{case}:{name}"


def result_key(case: int, run: int, name: str) -> str:
    return f"{case}:{run}:{name}"


def bench_key(scale: int, name: str, input_set: int = 0, call: int | None = None) -> str:
    """An output at a benchmark scale: after timing (input set 0, or another set), or kept from a timed call."""
    if call is not None:
        return f"bench{scale}:call{call}:set{input_set}:{name}"
    return f"bench{scale}:{name}" if input_set == 0 else f"bench{scale}:set{input_set}:{name}"


@dataclass(frozen=True)
class BenchKey:
    scale: int
    name: str
    input_set: int = 0
    call: int | None = None  # None: the call after timing


_BENCH_KEY = re.compile(r"^bench(?P<scale>\d{1,3}):(?:call(?P<call>\d{1,9}):set(?P<cset>\d{1,2}):|set(?P<set>\d{1,2}):)?"
                        r"(?P<name>\w+)$")


def is_bench_key(key: str) -> bool:
    return key.startswith("bench")


def parse_bench_key(key: str) -> BenchKey | None:
    match = _BENCH_KEY.match(key)
    if match is None:
        return None
    call = match["call"]
    return BenchKey(scale=int(match["scale"]), name=match["name"], call=None if call is None else int(call),
                    input_set=int(match["cset"] or match["set"] or 0))


def result_array(blob: bytes, index: dict[str, list[int]], key: str, dtype: Any, shape: tuple[int, ...] | list[int],
                 stage: str) -> np.ndarray[Any, Any]:
    """The array stored under `key` in RESULTS_FILE's bytes, in the parent. A size that does not fit the declared
    shape fails `stage`: the child (or an answer inside it) tampered with the protocol."""
    import numpy as np  # here, not at the top: the child imports this module and must start without numpy

    offset, size = index[key]
    count = int(np.prod(shape))
    if size != count * np.dtype(dtype).itemsize or offset + size > len(blob):
        raise StageFailure(stage, f"the child returned {size} bytes for {key}; the protocol was tampered with")
    return np.frombuffer(blob, dtype=dtype, count=count, offset=offset).reshape(shape).copy()


def events_of(events: list[dict[str, Any]], kind: Event | ProgramEvent) -> list[dict[str, Any]]:
    return [e for e in events if e.get("event") == kind]


def first_event(events: list[dict[str, Any]], kind: Event | ProgramEvent) -> dict[str, Any] | None:
    return next((e for e in events if e.get("event") == kind), None)


def open_status(address: str) -> TextIO:
    """The child's end of the status channel: connects to the parent's socket at `address` and waits for its go
    (sent once the parent stamps what arrives), then writes one message per line."""
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    channel.connect(address)
    channel.recv(1)
    return os.fdopen(channel.detach(), "w", buffering=1)


def exception_event(exc: BaseException, sandbox_on: bool) -> dict[str, Any]:
    """The status line (Event.EXCEPTION) a child sends when Python raised in it, before it leaves with os._exit and
    EXCEPTION_EXIT. Once its sandbox is on, no traceback: formatting one opens the source files, which the filter
    answers by killing the process (the report would then say "forbidden system call" instead of the error)."""
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001
        message = "(its message could not be read)"
    trace = ""
    if not sandbox_on:
        import traceback

        trace = "".join(traceback.format_exception(exc))[-4000:]
    # A failed CUDA call (the harness's GPU API on a context the answer broke), as opposed to a fault of the harness.
    cuda = any(kind.__name__ == "CudaError" or kind.__module__.split(".")[0] in ("pycuda", "cuda")
               for kind in type(exc).__mro__)  # errors.CudaError and its kin, pycuda's and cuda-bindings' errors
    return {"event": Event.EXCEPTION, "error": type(exc).__name__, "message": message, "cuda": cuda,
            "traceback": trace}
