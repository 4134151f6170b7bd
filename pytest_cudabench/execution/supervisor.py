"""The supervisor of untrusted children: what the kernel runner (runner.py) and CUDABench-Set's whole programs
(cudabench_set/program.py) share about running code nobody trusts.

`supervise` starts a child in its own session with an allowlisted environment (child_environment), kills its process
group at the time limit and reads its status channel: a Unix socket whose messages the kernel stamps when sent, so
neither the child's clock nor this process's wake-up latency decides a time. Around it: the one table of what a
signal that ended a child means (describe_signal), the CPU runtime's account of host code touching device memory
(host_access_fault), racecheck addresses turned into source lines (source_lines), the CPU runtime's thread orders
and limits both children set, and the cached build of an answer against the CPU runtime (cached_cpu_build,
build_for_runtime). Nothing here judges an answer's results.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import HarnessError, StageFailure, StageSkip
from ..files import publish_file
from ..source.build_handover import build_lock
from .cpu_runtime import CpuBuildError, CpuRuntimeUnsupported, build_cpu_library
from .cpu_runtime.build import runtime_version

# The CPU runtime's orders of a block's threads between barriers (cudabench_cpu_schedule). The kernel runner's third
# call per case and the set's order runs (cudabench_set/orders.py) use the others in turn; a kernel whose result
# depends on the order races (cheat 17).
THREAD_ORDERS = {"forward": 0, "reverse": 1, "shuffle": 2, "warps": 3}
ORDER_RUNS = ("reverse", "warps", "shuffle")
ORDER_NAMES = {"reverse": "in reverse thread order", "warps": "with warps interleaved lane by lane, each warp "
               "running on through its warp operations", "shuffle": "in a shuffled order"}
# What a thread-order failure tells the answer to do (the set's whole programs say it too).
RACE_FIX = ("This is a race between threads of a block: a thread reads (or overwrites) shared or global memory that "
            "another thread of the block writes, with no barrier between them. Add __syncthreads() between the writes "
            "and the reads (__syncwarp() only orders the lanes of one warp), or use atomics.")
CPU_MEMORY_CAP = 16 << 30  # simulated device memory of the CPU runtime
CHILD_ADDRESS_SPACE = 48 << 30  # fiber stacks reserve address space generously; real use stays far below


# What the child may see of the parent's environment: finding programs and libraries, the GPU runtime's and the
# CUDA tools' settings, and Python's path. Nothing else (keys, tokens, credentials) exists for an answer to read.
CHILD_ENV = ("PATH", "LANG", "LC_ALL", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME", "CUDA_HOME", "CUDA_PATH",
             "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES")


def child_environment(job_dir: Path) -> dict[str, str]:
    """The environment of a child working in `job_dir`: CHILD_ENV from this process's, its home and temp dir there."""
    env = {k: os.environ[k] for k in CHILD_ENV if os.environ.get(k)}
    env.update(HOME=str(job_dir), TMPDIR=str(job_dir), CUDA_MODULE_LOADING="EAGER")
    env.setdefault("PATH", os.defpath)
    return env


def build_for_runtime(runtime: str, source: str, nvcc_library: Path, cache_dir: Path, sanitize: bool,
                      arch: str | None = None) -> Path:
    """The library the child loads: nvcc's build on a GPU, our g++ build against the shim on the CPU runtime (with
    the launch limits of `arch`)."""
    if runtime == "gpu":
        return nvcc_library
    try:
        target, _cached = cached_cpu_build(cache_dir / "cpu", [source, sanitize, arch], "libanswer_cpu.so",
                                           lambda out: build_cpu_library(source, out, sanitize=sanitize, arch=arch))
    except CpuRuntimeUnsupported as exc:
        raise StageSkip("execute", str(exc)) from None
    except CpuBuildError as exc:
        log = getattr(exc, "log", "")
        raise StageFailure("execute", f"the CPU runtime could not build this answer (nvcc accepted it): {exc}",
                           log) from None
    return target


