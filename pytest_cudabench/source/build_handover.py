"""Builds run ahead of their items (compile_ahead.py) handed to the items, within one process.

The pool registers a compile key before building it (`claim`) and posts its outcome; the item that compiles that key
first takes the outcome (`take`, waiting while the build is in flight) instead of building a second time. A key an
item compiled itself is never claimed afterwards. `build_lock` serializes the CPU runtime's builds of one key.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_claimed: set[str] = set()  # compile keys built, or being built, in this process while a pool is active
_outcomes: dict[str, cf.Future] = {}  # compile key -> the pool's outcome, until an item takes it
_active = False
_build_locks: dict[str, threading.Lock] = {}
_local = threading.local()  # .ahead: this thread is the pool's, building ahead (it never takes a hand-over)


def activate() -> None:
    """A pool starts: keys are claimed and handed over from now on."""
    global _active
    with _lock:
        _active = True


def deactivate() -> None:
    """The pool stopped: nothing more is handed over (outcomes not taken are dropped)."""
    global _active
    with _lock:
        _active = False
        _claimed.clear()
        _outcomes.clear()


def claim(key: str) -> cf.Future | None:
    """For the pool: a future to post the outcome of building `key` on, or None when the key is taken already."""
    with _lock:
        if not _active or key in _claimed:
            return None
        _claimed.add(key)
        future: cf.Future = cf.Future()
        future.set_running_or_notify_cancel()
        _outcomes[key] = future
        return future


def in_flight(key: str) -> bool:
    """Whether the pool is building `key` and no item has taken its outcome yet."""
    with _lock:
        future = _outcomes.get(key)
    return future is not None and not future.done()


@contextmanager
def building_ahead() -> Iterator[None]:
    """Marks the pool's own build: its compile_library call must not wait for the outcome it is to post."""
    _local.ahead = True
    try:
        yield
    finally:
        _local.ahead = False


def take(key: str) -> Any:
    """For the item compiling `key`: the pool's outcome, waiting while it is in flight (a CompileResult, a
    StageFailure to raise, or None: compile it yourself)."""
    if getattr(_local, "ahead", False):
        return None
    with _lock:
        if not _active:
            return None
        future = _outcomes.pop(key, None)
        _claimed.add(key)
    return future.result() if future is not None else None


@contextmanager
def build_lock(key: str) -> Iterator[None]:
    """Serializes the builds of one cache key within this process (an item waits for the pool's build of its
    answer instead of building it a second time)."""
    with _lock:
        lock = _build_locks.setdefault(key, threading.Lock())
    with lock:
        yield
