"""The sandboxed child that runs an answer program built as a library:
`python -m pytest_cudabench.cudabench_set.program_child JOB_JSON STATUS_FD`.

It loads the library, then confines itself (resource limits; Landlock: read and write only in the scratch
directory, read the few system paths the runtime needs; seccomp: no exec, fork, network, ptrace or signals),
changes into the scratch directory and calls `cudabench_program_main(1, ["program"])`; on the CPU runtime, first in
the job's thread order with racecheck on or off (cudabench_cpu_schedule, cudabench_cpu_racecheck). Calling the program in
this process, instead of exec'ing it, is what lets exec stay forbidden. The program's exit code (its return from
main, or exit()) becomes this process's; status lines on STATUS_FD say how far it got. Nothing here judges.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys


def main(argv: list[str]) -> int:
    job = json.loads(argv[0])
    status = os.fdopen(int(argv[1]), "w", buffering=1)

    def say(**message) -> None:
        status.write(json.dumps(message) + "\n")

    from ..execution.sandbox import install_seccomp, limit_resources, seccomp_available

    libc = ctypes.CDLL(None)
    libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL: a harness that dies takes its program along

    limit_resources(job.get("address_space") or None, job.get("cpu_seconds") or None)
    if job.get("max_file_bytes"):  # a program printing or writing without end must not fill the disk
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (job["max_file_bytes"], job["max_file_bytes"]))
    lib = ctypes.CDLL(job["library"], mode=ctypes.RTLD_LOCAL)
    entry = getattr(lib, job["entry"])  # cudabench_program_main (CPU runtime) or the renamed main (nvcc)
    entry.restype = ctypes.c_int
    entry.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
    if job["runtime"] == "cpu" and hasattr(lib, "cudabench_cpu_configure"):
        lib.cudabench_cpu_configure.argtypes = [ctypes.c_int, ctypes.c_ulonglong]
        lib.cudabench_cpu_configure(int(job["workers"]), int(job["memory_cap"]))
        from ..execution.cpu_runtime.progress import report_progress

        report_progress(lib, int(argv[1]))  # is a program killed at the limit slow or hung? (progress.py)
        if job.get("knockout"):  # every kernel launch a no-op (evaluation.py's knockout run)
            lib.cudabench_cpu_knockout(1)
    racecheck = None
    if job["runtime"] == "cpu" and hasattr(lib, "cudabench_cpu_schedule"):  # the GPU schedules its threads itself
        lib.cudabench_cpu_schedule.argtypes = [ctypes.c_int, ctypes.c_ulonglong]
        lib.cudabench_cpu_schedule(int(job.get("thread_order", 0)), int(job.get("order_seed", 0)))
        wanted = bool(job.get("racecheck"))
        racecheck = wanted and bool(lib.cudabench_cpu_racecheck(int(wanted)))  # 0: a build without the hooks
    libc.exit.argtypes = [ctypes.c_int]
    scratch = job["scratch"]
    os.chdir(scratch)
    landlock = None
    if job.get("landlock", True):
        from ..execution import landlock as ll

        try:
            landlock = ll.restrict([scratch], job.get("read_only", []))
        except OSError as exc:
            say(event="landlock", abi=0, message=str(exc))
    if landlock:
        say(event="landlock", abi=landlock)
    if job.get("seccomp", True) and seccomp_available():
        install_seccomp(allow_files=True)  # file access is Landlock's to confine
        say(event="seccomp")
    if job["runtime"] == "cpu" and hasattr(lib, "cudabench_cpu_protect"):
        lib.cudabench_cpu_protect(1)  # host code cannot touch device memory, as on a GPU
    say(event="ready", racecheck=racecheck)
    args = (ctypes.c_char_p * 2)(b"program", None)
    rc = entry(1, args)
    error = None
    if job["runtime"] == "cpu" and hasattr(lib, "cudabench_cpu_error"):
        lib.cudabench_cpu_error.restype = ctypes.c_char_p
        message = lib.cudabench_cpu_error()
        error = message.decode(errors="replace") if message else None
    say(event="returned", rc=rc, error=error)
    status.close()
    libc.exit(rc & 0xFF)  # C exit: flushes the program's stdio and runs its atexit handlers
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
