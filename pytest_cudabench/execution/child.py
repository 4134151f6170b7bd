"""The child process that runs an untrusted answer:
`python -m pytest_cudabench.execution.child JOB_DIR STATUS_ADDRESS [ADDRESS_SPACE_BYTES CPU_SECONDS]`.

It loads the answer's library, calls `solve` on every case as its runs say (outputs pre-filled with one of two
sentinels; on the CPU runtime, a block's threads run in the thread order the run names) and saves what it got:
the outputs and the inputs as they were after the call, plus the slack after every buffer.
It judges nothing: the parent compares, so nothing the answer does in here can make a pass. Progress goes to the
status channel as JSON lines, so the parent knows which case was running when the child died; an exception is
reported there too, never as a traceback (protocol.exception_event).
"""

from __future__ import annotations

import ctypes
import json
import math
import mmap
import os
import random
import struct
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, BinaryIO

from .. import protocol
from ..errors import CudaError, GpuApiError
from ..protocol import Event
from . import sandbox

PAGE = mmap.PAGESIZE
ALIGN = 256  # cudaMalloc alignment
SLACK_MARKER = 0xA5

# Data crosses the process boundary as raw bytes with an index (no numpy here: importing it would be most of a short
# item's cost); the job gives each argument's itemsize.

C_SCALARS = {
    "float32": ctypes.c_float, "float64": ctypes.c_double, "int8": ctypes.c_int8, "uint8": ctypes.c_uint8,
    "int16": ctypes.c_int16, "int32": ctypes.c_int32, "uint32": ctypes.c_uint32, "int64": ctypes.c_int64,
    "uint64": ctypes.c_uint64, "float16": ctypes.c_uint16,
}


class GuardedBuffer:
    """Host memory standing in for a device buffer: inaccessible pages on both sides, the data placed at the end
    (aligned) so that an overrun hits the guard page, and a marker pattern in the few bytes of slack."""

    def __init__(self, nbytes: int, libc):
        self.nbytes = nbytes
        data_pages = (nbytes + ALIGN + PAGE - 1) // PAGE or 1
        self.total = (data_pages + 2) * PAGE
        self.map = mmap.mmap(-1, self.total, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.map))
        end = self.base + (data_pages + 1) * PAGE
        self.address = (end - nbytes) // ALIGN * ALIGN
        self.slack = end - (self.address + nbytes)
        ctypes.memset(self.address + nbytes, SLACK_MARKER, self.slack)
        for page in (self.base, end):
            if libc.mprotect(ctypes.c_void_p(page), PAGE, 0) != 0:
                raise OSError("mprotect failed for a guard page")

    def slack_intact(self) -> bool:
        if not self.slack:
            return True
        tail = ctypes.string_at(self.address + self.nbytes, self.slack)
        return tail == bytes([SLACK_MARKER]) * self.slack


