"""Compile ahead: the answers of the items a worker runs next are extracted, static-checked and compiled (nvcc, and
on the CPU runtime the g++ build against the shim) in a small thread pool on the worker's spare cores, while the
current item runs. The compiler's work then leaves the GPU's critical path. Knows nothing of pytest.

Nothing here judges or records anything: the pool only warms the caches the items use anyway (the compile cache of
source/compiler.py, the CPU build cache of execution/supervisor.py), and an item whose build is in flight waits for it
instead of building twice (source/build_handover.py):

- nvcc: the pool's outcome for a compile key (the CompileResult, or a definite StageFailure) is handed to the first
  item that compiles that key, exactly as compile_library would have returned it to that item (`cached` included),
  so verdicts and reports are the same with and without compile-ahead. A failure without a cached verdict (nvcc's
  timeout, maybe the load) is not handed over: the item compiles again itself.
- g++ (CPU runtime): builds of one key are serialized; the item then finds the library cached. A failed ahead build
  leaves the item to build and fail as it would have.

`close` stops the pool: queued answers are dropped, builds in flight finish (so their scratch directories are
removed) and the threads are joined.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .errors import StageFailure
from .execution import runner, supervisor
from .pipeline import compile_settings
from .source import build_handover, compiler, static_check
from .source.extract import extract_source
from .tasks.loader import Task


@dataclass(frozen=True)
class AheadItem:
    """An item to compile ahead: its identity (unique per item), its task, and its answer without waiting:
    `answer()` gives the text, or None while the model has not answered yet."""

    key: str
    task: Task
    answer: Callable[[], str | None]


def cores_per_worker() -> int:
    """The CPU cores this process may use, shared with the other xdist workers of the machine."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    return max(1, cores // max(1, workers))


def default_depth() -> int:
    """Answers compiled ahead per worker by default: two per spare core, so a core never waits for the next one;
    at least two (a worker with one core still overlaps its compiler with its child's I/O and waits)."""
    return max(2, 2 * (cores_per_worker() - 1))


def pool_threads(depth: int) -> int:
    """Compilers at once: the worker's spare cores (its current item runs on one), at least one."""
    return max(1, min(depth, cores_per_worker() - 1))


class CompileAhead:
    """The pool of one process. `offer(upcoming)` is called as each item starts, with the items this process runs
    next in order: the first `depth` not yet taken are queued, in that order. One whose answer is not there yet is
    offered again with the next item."""

    def __init__(self, settings: Settings, depth: int):
        self.settings = settings
        self.depth = depth
        self._lock = threading.Lock()
        self._queued: set[str] = set()
        self._closed = threading.Event()
        self._executor = cf.ThreadPoolExecutor(max_workers=pool_threads(depth),
                                               thread_name_prefix="cudabench-compile-ahead")
        build_handover.activate()

    def offer(self, upcoming: list[AheadItem]) -> None:
        with self._lock:
            if self._closed.is_set():
                return
            for item in upcoming[:self.depth]:
                if item.key not in self._queued:
                    self._queued.add(item.key)
                    self._executor.submit(self._prepare, item)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor.shutdown(wait=True)
        build_handover.deactivate()

    def _prepare(self, item: AheadItem) -> None:
        """Extract, static check and compile one answer; any failure just leaves the work to its item."""
        if self._closed.is_set():
            return
        try:
            answer = item.answer()
        except Exception:  # no answer to be had (a replay file without it): the item says so itself
            return
        if answer is None:
            with self._lock:
                self._queued.discard(item.key)
            return
        try:
            source = extract_source(answer)
            static_check.check_source(source, item.task.libraries)
            arch, extra_flags = compile_settings(item.task, self.settings)
            key = compiler.compile_key(source, arch, extra_flags)
        except Exception:  # the item's own extract or static-check stage fails the same way
            return
        outcome = build_handover.claim(key)
        if outcome is None or self._closed.is_set():
            if outcome is not None:
                outcome.set_result(None)
            return
        try:
            with build_handover.building_ahead():
                build = compiler.compile_library(source, cache_dir=self.settings.cache_path, arch=arch,
                                                 extra_flags=extra_flags)
        except StageFailure as exc:
            outcome.set_result(exc if compiler.has_cached_verdict(self.settings.cache_path, key) else None)
            return
        except BaseException:
            outcome.set_result(None)
            return
        outcome.set_result(build)
        if not self._closed.is_set():
            self._build_for_cpu_runtime(source, Path(build.library), arch)

    def _build_for_cpu_runtime(self, source: str, library: Path, arch: str) -> None:
        try:
            if runner.choose_runtime(self.settings.runtime, self.settings.gpu_api) == "cpu":
                supervisor.build_for_runtime("cpu", source, library, self.settings.cache_path, self.settings.sanitize,
                                         arch)  # the execute stage's key: its launch limits are the arch's
        except Exception:  # the item's execute stage builds it again and reports what failed
            pass
