"""Is a program the CPU runtime ran out of time on slow, or hung?

The CPU runtime runs kernels ~1000x slower than a GPU; host code runs at its own speed. A correct program past the
time limit must not fail for the runtime's slowness, while one that hangs (spinning on a flag, a kernel waiting for
what never comes) must. Progress, concretely: the runtime's work counter (cudabench_cpu_progress: CUDA threads
finished plus block barriers passed) went up within the last progress_window_s(limit) seconds before the kill. The child
samples it every SAMPLE_S on the status channel (report_progress); the parent reads the samples' kernel timestamps
(last_progress). A program stuck in host code, or in a kernel whose threads neither finish nor pass a barrier, has
none.
"""

from __future__ import annotations

import ctypes
import json
import os
import threading
import time
from typing import Any

PROGRESS_EVENT = "progress"
SAMPLE_S = 0.25


def progress_window_s(timeout_s: float) -> float:
    """How recent the last progress must be at the kill: a quarter of the limit, between 1 and 10 seconds (four
    samples at least)."""
    return max(4 * SAMPLE_S, min(10.0, timeout_s / 4))


def report_progress(lib: Any, status_fd: int) -> None:
    """In the child: a daemon thread that writes {"event": "progress", "work": N} to the status channel whenever
    the CPU runtime's work counter changed since its last sample. No-op for a library without the counter (nvcc's)."""
    counter = getattr(lib, "cudabench_cpu_progress", None)
    if counter is None:
        return
    counter.restype = ctypes.c_ulonglong
    counter.argtypes = []

    def sample() -> None:
        last = 0
        while True:
            time.sleep(SAMPLE_S)
            work = int(counter())
            if work != last:
                last = work
                try:  # one write, one message on the channel: never interleaved with the main thread's lines
                    os.write(status_fd, json.dumps({"event": PROGRESS_EVENT, "work": work}).encode() + b"\n")
                except OSError:
                    return

    threading.Thread(target=sample, name="cudabench-progress", daemon=True).start()


def last_progress(events: list[dict], ended_s: float) -> tuple[int | None, float | None]:
    """(work counted, seconds from the last increase to `ended_s`), from the child's progress events (the channel's
    kernel timestamps, CLOCK_REALTIME); (None, None) when there were none."""
    marks = [e for e in events if e.get("event") == PROGRESS_EVENT and isinstance(e.get("work"), int)]
    if not marks:
        return None, None
    return marks[-1]["work"], max(0.0, ended_s - float(marks[-1]["received_s"]))
