"""The sandboxed child that runs an answer program built as a library:
`python -m pytest_cudabench.cudabench_set.program_child JOB_JSON STATUS_ADDRESS`.

It loads the library (on the GPU runtime after the CUDA runtime the kernel child loads too, so the program's
libcudart dependency resolves to it wherever the toolkit lives), then confines itself (resource limits; Landlock:
read and write only in the scratch directory, read the few system paths the runtime needs, and on the GPU runtime
open the driver's device nodes read-write with ioctls; seccomp on every thread: no exec, fork, network, ptrace or
signals), changes into the scratch directory and calls `cudabench_program_main(1, ["program"])`; on the CPU runtime,
first in the job's thread order with racecheck on or off (cudabench_cpu_schedule, cudabench_cpu_racecheck), and
with its worker threads started inside the Landlock domain. Calling the program in this process, instead of exec'ing
it, is what lets exec stay forbidden. The program's exit code (its return from main, or exit()) becomes this
process's; status lines on the status channel say how far it got, and an exception of this script is reported there
(protocol.exception_event), never printed. Nothing here judges.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from .. import protocol
from ..execution import landlock
from ..execution.sandbox import install_seccomp, limit_resources, seccomp_available
from ..protocol import ProgramEvent, ProgramJob

Say = Callable[..., None]  # say(event, **fields): one status line


def main(argv: list[str]) -> int:
    job: ProgramJob = json.loads(argv[0])
    status = protocol.open_status(argv[1])

    def say(event: ProgramEvent, **fields: Any) -> None:
        status.write(json.dumps({"event": event, **fields}) + "\n")

    sandbox_on = [False]
    try:
        return run_program(job, say, sandbox_on, status)
    except BaseException as exc:  # noqa: BLE001  (everything: an exception must never reach the interpreter)
        try:
            status.write(json.dumps(protocol.exception_event(exc, sandbox_on[0])) + "\n")
        finally:
            os._exit(protocol.EXCEPTION_EXIT)


def preload_runtime(runtime: str, library: str) -> str | None:
    """On the GPU runtime, for a program that depends on the shared CUDA runtime (nvcc's `-cudart shared` build),
    the runtime library the harness uses, loaded globally as the kernel child does: the program's `libcudart.so.N`
    dependency binds to it instead of depending on the loader's search path. Its path, or None where nothing was
    loaded (the CPU runtime, whose shim would otherwise be shadowed by the real runtime's symbols)."""
    if runtime != "gpu":
        return None
    # local import: the GPU runtime's only; the GPU API loads numpy, which the CPU-runtime program child never needs
    from ..source.static_check import needed_libraries
    from ..timing.gpu_api import load_cudart

    if not any(name.startswith("libcudart.so") for name in needed_libraries(library)):
        return None

    return str(getattr(load_cudart(), "_name", "libcudart"))


def run_program(job: ProgramJob, say: Say, sandbox_on: list[bool], status: TextIO) -> int:
    # Everything imported now: once Landlock is on, the package's own files cannot be opened.
    # local import: the cpu_runtime package loads its build chain and numpy, which the child's start does without
    from ..execution.cpu_runtime.progress import report_progress

    libc = ctypes.CDLL(None)
    libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL: a harness that dies takes its program along

    limit_resources(job["address_space"] or None, job["cpu_seconds"] or None)
    if job["max_file_bytes"]:  # a program printing or writing without end must not fill the disk
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (job["max_file_bytes"], job["max_file_bytes"]))
    cudart = preload_runtime(job["runtime"], job["library"])
    if cudart:
        say(ProgramEvent.CUDART, path=cudart)
    lib = ctypes.CDLL(job["library"], mode=ctypes.RTLD_LOCAL)
    entry = getattr(lib, job["entry"])  # cudabench_program_main (CPU runtime) or the renamed main (nvcc)
    entry.restype = ctypes.c_int
    entry.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
    cpu_runtime = job["runtime"] == "cpu" and hasattr(lib, "cudabench_cpu_configure")
    racecheck = None
    if cpu_runtime and hasattr(lib, "cudabench_cpu_schedule"):  # the GPU schedules its threads itself
        lib.cudabench_cpu_schedule.argtypes = [ctypes.c_int, ctypes.c_ulonglong]
        lib.cudabench_cpu_schedule(job["thread_order"], job["order_seed"])
        wanted = job["racecheck"]
        racecheck = wanted and bool(lib.cudabench_cpu_racecheck(int(wanted)))  # 0: a build without the hooks
    libc.exit.argtypes = [ctypes.c_int]
    scratch = job["scratch"]
    os.chdir(scratch)
    sandbox_on[0] = job["landlock"] or job["seccomp"]
    landlock_abi = None
    if job["landlock"]:
        try:
            landlock_abi = landlock.restrict([scratch], job["read_only"], job["devices"])
        except OSError as exc:
            say(ProgramEvent.LANDLOCK, abi=0, message=str(exc))
    if landlock_abi:
        say(ProgramEvent.LANDLOCK, abi=landlock_abi)
    if cpu_runtime:
        # The runtime's worker threads run the kernels: started now, inside the Landlock domain (which binds the
        # threads a thread starts after it restricts itself), and before seccomp, which would allow them anyway.
        lib.cudabench_cpu_configure.argtypes = [ctypes.c_int, ctypes.c_ulonglong]
        lib.cudabench_cpu_configure(job["workers"], job["memory_cap"])
        report_progress(lib, status.fileno())  # is a program killed at the limit slow or hung? (progress.py)
        if job["knockout"]:  # every kernel launch a no-op (evaluation.py's knockout run)
            lib.cudabench_cpu_knockout(1)
    if job["seccomp"] and seccomp_available():
        install_seccomp(allow_files=True)  # file access is Landlock's to confine
        say(ProgramEvent.SECCOMP)
    if cpu_runtime and hasattr(lib, "cudabench_cpu_protect"):
        lib.cudabench_cpu_protect(1)  # host code cannot touch device memory, as on a GPU
    say(ProgramEvent.READY, racecheck=racecheck)
    args = (ctypes.c_char_p * 2)(b"program", None)
    rc = entry(1, args)
    error = None
    if cpu_runtime and hasattr(lib, "cudabench_cpu_error"):
        lib.cudabench_cpu_error.restype = ctypes.c_char_p
        message = lib.cudabench_cpu_error()
        error = message.decode(errors="replace") if message else None
    say(ProgramEvent.RETURNED, rc=rc, error=error)
    status.close()
    libc.exit(rc & 0xFF)  # C exit: flushes the program's stdio and runs its atexit handlers
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