class CpuBackend:
    name = "cpu"

    def __init__(self, library: str, job: dict[str, Any],
                 loading: Callable[[], AbstractContextManager[None]] = nullcontext):
        with loading():  # the CPU runtime lives in the answer's library: loading it is all there is to set up
            self.lib = ctypes.CDLL(library, mode=ctypes.RTLD_LOCAL)
        self.libc = ctypes.CDLL(None)
        self.libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        self.lib.cudabench_cpu_configure.argtypes = [ctypes.c_int, ctypes.c_ulonglong]
        self.lib.cudabench_cpu_register.argtypes = [ctypes.c_void_p, ctypes.c_ulonglong]
        self.lib.cudabench_cpu_unregister.argtypes = [ctypes.c_void_p]
        self.lib.cudabench_cpu_schedule.argtypes = [ctypes.c_int, ctypes.c_ulonglong]
        self.lib.cudabench_cpu_error.restype = ctypes.c_char_p
        self.lib.cudabench_cpu_error_name.restype = ctypes.c_char_p
        self.lib.cudabench_cpu_configure(int(job["workers"]), int(job["memory_cap"]))
        if job.get("knockout"):  # every kernel launch a no-op (knockout.py)
            self.lib.cudabench_cpu_knockout(1)
        self.buffers: dict[tuple, GuardedBuffer] = {}

    def allocate(self, key: tuple, nbytes: int) -> GuardedBuffer:
        # Same sizes reuse the same addresses: an answer caching results by pointer sees new values there.
        if key not in self.buffers:
            buffer = GuardedBuffer(max(nbytes, 1), self.libc)
            self.lib.cudabench_cpu_register(ctypes.c_void_p(buffer.address), buffer.nbytes)
            self.buffers[key] = buffer
        return self.buffers[key]

    def release(self, key: tuple) -> None:
        buffer = self.buffers.pop(key, None)
        if buffer is not None:
            self.lib.cudabench_cpu_unregister(ctypes.c_void_p(buffer.address))
            buffer.map.close()

    def upload(self, buffer: GuardedBuffer, data: bytes) -> None:
        ctypes.memmove(buffer.address, bytes(data), min(len(data), buffer.nbytes))

    def fill(self, buffer: GuardedBuffer, byte: int) -> None:
        ctypes.memset(buffer.address, byte, buffer.nbytes)

    def reset(self, buffer: GuardedBuffer, byte: int) -> None:
        ctypes.memset(buffer.address, byte, buffer.nbytes)

    def copy(self, dst: GuardedBuffer, src: GuardedBuffer) -> None:
        ctypes.memmove(dst.address, src.address, min(dst.nbytes, src.nbytes))

    def download(self, buffer: GuardedBuffer) -> bytes:
        return ctypes.string_at(buffer.address, buffer.nbytes)

    def pointer(self, buffer: GuardedBuffer) -> int:
        return buffer.address

    def slack_intact(self, buffer: GuardedBuffer) -> bool:
        return buffer.slack_intact()

    def warm_up(self) -> None:
        pass

    def timing_backend(self, timer: str):
        # local import: timing loads numpy, which the kernel child imports only for a timed job (see run_job)
        from ..timing import measure

        return measure.HostClockBackend()  # only the host timer: the CPU runtime's times are never scored

    def set_thread_order(self, order: int, seed: int, racecheck: bool) -> None:
        self.lib.cudabench_cpu_schedule(order, seed)
        self.lib.cudabench_cpu_racecheck(int(racecheck))

    def protect_device_memory(self, on: bool) -> None:
        """Device buffers inaccessible to host code during solve, as on a GPU (cuda_shim.h)."""
        self.lib.cudabench_cpu_protect(int(on))

    def check_error(self) -> str | None:
        message = self.lib.cudabench_cpu_error()
        if message:
            name = self.lib.cudabench_cpu_error_name()
            suffix = f" ({name.decode()})" if name else ""
            return message.decode(errors="replace") + suffix
        return None