def cached_cpu_build(cache_dir: Path, key_parts: list[Any], name: str,
                     build: Callable[[Path], Any]) -> tuple[Path, bool]:
    """A build against the CPU runtime, cached by what went into it and the shim's version: (path, was cached).
    `build(path)` writes it; it lands under its key atomically, so concurrent workers never load a partial file."""
    key = hashlib.sha256(json.dumps([*key_parts, runtime_version()]).encode()).hexdigest()[:24]
    target = cache_dir / key / name
    with build_lock(str(target)):  # compile-ahead's build of it may be in flight in this process: wait for it
        if target.is_file():
            return target, True
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.parent / f".build-{os.getpid()}.so"
        build(scratch)
        publish_file(scratch, target)
    return target, False



SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python's socket module does not name it
STATUS_MESSAGE_MAX = 1 << 20
STATUS_SOCKET = "status.sock"
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes


def status_listener(directory: Path) -> tuple[socket.socket, str]:
    """(listening socket, its path) of the status channel: a Unix SEQPACKET socket in `directory`, for this user
    only. The child connects by path (protocol.open_status) rather than inheriting a descriptor, so a tool that
    wraps it (ncu, compute-sanitizer) and closes what it inherits cannot cut the channel."""
    path = str(directory / STATUS_SOCKET)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        listener.bind(path)
        os.chmod(path, 0o600)
        listener.listen(1)
    except OSError:
        listener.close()
        raise
    return listener, path


def accept_status(listener: socket.socket, process: subprocess.Popen) -> socket.socket | None:
    """The child's connection, or None when `process` ends without making one. Its messages are stamped by the
    kernel when the child sends them (SO_TIMESTAMPNS), so a status line's time does not depend on when this process
    gets to read it (a descheduled harness would otherwise see a timing phase shorter than the child's) and the
    child cannot forge it; the child sends nothing before the go byte, which follows the stamping's setup."""
    poller = select.poll()
    poller.register(listener, select.POLLIN)
    try:
        ended: int | None = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfd (Linux < 5.3): look at the process every 50 ms
        ended = None
    if ended is not None:
        poller.register(ended, select.POLLIN)
    try:
        while True:
            ready = {fd for fd, _ in poller.poll(None if ended is not None else 50)}
            if listener.fileno() in ready:
                break
            if ended in ready or (ended is None and process.poll() is not None):
                return None
    finally:
        if ended is not None:
            os.close(ended)
    connection, _ = listener.accept()
    with contextlib.suppress(OSError):  # stamped on receipt instead (read_status_lines)
        connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    with contextlib.suppress(OSError):  # the child is gone: what it sent is still there to read
        connection.send(b"\1")
    return connection


def channel_directory() -> Path:
    """A private directory for the status socket, short enough for a socket's path."""
    directory = Path(tempfile.mkdtemp(prefix="cudabench-status-"))
    if len(str(directory / STATUS_SOCKET).encode()) > _SOCKET_PATH_MAX:
        directory.rmdir()
        directory = Path(tempfile.mkdtemp(prefix="cudabench-status-", dir="/tmp"))
    return directory


def read_status_lines(channel: socket.socket) -> list[tuple[float, bytes]]:
    """Every line the child sends until it closes its end, each with the kernel's send time (CLOCK_REALTIME,
    seconds) of the message that completed it, or this process's receipt time where the kernel gave none."""
    lines: list[tuple[float, bytes]] = []
    pending = b""
    while True:
        try:
            data, ancillary, flags, _ = channel.recvmsg(STATUS_MESSAGE_MAX, socket.CMSG_SPACE(16))
        except InterruptedError:
            continue
        if not data:
            return lines
        stamp = next((seconds + nanoseconds / 1e9 for level, kind, payload in ancillary
                      if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16
                      for seconds, nanoseconds in [struct.unpack("qq", payload[:16])]), time.time())
        if flags & socket.MSG_TRUNC:  # not a status line: what the answer wrote ends the channel's meaning
            lines.append((stamp, b"\0"))
            return lines
        pending += data
        *complete, pending = pending.split(b"\n")
        lines.extend((stamp, line) for line in complete)


