"""Timing a GPU launch with CUDA events, cross-checked by host wall-clock, cold L2, noise-based stopping.

Runs inside the isolated child process that owns the GPU. Importing this module touches no GPU: the GPU API
(gpu_api.py) starts only when a `GpuEventBackend`'s API is opened.

The loop is written against a small backend interface (`record`, `flush`, `synchronize`, `elapsed_s`, `now`,
`l2_bytes`) so that its logic can be tested without a GPU; `GpuEventBackend` is the thin real one.

One sample, all enqueued on the legacy default stream without waiting in between:

    t0 = host clock; record(E0); flush L2 (memset of a scratch buffer); record(E1); launch(); record(E2);
    device-wide synchronize; t1 = host clock

- events: E1 -> E2, the launch alone. The memset keeps the GPU busy while the host issues the launch, so the
  host's launch cost stays out of the event time (it would be inside it if we synchronised after the flush).
- wall: (t1 - t0) - (E0 -> E1) - fixed overhead, where the overhead is the median of the same sequence with no
  launch. It waits for all device work, so work the launch hides on other streams shows up here and not in the
  events; a large gap between the two is flagged.

Context: the GPU API makes the device's primary context current, which the answer's runtime uses too; the
launch must go to the legacy default stream (stream 0 of an answer built without per-thread default streams).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from ..errors import CudaError  # noqa: F401  (its old import path; gpu_api raises it)
from .gpu_api import ATTR_L2_CACHE_SIZE, GpuApi, open_gpu_api
from .gpus import throttled
from .policy import DEFAULT_POLICY, MeasurementPolicy
from .stats import StoppingRule, relative_difference, summarize

FLAG_REL = 0.5  # events and wall disagree by more than this fraction of the larger ...
FLAG_ABS_S = 20e-6  # ... and by more than this much time (host jitter on tiny kernels is not a finding)


class TimingBackend(Protocol):
    def l2_bytes(self) -> int: ...
    def prepare(self, flush_bytes: int) -> None: ...
    def record(self, slot: int) -> None: ...
    def flush(self, value: int) -> None: ...
    def synchronize(self) -> None: ...
    def elapsed_s(self, start: int, end: int) -> float: ...
    def now(self) -> float: ...
    def close(self) -> None: ...


def _sample(backend: TimingBackend, launch: Callable[[], None] | None, flush: bool, index: int,
            prepare: Callable[[], None] | None = None) -> tuple[float, float]:
    """One timed sequence; returns (event seconds of the launch, wall seconds minus the flush's device time).
    `prepare` (resetting the next call's output buffers) runs between E0 and E1 with the flush, so neither clock
    counts it; warm-up, empty and timed sequences all run it, so no call can tell which kind it is."""
    reset_l2 = getattr(backend, "reset_persisting_l2", None)
    if reset_l2 is not None:
        reset_l2()  # lines an access-policy window made persistent would survive the flush
    t0 = backend.now()
    backend.record(0)
    if prepare is not None:
        prepare()
    if flush:
        backend.flush(index & 0xFF)  # a changing byte value so no layer can treat the memset as redundant
    backend.record(1)
    if launch is not None:
        launch()
    backend.record(2)
    backend.synchronize()
    t1 = backend.now()
    return backend.elapsed_s(1, 2), (t1 - t0) - backend.elapsed_s(0, 1)


def time_callable(
    launch: Callable[[], None],
    *,
    policy: MeasurementPolicy = DEFAULT_POLICY,
    flush_bytes: int | None = None,
    rule: StoppingRule | None = None,
    warmup_s: float | None = None,
    backend: TimingBackend | None = None,
    monitor: Callable[[], dict | None] | None = None,
    flag_rel: float = FLAG_REL,
    flag_abs_s: float = FLAG_ABS_S,
    prepare: Callable[[], None] | None = None,
    after_sample: Callable[[int], None] | None = None,
) -> dict:
    """Time `launch` (which must only enqueue GPU work; inputs already on the device) until `rule` is done.

    policy: warm-up, L2 flush, empty samples and (unless `rule` is given) the stopping rule, capped at the policy's
    `scale_cap_s(1)`; `flush_bytes` and `warmup_s` override the policy's (flush_bytes 0 = no flush, hot cache).
    monitor: returns a GPU state snapshot (e.g. `gpus.gpu_info`), called before and after to detect throttling.
    prepare: run before every launch outside both clocks (see `_sample`); after_sample(i): run after timed sample i
    (outside its measurement and its cost), e.g. to keep that call's outputs for checking.

    Returns {"events": rule.summary(), "wall": stats.summarize(wall samples), "cold_cache": bool, "flush_bytes",
    "overhead_s", "warmup_s", "warmup_calls", "disagreement" (relative_difference of the two medians),
    "throttle" (str|None), "flagged" (bool), "flag_reasons" (list of str), "calls" (launches, warm-up included),
    "loop_s" (the whole loop on this process's clock, for the parent's own clock to check), "after_sample_s" (time
    spent in after_sample), "l2_persistence" (what the backend saw of persisting-L2 settings, or None)}.
    """
    rule = rule or StoppingRule.of(policy, policy.scale_cap_s(1))
    warmup_s = policy.warmup_s if warmup_s is None else warmup_s
    own_backend = backend is None
    backend = backend or GpuEventBackend(open_gpu_api())
    try:
        if flush_bytes is None:
            flush_bytes = policy.flush_bytes(backend.l2_bytes())
        flush = flush_bytes > 0
        backend.prepare(flush_bytes)
        before = monitor() if monitor else None

        start, calls = backend.now(), 0
        while True:
            _sample(backend, launch, flush, calls, prepare)
            calls += 1
            if backend.now() - start >= warmup_s:
                break
        warmed = backend.now() - start

        empties = sorted(_sample(backend, None, flush, i, prepare)[1] for i in range(policy.empty_samples))
        overhead = empties[len(empties) // 2]

        walls = []
        i = 0
        after_sample_s = 0.0
        while not rule.done:
            t_start = backend.now()
            ev, wall = _sample(backend, launch, flush, i, prepare)
            walls.append(max(wall - overhead, 0.0))
            rule.add(ev, cost_s=backend.now() - t_start)
            if after_sample is not None:
                t_after = backend.now()
                after_sample(i)
                after_sample_s += backend.now() - t_after
            i += 1
        loop_s = backend.now() - start
        l2_state = getattr(backend, "l2_persistence", None)
        l2_persistence = l2_state() if l2_state is not None else None
        after = monitor() if monitor else None
    finally:
        if own_backend:
            backend.close()

    events = rule.summary()
    wall_summary = summarize(walls)
    ev_med, wall_med = events["median_s"] or 0.0, wall_summary["median_s"] or 0.0
    disagreement = relative_difference(ev_med, wall_med)
    reasons = []
    if disagreement > flag_rel and abs(wall_med - ev_med) > flag_abs_s:
        reasons.append(
            f"events median {ev_med:.3e} s vs wall median {wall_med:.3e} s: work outside the timed stream?"
        )
    throttle = None
    if monitor:
        throttle = throttled(before, after)
        if throttle:
            reasons.append(f"throttled: {throttle}")
    return {
        "events": events,
        "wall": wall_summary,
        "cold_cache": flush,
        "flush_bytes": flush_bytes,
        "overhead_s": overhead,
        "warmup_s": warmed,
        "warmup_calls": calls,
        "disagreement": disagreement,
        "throttle": throttle,
        "flagged": bool(reasons),
        "flag_reasons": reasons,
        "calls": calls + len(walls),
        "loop_s": loop_s,
        "after_sample_s": after_sample_s,
        "l2_persistence": l2_persistence,
    }


class HostClockBackend:
    """The time stage's plumbing without a GPU: the host clock instead of events, no cache to flush. Its numbers are
    CPU runtime times and never scored; tests use it (MeasurementPolicy(timer="host")) to run the stage end to end."""

    def __init__(self) -> None:
        self.marks = [0.0, 0.0, 0.0]

    def l2_bytes(self) -> int:
        return 0

    def prepare(self, flush_bytes: int) -> None:
        pass

    def record(self, slot: int) -> None:
        self.marks[slot] = time.perf_counter()

    def flush(self, value: int) -> None:
        pass

    def synchronize(self) -> None:
        pass

    def elapsed_s(self, start: int, end: int) -> float:
        return self.marks[end] - self.marks[start]

    @staticmethod
    def now() -> float:
        return time.perf_counter()

    def close(self) -> None:
        pass


class GpuEventBackend:
    """Events, L2 flush and device sync through the GPU API (gpu_api.py), on the legacy default stream."""

    NUM_EVENTS = 3

    def __init__(self, api: GpuApi):
        self.api = api
        self.device = api.device
        self.events: list[Any] = []
        self.scratch = 0
        self.scratch_bytes = 0
        self.l2_reset = True

    def attribute(self, attr: int) -> int:
        return self.api.attribute(attr)

    def l2_bytes(self) -> int:
        return self.api.attribute(ATTR_L2_CACHE_SIZE)

    def prepare(self, flush_bytes: int) -> None:
        while len(self.events) < self.NUM_EVENTS:
            self.events.append(self.api.event_create())
        if flush_bytes > self.scratch_bytes:
            self._free_scratch()
            self.scratch = self.api.alloc(flush_bytes)
            self.scratch_bytes = flush_bytes

    def record(self, slot: int) -> None:
        self.api.event_record(self.events[slot])

    def flush(self, value: int) -> None:
        self.api.memset_async(self.scratch, value, self.scratch_bytes)

    def reset_persisting_l2(self) -> None:
        """Lines an access-policy window marked persisting would survive the flush: back to normal before each
        sample. A device without persisting L2 refuses once (not the answer's fault) and is not asked again."""
        if self.l2_reset:
            self.l2_reset = self.api.reset_persisting_l2()

    def l2_persistence(self) -> dict:
        """What the answer left set: the persisting-L2 carve-out and the legacy default stream's access-policy
        window size (0 = none); None where the driver refuses the query."""
        return {"reset_each_sample": self.l2_reset, "persisting_limit_bytes": self.api.persisting_l2_limit(),
                "access_policy_window_bytes": self.api.access_policy_window_bytes()}

    def synchronize(self) -> None:
        self.api.synchronize()

    def elapsed_s(self, start: int, end: int) -> float:
        return self.api.event_elapsed_s(self.events[start], self.events[end])

    @staticmethod
    def now() -> float:
        return time.perf_counter()

    def _free_scratch(self) -> None:
        if self.scratch:
            self.api.free(self.scratch)
        self.scratch = 0
        self.scratch_bytes = 0

    def close(self) -> None:
        self._free_scratch()
        for event in self.events:
            self.api.event_destroy(event)
        self.events = []
