"""Exceptions of the domain layer. Each message is written for the user: it names the file, field or stage and what to do."""

from __future__ import annotations


class CudabenchError(Exception):
    """Base class of every error the plugin raises on purpose."""


class TaskError(CudabenchError):
    """A task directory is malformed (task.toml, reference.py, solution.cu)."""

    def __init__(self, path: str, message: str, field: str | None = None):
        self.path = str(path)
        self.field = field
        where = f"{self.path}: [{field}] " if field else f"{self.path}: "
        super().__init__(where + message)


class ConfigError(CudabenchError):
    """A command-line option or [tool.cudabench] setting is wrong; raised once, at session start."""


class ModelError(CudabenchError):
    """The model could not answer (API failure after retries, missing replay record...)."""


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


class HarnessError(CudabenchError):
    """The benchmark's own machinery failed (the child interpreter did not start, a tool is broken): neither the
    answer's nor the task's fault, so the item is an error, never a wrong answer."""
