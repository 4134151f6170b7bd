"""Timing a GPU launch with CUDA events, cross-checked by host wall-clock, cold L2, noise-based stopping.

Runs inside the isolated child process that owns the GPU. Importing this module touches no GPU: the CUDA runtime
(libcudart) is loaded through ctypes only when a `CudaRuntimeBackend` is created.

The loop is written against a small backend interface (`record`, `flush`, `synchronize`, `elapsed_s`, `now`,
`l2_bytes`) so that its logic can be tested without a GPU; `CudaRuntimeBackend` is the thin real one.

One sample, all enqueued on the legacy default stream without waiting in between:

    t0 = host clock; record(E0); flush L2 (memset of a scratch buffer); record(E1); launch(); record(E2);
    device-wide synchronize; t1 = host clock

- events: E1 -> E2, the launch alone. The memset keeps the GPU busy while the host issues the launch, so the
  host's launch cost stays out of the event time (it would be inside it if we synchronised after the flush).
- wall: (t1 - t0) - (E0 -> E1) - fixed overhead, where the overhead is the median of the same sequence with no
  launch. It waits for all device work, so work the launch hides on other streams shows up here and not in the
  events; a large gap between the two is flagged.

Context: the runtime API works on the context current in the calling thread (the primary context if none is), so
the launch must run in that context on the legacy default stream: with pycuda, import `pycuda.autoprimaryctx`
(or keep pycuda's context current) and launch with stream=None.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..errors import CudaError
from .policy import DEFAULT_POLICY, MeasurementPolicy
from .stats import StoppingRule, relative_difference, summarize

CUDA_DEV_ATTR_L2_CACHE_SIZE = 38  # cudaDevAttrL2CacheSize in driver_types.h
CUDA_DEV_ATTR_MULTIPROCESSOR_COUNT = 16
CUDA_LIMIT_PERSISTING_L2_CACHE_SIZE = 0x06  # cudaLimitPersistingL2CacheSize (enum cudaLimit)
CUDA_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW = 1  # cudaStreamAttributeAccessPolicyWindow (cudaLaunchAttributeID)
STREAM_ATTR_VALUE_WORDS = 8  # cudaStreamAttrValue is a union padded to 64 bytes: 8 aligned 64-bit words
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
    backend = backend or CudaRuntimeBackend()
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
        from .gpus import throttled

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


# ---------------------------------------------------------------- real backend: CUDA runtime via ctypes


_CUDART_NAMES = ("libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0")
_cudart: ctypes.CDLL | None = None


def _cudart_candidates() -> list[str]:
    """The runtime of the toolkit whose nvcc compiles the answers first: their `libcudart.so.N` dependency then
    resolves to this already-loaded instance, wherever the toolkit lives (no rpath, no LD_LIBRARY_PATH needed)."""
    roots = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH")]
    try:
        from ..source.compiler import find_nvcc

        roots.append(str(find_nvcc().resolve().parent.parent))
    except Exception:  # no toolkit here: the system's runtime, if any
        pass
    try:
        import nvidia.cuda_runtime  # type: ignore[import-not-found]  # the wheel beside nvidia-cuda-nvcc

        roots += list(nvidia.cuda_runtime.__path__)
    except ImportError:
        pass
    out = []
    for root in [*roots, "/usr/local/cuda"]:
        if root:
            out += [str(Path(root) / lib / n) for lib in ("lib64", "lib") for n in _CUDART_NAMES]
    found = ctypes.util.find_library("cudart")
    if found:
        out.append(found)
    return out + list(_CUDART_NAMES)


def load_cudart() -> ctypes.CDLL:
    """The CUDA runtime library, loaded once with RTLD_GLOBAL so that kernel libraries built with
    `-cudart shared` bind to this same instance (one runtime, one view of the context and streams)."""
    global _cudart
    if _cudart is None:
        errors = []
        for cand in _cudart_candidates():
            if "/" in cand and not Path(cand).exists():
                continue
            try:
                _cudart = ctypes.CDLL(cand, mode=ctypes.RTLD_GLOBAL)
                break
            except OSError as exc:
                errors.append(f"{cand}: {exc}")
        else:
            raise CudaError("cannot load libcudart: " + "; ".join(errors[-3:]))
        _declare(_cudart)
    return _cudart


def _declare(rt: ctypes.CDLL) -> None:
    vp, i, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    sigs = {
        "cudaGetErrorString": ([i], ctypes.c_char_p),
        "cudaGetDevice": ([ctypes.POINTER(i)], i),
        "cudaSetDevice": ([i], i),
        "cudaDeviceGetAttribute": ([ctypes.POINTER(i), i, i], i),
        "cudaMalloc": ([ctypes.POINTER(vp), sz], i),
        "cudaFree": ([vp], i),
        "cudaMemsetAsync": ([vp, i, sz, vp], i),
        "cudaMemGetInfo": ([ctypes.POINTER(sz), ctypes.POINTER(sz)], i),
        "cudaEventCreate": ([ctypes.POINTER(vp)], i),
        "cudaEventDestroy": ([vp], i),
        "cudaEventRecord": ([vp, vp], i),
        "cudaEventSynchronize": ([vp], i),
        "cudaEventElapsedTime": ([ctypes.POINTER(ctypes.c_float), vp, vp], i),
        "cudaDeviceSynchronize": ([], i),
        "cudaDriverGetVersion": ([ctypes.POINTER(i)], i),
        "cudaGetLastError": ([], i),
        "cudaGetErrorName": ([i], ctypes.c_char_p),
        "cudaProfilerStart": ([], i),
        "cudaMemcpyAsync": ([vp, vp, sz, i, vp], i),
        "cudaDeviceGetLimit": ([ctypes.POINTER(sz), i], i),
        "cudaDeviceSetLimit": ([i, sz], i),
        "cudaProfilerStop": ([], i),
    }
    for name, (args, res) in sigs.items():
        fn = getattr(rt, name)
        fn.argtypes, fn.restype = args, res
    # Persisting-L2 controls (CUDA 11+): looked up on their own, so a runtime without them still times.
    optional = {
        "cudaCtxResetPersistingL2Cache": ([], i),
        "cudaStreamGetAttribute": ([vp, i, vp], i),
    }
    for name, (args, res) in optional.items():
        fn = getattr(rt, name, None)
        if fn is not None:
            fn.argtypes, fn.restype = args, res


def check(code: int, what: str = "") -> None:
    if code != 0:
        msg = load_cudart().cudaGetErrorString(code)
        raise CudaError(f"{what or 'CUDA call'} failed: {code} {msg.decode() if msg else ''}".strip())


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


class CudaRuntimeBackend:
    """Events, L2 flush and device sync through libcudart, on the legacy default stream (handle 0).

    device: if given, cudaSetDevice(device) first (that makes the device's primary context current, replacing a
    context pycuda may have pushed); if None, whatever context is current is used."""

    NUM_EVENTS = 3

    def __init__(self, device: int | None = None):
        self.rt = load_cudart()
        if device is not None:
            check(self.rt.cudaSetDevice(device), "cudaSetDevice")
        dev = ctypes.c_int()
        check(self.rt.cudaGetDevice(ctypes.byref(dev)), "cudaGetDevice")
        self.device = dev.value
        self.events: list[ctypes.c_void_p] = []
        self.scratch = ctypes.c_void_p()
        self.scratch_bytes = 0
        self.l2_reset = getattr(self.rt, "cudaCtxResetPersistingL2Cache", None) is not None

    def attribute(self, attr: int) -> int:
        v = ctypes.c_int()
        check(self.rt.cudaDeviceGetAttribute(ctypes.byref(v), attr, self.device), "cudaDeviceGetAttribute")
        return v.value

    def l2_bytes(self) -> int:
        return self.attribute(CUDA_DEV_ATTR_L2_CACHE_SIZE)

    def prepare(self, flush_bytes: int) -> None:
        while len(self.events) < self.NUM_EVENTS:
            ev = ctypes.c_void_p()
            check(self.rt.cudaEventCreate(ctypes.byref(ev)), "cudaEventCreate")
            self.events.append(ev)
        if flush_bytes > self.scratch_bytes:
            self._free_scratch()
            check(self.rt.cudaMalloc(ctypes.byref(self.scratch), ctypes.c_size_t(flush_bytes)), "cudaMalloc")
            self.scratch_bytes = flush_bytes

    def record(self, slot: int) -> None:
        check(self.rt.cudaEventRecord(self.events[slot], None), "cudaEventRecord")

    def flush(self, value: int) -> None:
        check(self.rt.cudaMemsetAsync(self.scratch, value, ctypes.c_size_t(self.scratch_bytes), None), "memset")

    def reset_persisting_l2(self) -> None:
        """Lines an access-policy window marked persisting would survive the flush: back to normal before each
        sample. A device without persisting L2 refuses once (the error is cleared, so the answer is not blamed for
        it) and is not asked again."""
        if not self.l2_reset:
            return
        if self.rt.cudaCtxResetPersistingL2Cache() != 0:
            self.rt.cudaGetLastError()
            self.l2_reset = False

    def l2_persistence(self) -> dict:
        """What the answer left set: the persisting-L2 carve-out (cudaLimitPersistingL2CacheSize) and the legacy
        default stream's access-policy window size (0 = none). A query the runtime refuses gives None, its error
        cleared."""
        state: dict = {"reset_each_sample": self.l2_reset, "persisting_limit_bytes": None,
                       "access_policy_window_bytes": None}
        limit = ctypes.c_size_t()
        if self.rt.cudaDeviceGetLimit(ctypes.byref(limit), CUDA_LIMIT_PERSISTING_L2_CACHE_SIZE) == 0:
            state["persisting_limit_bytes"] = int(limit.value)
        else:
            self.rt.cudaGetLastError()
        get_attribute = getattr(self.rt, "cudaStreamGetAttribute", None)
        if get_attribute is not None:
            value = (ctypes.c_uint64 * STREAM_ATTR_VALUE_WORDS)()
            if get_attribute(None, CUDA_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW, ctypes.addressof(value)) == 0:
                state["access_policy_window_bytes"] = int(value[1])  # {void* base_ptr; size_t num_bytes; ...}
            else:
                self.rt.cudaGetLastError()
        return state

    def synchronize(self) -> None:
        check(self.rt.cudaDeviceSynchronize(), "cudaDeviceSynchronize")

    def elapsed_s(self, start: int, end: int) -> float:
        ms = ctypes.c_float()
        check(self.rt.cudaEventElapsedTime(ctypes.byref(ms), self.events[start], self.events[end]), "elapsed")
        return ms.value * 1e-3

    @staticmethod
    def now() -> float:
        return time.perf_counter()

    def _free_scratch(self) -> None:
        if self.scratch.value:
            self.rt.cudaFree(self.scratch)
        self.scratch = ctypes.c_void_p()
        self.scratch_bytes = 0

    def close(self) -> None:
        self._free_scratch()
        for ev in self.events:
            self.rt.cudaEventDestroy(ev)
        self.events = []
