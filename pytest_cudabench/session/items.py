"""An item's run in the domain's terms: its answer from the model, timed into its record; a verdict carried over
from a resumed run; what its failure report says."""

from __future__ import annotations

import time
from typing import Any, cast

from ..errors import ConfigError, HarnessError, ModelError, NoAnswer, StageFailure, TaskError
from ..generation.models import Generation, GenerationRequest
from ..generation.service import GenerationService
from ..pipeline import StageRecorder
from ..reporting.resume import ResumePlan
from ..results import ItemResult
from .families import Family, item_name


def generate(evaluation: StageRecorder[Any], service: GenerationService, request: GenerationRequest) -> Generation:
    """The model's answer, recorded as the generate stage; a missing answer (NoAnswer: the item is skipped) and a
    failed model call (ModelError) are recorded, then raised."""
    start = time.perf_counter()
    try:
        generation = service.get(request)
    except NoAnswer as exc:
        evaluation.record_generation_failure(str(exc), time.perf_counter() - start, skipped=True)
        raise
    except ModelError as exc:
        evaluation.record_generation_failure(str(exc), time.perf_counter() - start, request_stats=exc.request_stats)
        raise
    evaluation.record_generation(generation, request.prompt_hash, time.perf_counter() - start)
    return generation


def carried_record(plan: ResumePlan | None, family: Family, level: int, sample: int,
                   evaluation: StageRecorder[Any]) -> dict[str, Any] | None:
    """--cudabench-resume: the resumed run's record of this item when it judged the same answer; None: it runs."""
    if plan is None:
        return None
    return plan.carried(f"{family.task.id}::{item_name(level, sample)}", dict(evaluation.result))


def take_carried(evaluation: StageRecorder[Any], carried: dict[str, Any]) -> None:
    """The resumed run's verdict becomes the item's record, not run again; a failure is raised again."""
    evaluation.result = cast(ItemResult, carried)
    if carried["outcome"] == "failed":
        raise StageFailure(carried.get("failed_stage") or "execute", carried.get("message") or "")


def failure_section(result: ItemResult, exc: StageFailure) -> tuple[str, str] | None:
    """The report section shown with a stage's failure: the stage's log, else its details."""
    stage: Any = result["stages"].get(exc.stage, {})
    for key in ("log", "details"):
        text = stage.get(key) or (exc.details if key == "details" else "")
        if text:
            return f"{exc.stage} {key}", text
    return None


def failure_text(exc: BaseException, result: ItemResult) -> str | None:
    """What pytest shows of an item's failure or error; None: pytest's own traceback (a bug)."""
    if isinstance(exc, StageFailure):
        return f"stage '{exc.stage}' failed: {exc.message}"
    if isinstance(exc, ModelError):
        return f"stage 'generate' failed: {exc}"
    if isinstance(exc, ConfigError):
        return f"configuration: {exc}"
    if isinstance(exc, (TaskError, HarnessError)):  # charged to the task or the harness, not the answer
        return f"stage '{result['failed_stage']}' could not judge the answer: {exc}"
    return None
