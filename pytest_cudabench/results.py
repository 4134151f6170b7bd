"""The record of one item (task x level x sample): its schema, its only constructor, and the summary of its message.

Plain builtins, so it travels on pytest reports through xdist and is written to the JSON report as it is
(docs/reports.md describes each field for readers of the report).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any, NotRequired, TypedDict

from .generation.prompts import TEMPLATE_VERSION
from .tasks.bench_task import BenchTask

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
    resumed_from: NotRequired[str]  # --cudabench-resume: the run that judged this item; its record, not run again
    worker: NotRequired[str]  # under xdist: the id of the worker that ran it (gw0, ...), a key of run.worker_machines


def new_result(task: BenchTask, level: int, sample: int, model: str, nodeid: str = "") -> ItemResult:
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


# --- the informative line of a message ----------------------------------------------------------------------------
# A failure message opens with where it happened ("wrong result in case 3 (n=4099):", "nvcc failed (exit 2) with 1
# error(s):") and puts what went wrong on the lines after it. A one-line summary (terminal, HTML, JUnit, the refine
# prompt's history) is that opening joined to the line that says what went wrong.

SUMMARY_LIMIT = 240
_COMPILER_ERROR = re.compile(r"^\S+\(\d+\): (?:catastrophic )?error\b|: error:|^error\b")
_NVCC_HEAD = re.compile(r"^nvcc failed \(exit -?\d+\)(?: with (?P<count>\d+) error\(s\))?:$")
# compare.compare_output's line: "c: 5 of 4099 element(s) differ; max abs error ...; first: at [3] expected 1 got 2"
_MISMATCH = re.compile(r"^(?P<arg>\S+): (?P<count>\d+ of \d+) element\(s\) differ\b.*?; first: at (?P<index>\[[^\]]*\]) "
                       r"expected (?P<expected>\S+) got (?P<got>[^;]+)")
# Words that say how to fix a failure: the full message keeps them, a summary has no room.
_ADVICE = (re.compile(r"; add one \(__syncwarp\(\) only orders the lanes of one warp\), or use an atomic"),
           re.compile(r"correct with each block's threads run in thread order between barriers, "))


def message_summary(message: str | None, limit: int = SUMMARY_LIMIT) -> str:
    """The informative line of an item's message, at most `limit` characters: the message's opening and, when it
    introduces details (ends with ":"), the detail that says what went wrong: nvcc's first error, the first
    differing element, else the first detail line. A one-line message is itself (a crash's signal and hint, a
    race with its kernel, thread and source lines); advice to the model is left to the full message."""
    lines = [line.rstrip() for line in (message or "").strip().splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0]
    if head.endswith(":") and len(lines) > 1:
        details = [line.strip() for line in lines[1:] if not line[:1].isspace() and not line.startswith("---")]
        nvcc = _NVCC_HEAD.match(head)
        if nvcc:
            first = next((line for line in details if _COMPILER_ERROR.search(line)), details[0] if details else "")
            count = int(nvcc["count"] or 0)
            head = f"nvcc: {first}" + (f" (first of {count} errors)" if count > 1 else "")
        else:
            detail = details[0] if details else ""
            mismatch = next((m for m in map(_MISMATCH.match, details) if m), None)
            if mismatch:
                detail = (f"{mismatch['arg']}{mismatch['index']} expected {mismatch['expected']} got "
                          f"{mismatch['got'].strip()} ({mismatch['count']} elements differ)")
            head = f"{head} {detail}".strip()
    for advice in _ADVICE:
        head = advice.sub("", head)
    head = re.sub(r"\s+", " ", head)
    return head if len(head) <= limit else head[:limit - 1].rstrip() + "…"