class GpuBackend:
    """Device buffers through the GPU API (timing.gpu_api, the one the job names) on the primary context, which the
    answer's CUDA runtime calls share. Construction starts everything the harness needs and checks it: a failure
    raises GpuApiError naming the machine's problem (no driver, a toolkit newer than the driver, no memory)."""

    name = "gpu"
    SLACK = 4096
    WARM_UP_BYTES = 4 << 20  # large enough for a pageable copy through the driver's staging buffers in chunks

    def __init__(self, library: str, job: dict[str, Any],
                 loading: Callable[[], AbstractContextManager[None]] = nullcontext):
        # local import: the GPU API loads numpy and the CUDA bindings, which the CPU runtime's child never needs
        from ..timing.gpu_api import AnswerRuntime, open_gpu_api

        self.api = open_gpu_api(job.get("gpu_api") or "auto")
        # The runtime before the library (RTLD_GLOBAL): the answer's libcudart dependency binds to this instance, so
        # its errors are the ones check_error reads. It starts once the library has registered its kernels (with
        # CUDA_MODULE_LOADING=EAGER it loads them then), on the API's primary context, and says if it cannot.
        self.runtime = AnswerRuntime.load()
        with loading():
            self.lib = ctypes.CDLL(library, mode=ctypes.RTLD_LOCAL)
        self.runtime.start()
        self.buffers: dict[tuple, tuple[int, int]] = {}
        # Under compute-sanitizer no slack: memcheck then sees reads past the end too, not only our marker writes.
        self.slack = 0 if job.get("sanitize") else self.SLACK
        self.deferred_error: str | None = None

    def allocate(self, key: tuple, nbytes: int):
        if key not in self.buffers:
            self.buffers[key] = (self.api.alloc(max(nbytes, 1) + self.slack), nbytes)
        return self.buffers[key]

    def release(self, key: tuple) -> None:
        buffer = self.buffers.pop(key, None)
        if buffer is not None:
            self.api.free(buffer[0])

    def upload(self, buffer, data) -> None:
        if len(data):
            self.api.copy_htod(buffer[0], data)

    def fill(self, buffer, byte: int) -> None:
        pointer, nbytes = buffer
        self.api.memset(pointer, byte, nbytes)
        if self.slack:
            self.api.memset(pointer + nbytes, SLACK_MARKER, self.slack)

    # Between timed calls: queued on the legacy default stream, where the timing events go (no host wait). These
    # fail only once an answer's launch has broken the context: the error is kept for check_error, which reports
    # the answer's own error first.
    def reset(self, buffer, byte: int) -> None:
        self._deferring(self.api.memset_async, buffer[0], byte, buffer[1])

    def copy(self, dst, src) -> None:
        self._deferring(self.api.copy_dtod_async, dst[0], src[0], min(dst[1], src[1]))

    def _deferring(self, call, *args) -> None:
        try:
            call(*args)
        except CudaError as exc:
            self.deferred_error = self.deferred_error or str(exc)

    def download(self, buffer) -> bytes:
        return self.api.copy_dtoh(buffer[0], buffer[1])

    def pointer(self, buffer) -> int:
        return buffer[0]

    def slack_intact(self, buffer) -> bool:
        pointer, nbytes = buffer
        if not self.slack:
            return True
        return self.api.copy_dtoh(pointer + nbytes, self.slack) == bytes([SLACK_MARKER]) * self.slack

    def warm_up(self) -> None:
        """Every kind of GPU work the harness does once the sandbox is closed, done once now: the driver opens
        device files, maps memory and starts helper threads lazily, on the first operation of each kind (pageable
        copies each way, device-to-device copies, memsets, events, streams, the L2 queries)."""
        api, n = self.api, self.WARM_UP_BYTES
        first, second = api.alloc(n), api.alloc(n)
        try:
            api.copy_htod(first, bytes(n))
            api.memset(first, 0, n)
            api.memset_async(second, 1, n)
            api.copy_dtod_async(second, first, n)
            start, end = api.event_create(), api.event_create()
            api.event_record(start)
            api.memset_async(first, 2, n)
            api.event_record(end)
            stream = api.stream_create()
            api.synchronize()
            api.event_elapsed_s(start, end)
            api.event_destroy(start)
            api.event_destroy(end)
            api.stream_destroy(stream)
            api.copy_dtoh(second, n)
            api.reset_persisting_l2()
            api.persisting_l2_limit()
            api.access_policy_window_bytes()
        finally:
            api.free(first)
            api.free(second)
        error = self.runtime.last_error()
        if error:
            raise GpuApiError(f"the GPU failed the harness's warm-up before the answer ran: {error}")

    def timing_backend(self, timer: str):
        # local import: timing loads numpy, which the kernel child imports only for a timed job (see run_job)
        from ..timing import measure

        return measure.HostClockBackend() if timer == "host" else measure.GpuEventBackend(self.api)

    def profiler_start(self) -> None:
        self.api.synchronize()
        self.api.profiler_start()  # ncu runs with --profile-from-start off: only the answer's kernels

    def profiler_stop(self) -> None:  # after the answer's call: a failure here is its error, for check_error
        self._deferring(self.api.synchronize)
        self._deferring(self.api.profiler_stop)

    def set_thread_order(self, order: int, seed: int, racecheck: bool) -> None:
        pass  # the GPU schedules its threads itself (racecheck there: --cudabench-sanitize)

    def protect_device_memory(self, on: bool) -> None:
        pass  # the GPU's own: host code cannot dereference a device pointer there

    def check_error(self) -> str | None:
        error = self.runtime.last_error() or self.deferred_error
        self.deferred_error = None
        return error


