"""Which model answers a `--cudabench-model` spec: model kinds, each a factory `(spec, project) -> Model | None`,
tried in order. Offline kinds first, then remote (OpenAI-compatible) models, which take any other name; plugins add
kinds of their own through the `pytest_cudabench_model` hook (plugin/hookspecs.py), asked before these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigError
from .models import Model, ReferenceModel, ReplayModel
from .remote import create_remote_model

ModelKind = Callable[[str, dict[str, Any]], Model | None]


def offline_model(spec: str, project: dict[str, Any]) -> Model | None:
    if spec == "reference":
        return ReferenceModel()
    if spec.startswith("replay:"):
        return ReplayModel(spec.removeprefix("replay:"))
    return None


def remote_model(spec: str, project: dict[str, Any]) -> Model | None:
    return create_remote_model(spec, project)


BUILTIN_KINDS: tuple[ModelKind, ...] = (offline_model, remote_model)


def create_model(spec: str, project: dict[str, Any] | None = None, kinds: Sequence[ModelKind] = BUILTIN_KINDS) -> Model:
    """The model named by `spec`; `project` is the [tool.cudabench] table (model aliases)."""
    for kind in kinds:
        model = kind(spec, project or {})
        if model is not None:
            return model
    raise ConfigError(f"--cudabench-model={spec}: unknown model; offline models are 'reference' and 'replay:PATH'")
