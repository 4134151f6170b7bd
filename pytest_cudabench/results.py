"""The record of one item (task x level x sample): its schema, and its only constructor.

Plain builtins, so it travels on pytest reports through xdist and is written to the JSON report as it is
(docs/reports.md describes each field for readers of the report).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, NotRequired, TypedDict

from .generation.prompts import TEMPLATE_VERSION
from .tasks.loader import Task

OUTCOMES = ("passed", "failed", "skipped", "error")


class ItemResult(TypedDict):
    nodeid: str
    task: str
    title: str | None
    domain: str | None
    tier: str | None
    level: int
    sample: int
    model: str | None
    outcome: str | None  # one of OUTCOMES, set from the pytest report; error: the harness, task or model API broke
    stage_reached: str | None
    failed_stage: str | None  # a stage of pipeline.STAGES, or "crash" (the worker died)
    message: str | None
    stages: dict[str, dict[str, Any]]  # per stage: status, duration_s, message, and the stage's own record
    compiled: bool
    correct: bool | None  # None: not judged
    performance_score: float | None
    ncu_performance_score: float | None  # CUDABench's definition, with --cudabench-perf=ncu
    speedup: float | None
    runtime: str | None  # gpu | cpu, where the answer ran
    template_version: str | None
    prompt_hash: str | None
    generation: dict[str, Any] | None  # generation.models.Generation.to_dict()
    source: str | None
    source_sha256: str | None
    error_kind: NotRequired[str | None]  # with outcome error: model (API), api (key refused), task, config or harness
    pytest_outcome: NotRequired[str]  # how pytest counted it: a harness error during the run is a pytest failure
    attempts: NotRequired[list[dict[str, Any]]]  # with --cudabench-attempts > 1: every attempt
    passed_at_attempt: NotRequired[int | None]
    set: NotRequired[dict[str, Any]]  # CUDABench-Set items: the row, both judges' verdicts, program and data facts
    refinement: NotRequired[dict[str, Any]]  # with --cudabench-refine, after a pass: every round (reporting/report.py)


def new_result(task: Task, level: int, sample: int, model: str, nodeid: str = "") -> ItemResult:
    return _blank(nodeid=nodeid, task=task.id, title=task.title, domain=task.domain, tier=task.tier, level=level,
                  sample=sample, model=model)


def crashed_result(nodeid: str, task_path: str, level: int, sample: int, message: str) -> ItemResult:
    """An item whose xdist worker died: only what its node id tells is known. `task_path` is the task directory,
    or for a CUDABench-Set item `<file>::<task>::scale<k>`."""
    set_parts = task_path.split("::")
    domain: str | None
    if len(set_parts) == 3:
        task, domain = f"cudabench-set/{set_parts[1]}/{set_parts[2]}", "cudabench-set"
    else:
        parts = PurePosixPath(task_path).parts
        task, domain = "/".join(parts[-2:]), (parts[-2] if len(parts) >= 2 else None)
    result = _blank(nodeid=nodeid, task=task, title=None, domain=domain, tier=None, level=level, sample=sample,
                    model=None)
    result["outcome"], result["failed_stage"], result["message"] = "failed", "crash", message
    return result


def _blank(*, nodeid: str, task: str, title: str | None, domain: str | None, tier: str | None, level: int,
           sample: int, model: str | None) -> ItemResult:
    return {
        "nodeid": nodeid, "task": task, "title": title, "domain": domain, "tier": tier, "level": level,
        "sample": sample, "model": model, "outcome": None, "stage_reached": None, "failed_stage": None,
        "message": None, "stages": {}, "compiled": False, "correct": None, "performance_score": None,
        "ncu_performance_score": None, "speedup": None, "runtime": None, "template_version": TEMPLATE_VERSION,
        "prompt_hash": None, "generation": None, "source": None, "source_sha256": None,
    }