def c_scalar(dtype: str, value: Any) -> float | int:
    """A scalar argument as its ctypes type takes it: a half travels as its 16-bit pattern."""
    if dtype == "float16":
        return struct.unpack("<H", struct.pack("<e", float(value)))[0]
    return float(value) if dtype.startswith("float") else int(value)


def main(argv: list[str]) -> int:
    """argv: JOB_DIR STATUS_ADDRESS [ADDRESS_SPACE_BYTES CPU_SECONDS] (0: no limit). Whatever Python raises is
    reported on the status channel, and the child leaves without a traceback (protocol.exception_event)."""
    status = protocol.open_status(argv[1])

    def say(**message: Any) -> None:
        status.write(json.dumps(message) + "\n")

    sandbox_on = [False]
    try:
        return run_job(argv, say, sandbox_on)
    except BaseException as exc:  # noqa: BLE001  (everything: an exception must never reach the interpreter)
        try:
            say(**protocol.exception_event(exc, sandbox_on[0]))
        finally:
            os._exit(protocol.EXCEPTION_EXIT)


def run_job(argv: list[str], say, sandbox_on: list[bool]) -> int:
    job_dir = argv[0]
    if len(argv) >= 4:
        sandbox.limit_resources(int(argv[2]) or None, int(argv[3]) or None)
    with open(os.path.join(job_dir, protocol.JOB_FILE)) as f:
        job = json.load(f)
    with open(os.path.join(job_dir, protocol.INPUTS_FILE), "rb") as inputs_file:
        blob = inputs_file.read()
    inputs = {key: blob[offset:offset + size] for key, (offset, size) in job["inputs_index"].items()}
    # Opened now: no file can be opened once the sandbox is on.
    with open(os.path.join(job_dir, protocol.RESULTS_FILE), "wb") as results_file:
        return run_calls(job, inputs, results_file, say, sandbox_on)


def run_calls(job: dict[str, Any], inputs: dict[str, bytes], results_file: BinaryIO, say,
              sandbox_on: list[bool]) -> int:
    """Loads the answer, starts the sandbox, calls `solve` as the job's runs say (then times it, if asked) and
    writes what it got to `results_file`; the exit code."""
    @contextmanager
    def loading() -> Iterator[None]:
        """Brackets the load of the answer's library: what fails inside (an initialiser, an unresolved symbol) is
        the answer's; the parent tells it from the harness's set-up by these events."""
        if not os.path.isfile(job["library"]):  # the harness built it: its absence is the harness's fault
            raise FileNotFoundError(f"the answer's library {job['library']} does not exist")
        say(event=Event.LOADING)
        yield
        say(event=Event.LOADED)

    backend = (GpuBackend if job["runtime"] == "gpu" else CpuBackend)(job["library"], job, loading=loading)
    solve = backend.lib.solve
    solve.restype = None
    solve.argtypes = [ctypes.c_void_p if a["role"] != "scalar" else C_SCALARS[a["dtype"]]  # type: ignore[misc]
                      for a in job["args"]]
    backend.warm_up()
    timing_backend = bench_inputs = None
    if job.get("timing"):
        # Everything timing needs is loaded now: no file can be opened once the sandbox is on.
        # local import: these load numpy, which a job without timing (most of them) starts without
        from ..tasks.inputs import bench_case
        from ..tasks.loader import load_task
        from ..timing import measure as gpu_timing
        from ..timing import stats
        from ..timing.policy import MeasurementPolicy

        timer = MeasurementPolicy.from_dict(job["timing"]["policy"]).timer
        timing_backend = backend.timing_backend(timer)
        task = load_task(job["timing"]["task_path"], job["timing"]["suite_root"])
        seed = job["timing"]["seed"]
        bench_inputs = lambda k, input_set=0: bench_case(task, seed, k, input_set)  # noqa: E731
        # numpy imports parts of itself on first use (numpy.random for the generator, numpy.ma inside np.unique for
        # the statistics), and an import opens files: run the whole path once now, before the sandbox closes.
        bench_inputs(0)
        gpu_timing.time_callable(lambda: None, rule=stats.StoppingRule(max_time_s=0.01), backend=timing_backend)
    # The harness's part of starting is done (runtime, context, answer loaded, warm-up): whatever fails from here on
    # runs with the answer, and what failed before is the harness's (Event.EXCEPTION before STARTED).
    say(event=Event.STARTED)
    devices = job.get("landlock_devices")
    confinement = sandbox.Confinement(seccomp=bool(job.get("seccomp")),
                                      landlock_devices=None if devices is None else tuple(devices))
    sandbox_on[0] = confinement.seccomp
    say(event=Event.READY, sandbox=sandbox.confine(confinement))

    results: dict[str, bytes] = {}
    for case in job["cases"]:
        index = case["index"]
        for run, (sentinel, order, seed, racecheck) in enumerate(case["runs"]):
            say(event=Event.CALL, case=index, run=run)
            backend.set_thread_order(order, seed, racecheck)
            buffers = {}
            call_args = []
            for arg in job["args"]:
                if arg["role"] == "scalar":
                    call_args.append(c_scalar(arg["dtype"], case["scalars"][arg["name"]]))
                    continue
                nbytes = math.prod(case["shapes"][arg["name"]]) * arg["itemsize"]
                buffer = backend.allocate((arg["name"], case["size_key"]), nbytes)
                backend.fill(buffer, sentinel)
                if arg["role"] in ("input", "inout"):
                    backend.upload(buffer, inputs[protocol.input_key(index, arg["name"])])
                buffers[arg["name"]] = buffer
                call_args.append(backend.pointer(buffer))
            backend.protect_device_memory(True)
            start = time.perf_counter()
            solve(*call_args)
            elapsed = time.perf_counter() - start
            backend.protect_device_memory(False)
            error = backend.check_error()
            if error:
                say(event=Event.ERROR, case=index, run=run, message=error)
                return 3
            overruns = []
            for name, buffer in buffers.items():
                results[protocol.result_key(index, run, name)] = backend.download(buffer)
                if not backend.slack_intact(buffer):
                    overruns.append(name)
            say(event=Event.DONE_CALL, case=index, run=run, seconds=elapsed, overruns=overruns)
    backend.set_thread_order(0, 0, False)
    if job.get("timing"):
        time_scales(job, backend, solve, results, say, timing_backend, bench_inputs)
    index_of = {}
    offset = 0
    for key, data in results.items():
        results_file.write(data)
        index_of[key] = [offset, len(data)]
        offset += len(data)
    results_file.flush()
    say(event=Event.FINISHED, results_index=index_of)
    return 0


