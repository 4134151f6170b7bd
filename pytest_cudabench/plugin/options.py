"""The options' pytest side: the table (session/options.py) added to pytest's parser and resolved from the command
line, the ini file and the [tool.cudabench] table, in that order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..config import Settings, read_project_table
from ..session import OPTIONS, Option, option_named, project_value
from ..session import build_settings as settings_of


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("cudabench", "text-to-CUDA benchmark (pytest-cudabench)")
    for option in OPTIONS:
        if option.flag:
            group.addoption(option.cli, dest=option.dest, action="store_const", const=True, default=None,
                            help=option.help)
        else:
            group.addoption(option.cli, dest=option.dest, default=None, help=option.help)
        parser.addini(option.dest, option.help, default=None)


def resolve(config: pytest.Config, project: dict[str, Any], option: Option) -> tuple[Any, str]:
    """The raw value and where it came from, as the user wrote it (so messages name what they typed)."""
    value = config.getoption(option.dest)
    if value is not None:
        return value, option.cli
    value = config.getini(option.dest)
    if value not in (None, ""):
        return value, f"ini key {option.dest}"
    return project_value(project, option) or (option.default, option.cli)


def model_requested(config: pytest.Config) -> bool:
    """Whether a model is named anywhere (before the project table is read: cheap, for early hooks)."""
    model = option_named("model")
    return bool(config.getoption(model.dest) or config.getini(model.dest))


def build_settings(config: pytest.Config) -> Settings | None:
    """Every option resolved and checked at start; None when no model is named (the plugin stays inactive)."""
    project = read_project_table(Path(config.rootpath))
    return settings_of(lambda option: resolve(config, project, option), project, paths_base(config),
                                Path(config.invocation_params.dir))


def paths_base(config: pytest.Config) -> Path:
    """What relative report and cache directories are relative to: the directory of the ini file that configures
    the run, else where pytest was started (not pytest's rootdir, which for a suite outside the project is the
    common parent of both)."""
    if config.inipath is not None:
        return Path(config.inipath).parent
    return Path(config.invocation_params.dir)
