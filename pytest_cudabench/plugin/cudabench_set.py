"""pytest glue for CUDABench-Set files: a set `.jsonl` named on the command line (or in [tool.cudabench] set_files)
collects as `<file>::<task>::scale<k>::level<L>[sample<S>]`. The items are CudabenchItems of the row's family
(session.SetRowFamily), so generation, reports, JUnit properties and xdist hand-over work as for our own tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..config import Settings
from ..errors import ConfigError, TaskError
from ..session import SetFiles, SetOptions, SetRowFamily, load_set_families, set_marker
from .items import items_of
from .stash import SETTINGS_KEY

SET_OPTIONS_KEY = pytest.StashKey[SetOptions]()
SET_FILES_KEY = pytest.StashKey[SetFiles]()


def configure(config: pytest.Config, settings: Settings) -> None:
    """Called from the plugin's pytest_configure once the run's settings exist."""
    options = SetOptions.from_settings(settings)  # every process: the settings travel to xdist workers
    files = SetFiles(settings)
    if files.configured and config.args_source != pytest.Config.ArgsSource.ARGS and not hasattr(config, "workerinput"):
        config.args.extend(str(p) for p in files.configured if str(p) not in config.args)
    config.stash[SET_OPTIONS_KEY] = options
    files.name(Path(config.invocation_params.dir), config.args)
    config.stash[SET_FILES_KEY] = files
    config.addinivalue_line("markers", "cudabench_set: an item of CUDABench-Set")


def collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    files = parent.config.stash.get(SET_FILES_KEY, None)
    if files is None or not files.collects(file_path):
        return None
    return SetFile.from_parent(parent, path=file_path)


class SetFile(pytest.File):
    """A CUDABench-Set file: one collector per task, one per scale under it, items per level and sample."""

    def collect(self):
        for task, families in load_set_families(self.path, self.config.stash[SET_OPTIONS_KEY]).items():
            self.config.addinivalue_line("markers", f"{set_marker(task)}: CUDABench-Set task {task}")
            yield SetTask.from_parent(self, name=task, families=families)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (TaskError, ConfigError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class SetTask(pytest.Collector):
    def __init__(self, *, families: list[SetRowFamily], **kwargs):
        super().__init__(**kwargs)
        self.families = families

    def collect(self):
        for family in self.families:
            yield SetScale.from_parent(self, name=f"scale{family.row.scale}", family=family)


class SetScale(pytest.Collector):
    def __init__(self, *, family: SetRowFamily, **kwargs):
        super().__init__(**kwargs)
        self.family = family

    def collect(self):
        yield from items_of(self, self.family, self.config.stash[SETTINGS_KEY])