class InputSet:
    """One benchmark input set in its own buffers. Before each call its outputs are reset to the sentinel and its
    inout buffers restored from a pristine copy, so every call computes from the benchmark input and finds no
    earlier result in place."""

    def __init__(self, job, backend, case, key: tuple):
        self.backend = backend
        self.buffers: dict[str, tuple[Any, str]] = {}
        self.pristine: dict[str, Any] = {}
        self.args: list[Any] = []
        self.keys: list[tuple] = []
        self.sentinel = job["sentinels"][0]
        for arg in job["args"]:
            if arg["role"] == "scalar":
                self.args.append(c_scalar(arg["dtype"], case.scalars[arg["name"]]))
                continue
            array = case.arrays[arg["name"]]
            buffer = self._allocate((*key, arg["name"]), array.nbytes)
            backend.fill(buffer, self.sentinel)
            if arg["role"] in ("input", "inout"):
                backend.upload(buffer, memoryview(array).cast("B"))
            if arg["role"] == "inout":
                self.pristine[arg["name"]] = self._allocate((*key, arg["name"], "pristine"), array.nbytes)
                backend.upload(self.pristine[arg["name"]], memoryview(array).cast("B"))
            self.buffers[arg["name"]] = (buffer, arg["role"])
            self.args.append(backend.pointer(buffer))

    def _allocate(self, key: tuple, nbytes: int):
        self.keys.append(key)
        return self.backend.allocate(key, nbytes)

    def prepare(self) -> None:
        for name, (buffer, role) in self.buffers.items():
            if role == "output":
                self.backend.reset(buffer, self.sentinel)
            elif role == "inout":
                self.backend.copy(buffer, self.pristine[name])

    def outputs(self) -> dict[str, bytes]:
        return {name: self.backend.download(buffer) for name, (buffer, role) in self.buffers.items()
                if role in ("output", "inout")}

    def release(self) -> None:
        for key in self.keys:
            self.backend.release(key)