def supervise(command: Callable[[str], list[str]], *, cwd: Path, env: dict[str, str], log_path: Path,
              timeout_s: float) -> tuple[list[dict], int | None, bool]:
    """Runs an untrusted child: its own session (killed as one process group at `timeout_s`), stdin closed, stdout
    and stderr into `log_path`, and a status channel (status_listener) whose path `command(path)` names on the
    child's command line. Returns (events, returncode, timed_out): the channel's JSON lines up to the first that is
    not a JSON object, each stamped `received_s` with the kernel's time of sending (seconds, CLOCK_REALTIME)."""
    channel_dir = channel_directory()
    try:
        listener, address = status_listener(channel_dir)
    except OSError as exc:
        shutil.rmtree(channel_dir, ignore_errors=True)
        raise HarnessError(f"the status channel for the child could not be opened in {channel_dir}: {exc}") from None
    argv = command(address)
    try:
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, close_fds=True, env=env,
                cwd=cwd,
                # A new session (its own process group, killed as one); no preexec_fn, unsafe in a threaded parent:
                # the child sets its rlimits itself before loading the answer.
                start_new_session=True,
            )
    except OSError as exc:
        listener.close()
        shutil.rmtree(channel_dir, ignore_errors=True)
        raise HarnessError(f"the child process ({argv[0]}) could not be started: {exc}") from None
    # A timer kills the child at the limit; waiting blocks instead of polling (Popen.wait(timeout) sleeps in steps
    # of up to 50 ms, a visible share of a short item).
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        kill_group(process)

    timer = threading.Timer(timeout_s, expire)
    timer.start()
    try:
        with listener:
            channel = accept_status(listener, process)
        lines = []
        if channel is not None:
            with channel:
                lines = read_status_lines(channel)
        process.wait()
    finally:
        timer.cancel()
        shutil.rmtree(channel_dir, ignore_errors=True)
    events = []
    for received, line in lines:
        try:
            event = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            break  # the answer wrote garbage into the channel: ignore the rest
        if not isinstance(event, dict):
            break
        event["received_s"] = received  # the kernel's, whatever the line said
        events.append(event)
    return events, process.returncode, expired.is_set()


def kill_group(process: subprocess.Popen) -> None:
    """Ends the child and everything it started (its own session, one process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


HOST_ACCESS_MARK = "cudabench-cpu: host code accessed device memory"  # cuda_shim.h's kHostAccessMark


def host_access_fault(output: str) -> str | None:
    """The CPU runtime's account of a fault in host code on device memory (cudabench_cpu_protect), from the child's
    output; None when the output has none."""
    line = next((line for line in output.splitlines() if line.startswith(HOST_ACCESS_MARK)), None)
    return line[len("cudabench-cpu: "):].strip() if line else None


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# What a signal that killed a sandboxed child (kernel child or whole program) means there: one text per signal.
SIGNAL_HINTS: dict[int, str] = {
    signal.SIGSEGV: "an invalid memory access, e.g. reading or writing out of bounds",
    signal.SIGBUS: "an invalid memory access",
    signal.SIGSYS: "a forbidden system call: starting programs, creating processes, sockets, signals to other "
                   "processes, or opening files where the sandbox forbids it",
    signal.SIGKILL: "killed: out of memory or a resource limit",
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGXFSZ: "it wrote more than its outputs need: a file or its output passed the size limit",
    signal.SIGABRT: "aborted",
    signal.SIGFPE: "an arithmetic error such as an integer division by zero",
    signal.SIGILL: "an illegal instruction, e.g. a trap",
}


def describe_signal(number: int) -> str:
    """`SIGSEGV (an invalid memory access, ...)`: the signal's name and what it means in a sandboxed child."""
    hint = SIGNAL_HINTS.get(number)
    return signal_name(number) + (f" ({hint})" if hint else "")


_PC = re.compile(r"\{pc:(0x[0-9a-f]+)\}")


def source_lines(message: str, library: str) -> str:
    """`message` with the racecheck's code addresses ({pc:0x...}) replaced by lines of the answer, read from the
    library's line tables (addr2line, here in the parent); only line numbers are taken from its output."""
    addresses = _PC.findall(message)
    lines: dict[str, str] = {}
    tool = shutil.which("addr2line")
    if addresses and tool:
        try:
            out = subprocess.run([tool, "-e", library, *addresses], capture_output=True, text=True, timeout=20,
                                 stdin=subprocess.DEVNULL).stdout.splitlines()
        except (OSError, subprocess.TimeoutExpired):
            out = []
        for address, text in zip(addresses, out, strict=False):
            found = re.search(r":(\d+)", text)
            if found and found[1] != "0":
                lines[address] = f"line {found[1]}"
    return _PC.sub(lambda m: lines.get(m[1], "an unknown line"), message)
