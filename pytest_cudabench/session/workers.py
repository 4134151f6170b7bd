"""Where xdist workers run, in plain terms: the GPUs they are spread over, and what a worker's spec says of its
machine."""

from __future__ import annotations

import os
from typing import Any

from ..config import Settings
from ..reporting.report import machine
from ..timing.gpus import detect_cuda_devices, gpu_info


def visible_gpus(settings: Settings) -> list[str]:
    """The GPU ids workers are spread over: --cudabench-gpus, else an inherited CUDA_VISIBLE_DEVICES, else all."""
    if settings.gpus:
        return list(settings.gpus)
    inherited = os.environ.get("CUDA_VISIBLE_DEVICES")
    if inherited is not None:
        return [g.strip() for g in inherited.split(",") if g.strip() and g.strip() != "-1"]
    return [str(i) for i in range(detect_cuda_devices())]


def worker_spec(spec) -> str:
    """Where a worker ran, from its execnet spec: `popen`, `ssh=user@host` (the destination only: ssh options such
    as a key file stay out of the report), `socket=host:port`."""
    if getattr(spec, "ssh", None):
        return f"ssh={spec.ssh.split()[-1]}"
    if getattr(spec, "socket", None):
        return f"socket={spec.socket}"
    return "popen" if getattr(spec, "popen", False) else str(getattr(spec, "type", "") or spec)


def assign_gpus(gpus: list[str], workers: int) -> list[str]:
    """Round-robin GPU per worker spec index: a crashed worker's replacement reuses its spec, so its GPU."""
    return [gpus[i % len(gpus)] for i in range(workers)] if gpus else []


def gpus_of_workers(settings: Settings, workers: int) -> tuple[list[str], str | None]:
    """Each worker's GPU (none without GPUs), and a warning when workers must share them."""
    gpus = visible_gpus(settings)
    if not gpus:
        return [], None
    warning = None
    if workers > len(gpus):
        warning = (f"cudabench: {workers} workers share {len(gpus)} GPU(s); timings will interfere "
                   "(-n auto gives one worker per GPU)")
    return assign_gpus(gpus, workers), warning


def compile_ahead_here(settings: Settings, *, worker: bool, workers: int | None) -> bool:
    """Whether this process runs a compile-ahead pool: where items run (an xdist worker, or a run without workers),
    unless --cudabench-compile-ahead=0."""
    return settings.compile_ahead != 0 and (worker or not workers)


def worker_machine() -> dict[str, Any]:
    """What an xdist worker tells the controller of the machine and GPU its items ran on (run.worker_machines)."""
    return {**machine(), "gpu": gpu_info(), "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