class Rotation:
    """The call pattern of warm-up and timed calls alike: call i runs on set i mod len(sets), prepared just
    before it. A uniform sample (reservoir) of the timed calls keeps its outputs: which ones comes from a seed the
    parent draws per run, and is known only after the call has returned."""

    def __init__(self, sets: list[InputSet], solve, picker, checked_calls: int):
        self.sets, self.solve, self.picker = sets, solve, picker
        self.checked_calls = checked_calls  # timed calls whose outputs are kept for the parent to check
        self.calls = 0
        self.last: int | None = None
        self.kept: list[tuple[int, int, dict[str, bytes]]] = []  # (timed call, input set, outputs)

    def prepare(self) -> None:
        self.sets[self.calls % len(self.sets)].prepare()

    def launch(self) -> None:
        self.last = self.calls % len(self.sets)
        self.calls += 1
        self.solve(*self.sets[self.last].args)

    def after_sample(self, index: int) -> None:
        slot = len(self.kept) if len(self.kept) < self.checked_calls else self.picker.randrange(index + 1)
        if slot >= self.checked_calls or self.last is None:
            return
        entry = (index, self.last, self.sets[self.last].outputs())
        if slot == len(self.kept):
            self.kept.append(entry)
        else:
            self.kept[slot] = entry


def time_scales(job, backend, solve, results, say, timing_backend, bench_inputs) -> None:
    """Times `solve` at every benchmark scale (inputs on the device, cold L2), rotating through input sets, and
    keeps the outputs of a sample of timed calls and of one call per input set after the timing loop, which the
    parent checks against the task's own solution. The phase is bracketed by events the parent timestamps."""
    # local import: loaded already by run_job for a timed job; numpy stays out of the child otherwise
    from ..timing.measure import time_callable
    from ..timing.policy import MeasurementPolicy
    from ..timing.stats import StoppingRule

    spec = job["timing"]
    policy = MeasurementPolicy.from_dict(spec["policy"])
    profile = spec.get("profile_scale")  # under ncu: one call at one scale, between profiler start and stop
    picker = random.Random(spec.get("check_seed", 0))
    for k, sizes in enumerate(spec["scales"]):
        if profile is not None and k != profile:
            continue
        say(event=Event.TIME, scale=k)
        count = 1 if profile is not None else policy.input_sets
        sets = [InputSet(job, backend, bench_inputs(k, r), ("bench", k, r)) for r in range(count)]
        timing = None
        if profile is not None:
            profiling = hasattr(backend, "profiler_start")  # not on the CPU runtime (tests of the plumbing)
            if profiling:
                backend.profiler_start()
            solve(*sets[0].args)
            if profiling:
                backend.profiler_stop()
            error = None
        else:
            rotation = Rotation(sets, solve, picker, policy.checked_calls)
            say(event=Event.TIMING_START, scale=k)
            rule = StoppingRule.of(policy, policy.scale_cap_s(len(spec["scales"])))
            timing = time_callable(rotation.launch, policy=policy, rule=rule,
                                   backend=timing_backend, prepare=rotation.prepare,
                                   after_sample=rotation.after_sample)
            say(event=Event.TIMING_END, scale=k)
            error = backend.check_error()  # read once: it clears the runtime's last error
            if error is None:
                for call, input_set, outputs in rotation.kept:
                    for name, data in outputs.items():
                        results[protocol.bench_key(k, name, input_set, call)] = data
                timing["checked_calls"] = [[call, input_set] for call, input_set, _ in rotation.kept]
                # One more call per set, prepared like the timed ones: its result is what the parent compares
                # with the task's solution (inout buffers back at the benchmark input, outputs at the sentinel).
                for prepared in sets:
                    prepared.prepare()
                    solve(*prepared.args)
        error = error or backend.check_error()
        if error:
            say(event=Event.ERROR, case=f"bench{k}", run=0, message=error)
            return
        for r, one_set in enumerate(sets):
            for name, data in one_set.outputs().items():
                results[protocol.bench_key(k, name, r)] = data
            one_set.release()
        say(event=Event.PROFILED if profile is not None else Event.TIMED, scale=k, sizes=sizes, timing=timing)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
