"""Exceptions of the domain layer, all of them here. Each message is written for the user: it names the file, field or
stage and what to do. The modules that raise them import them from here (and so still export them)."""

from __future__ import annotations

import os


class CudabenchError(Exception):
    """Base class of every error the plugin raises on purpose."""


class TaskError(CudabenchError):
    """A task directory is malformed (task.toml, reference.py, solution.cu)."""

    def __init__(self, path: str | os.PathLike[str], message: str, field: str | None = None):
        self.path = str(path)
        self.field = field
        where = f"{self.path}: [{field}] " if field else f"{self.path}: "
        super().__init__(where + message)


class FormulaError(CudabenchError, ValueError):
    """A task formula (sizes, flops, bytes) is not valid arithmetic over known names (tasks.formulas)."""


class ConfigError(CudabenchError):
    """A command-line option or [tool.cudabench] setting is wrong; raised once, at session start."""


class ModelError(CudabenchError):
    """The model could not answer (API failure after retries, missing replay record...). `request_stats`: what the
    failed attempts took (Generation's http_requests, rate_limited, ... fields), when requests were sent."""

    def __init__(self, message: str = "", request_stats: dict | None = None):
        super().__init__(message)
        self.request_stats = request_stats


class ApiAccessDenied(ModelError):
    """The model API refused the key or the access (401/403): generation stops for the whole run, in every process,
    since every further request would be refused the same way."""


class NoAnswer(ModelError):
    """The model has no answer for this item (e.g. not recorded in a replay file): the item is skipped."""


class MalformedResponse(ModelError):
    """A 200 from a model server that is not a chat completion: retried like other transient failures."""


class RequestCancelled(ModelError):
    """The model was closed (end of the run, Ctrl-C) while a request waited to be retried: no answer, and no verdict
    on the item either (another worker may still ask)."""


class StageFailure(CudabenchError):
    """An answer failed a stage of the evaluation; `details` is extra text for the report (compiler log...)."""

    def __init__(self, stage: str, message: str, details: str = ""):
        self.stage = stage
        self.message = message
        self.details = details
        super().__init__(message)

    def __str__(self) -> str:  # the stage may be reassigned (a child run judged for the time stage)
        return f"[{self.stage}] {self.message}"


class StageSkip(CudabenchError):
    """A stage cannot judge this answer here (e.g. a feature the CPU runtime cannot run); the item is skipped."""

    def __init__(self, stage: str, reason: str):
        self.stage = stage
        self.reason = reason
        super().__init__(f"[{stage}] {reason}")


class CpuRuntimeUnsupported(CudabenchError):
    """The answer uses a feature the CPU runtime cannot run; it must be reported as such, never as wrong."""

    def __init__(self, feature: str):
        self.feature = feature
        super().__init__(f"cannot run on the CPU runtime: {feature}")


class CpuBuildError(CudabenchError):
    """g++ could not build the answer for the CPU runtime; ``log`` is the compiler output (original line numbers)."""

    def __init__(self, message: str, log: str = ""):
        self.message = message
        self.log = log
        super().__init__(message)


class CudaError(CudabenchError, RuntimeError):
    """A CUDA call of the harness failed (timing.gpu_api, timing.measure)."""


class GpuApiError(CudaError):
    """The harness's GPU access cannot start (no GPU API installed, no driver, a toolkit newer than the driver, no
    memory for a context): a problem of this machine, never of the answer; the message names the cause and the fix."""


class MergeError(CudabenchError, ValueError):
    """Reports that cannot be combined: `merge` of different models, conflicting duplicates in a leaderboard."""


class ReportFileError(CudabenchError, ValueError):
    """A file given as a JSON run report is not one (unreadable, not JSON, another schema, a malformed field);
    the message names the file and the problem."""


class HarnessError(CudabenchError):
    """The benchmark's own machinery failed (the child interpreter did not start, a tool is broken): neither the
    answer's nor the task's fault, so the item is an error, never a wrong answer."""


class RowDataError(CudabenchError):
    """A CUDABench-Set row's gen.py failed or wrote the wrong files: a defect of the row, not of the answer."""


class RowDataTimeout(RowDataError):
    """A row's gen.py ran past its time limit: no data to check, which says nothing about the row yet."""


ERROR_KINDS = ("api", "model", "task", "config", "harness")


def error_kind(exc: BaseException | None) -> str:
    """What an error (an item that is neither passed nor failed) is charged to, one of ERROR_KINDS: the record's
    `error_kind`, and the word a stage's error message starts with. The API access (the key: nothing was
    generated), the model, the task, the configuration, or else the harness."""
    if isinstance(exc, ApiAccessDenied):
        return "api"
    if isinstance(exc, ModelError):
        return "model"
    if isinstance(exc, TaskError):
        return "task"
    if isinstance(exc, ConfigError):
        return "config"
    return "harness"
