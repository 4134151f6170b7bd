"""pytest glue for CUDABench-Set files: a set `.jsonl` named on the command line (or in [tool.cudabench] set_files)
collects as `<file>::<task>::scale<k>::level<L>[sample<S>]`. The items are CudabenchItems, so generation, reports,
JUnit properties and xdist hand-over work as for our own tasks; the evaluation is cudabench_set's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..config import Settings
from ..cudabench_set.evaluation import SetEvaluation, SetOptions
from ..cudabench_set.prompt import load_template, messages, template_hash
from ..cudabench_set.rows import Row, RowTask, load_rows, looks_like_set
from ..errors import ConfigError, TaskError
from ..generation.models import GenerationRequest
from ..generation.prompts import prompt_hash
from .items import CudabenchItem, item_name
from .stash import SETTINGS_KEY

SET_OPTIONS_KEY = pytest.StashKey[SetOptions]()
SET_FILES_KEY = pytest.StashKey[set]()


def build_options(settings: Settings) -> SetOptions:
    template = load_template(settings.set_template)
    return SetOptions(seed_mode=settings.set_seed, template=template, template_hash=template_hash(template),
                      scales=settings.set_scales)


def configure(config: pytest.Config, settings) -> None:
    """Called from the plugin's pytest_configure once the run's settings exist."""
    options = build_options(settings)  # every process: the settings travel to xdist workers
    files = [Path(settings.rootdir, p) for p in settings.project.get("set_files", [])]
    if files and config.args_source != pytest.Config.ArgsSource.ARGS and not hasattr(config, "workerinput"):
        config.args.extend(str(p) for p in files if str(p) not in config.args)
    config.stash[SET_OPTIONS_KEY] = options
    # Set files are collected only where named: a replay file or other .jsonl in a test directory is left alone.
    config.stash[SET_FILES_KEY] = {p.resolve() for p in files} | {
        Path(config.invocation_params.dir, a.split("::")[0]).resolve() for a in config.args}
    config.addinivalue_line("markers", "cudabench_set: an item of CUDABench-Set")


def collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    if SET_OPTIONS_KEY not in config.stash or file_path.suffix != ".jsonl" or not looks_like_set(file_path):
        return None
    if file_path.resolve() not in config.stash[SET_FILES_KEY]:
        return None
    return SetFile.from_parent(parent, path=file_path)


def marker_name(task: str) -> str:
    return "set_" + re.sub(r"\W", "_", task)


class SetFile(pytest.File):
    """A CUDABench-Set file: one collector per task, one per scale under it, items per level and sample."""

    def collect(self):
        settings = self.config.stash[SETTINGS_KEY]
        options = self.config.stash[SET_OPTIONS_KEY]
        rows = load_rows(self.path)
        tasks: dict[str, list[Row]] = {}
        for row in rows:
            if options.scales is None or row.scale in options.scales:
                tasks.setdefault(row.task, []).append(row)
        for task, task_rows in tasks.items():
            self.config.addinivalue_line("markers", f"{marker_name(task)}: CUDABench-Set task {task}")
            yield SetTask.from_parent(self, name=task, rows=task_rows, settings=settings, options=options)

    def repr_failure(self, excinfo):  # type: ignore[override]
        if isinstance(excinfo.value, (TaskError, ConfigError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class SetTask(pytest.Collector):
    def __init__(self, *, rows: list[Row], settings, options: SetOptions, **kwargs):
        super().__init__(**kwargs)
        self.rows, self.settings, self.options = rows, settings, options

    def collect(self):
        for row in self.rows:
            yield SetScale.from_parent(self, name=f"scale{row.scale}", row=row, settings=self.settings,
                                       options=self.options)


class SetScale(pytest.Collector):
    def __init__(self, *, row: Row, settings, options: SetOptions, **kwargs):
        super().__init__(**kwargs)
        self.row, self.settings, self.options = row, settings, options

    def collect(self):
        for level in self.settings.levels:
            for sample in range(self.settings.samples):
                yield SetItem.from_parent(self, name=item_name(level, sample), row=self.row, level=level,
                                          sample=sample, options=self.options)


class SetItem(CudabenchItem):
    """An item of CUDABench-Set: CudabenchItem's setup (the model's answer), run and report plumbing, with the row's
    prompt and the whole-program evaluation."""

    def __init__(self, *, row: Row, level: int, sample: int, options: SetOptions, **kwargs):
        pytest.Item.__init__(self, **kwargs)  # not CudabenchItem's: there is no task directory
        self.row, self.level, self.sample, self.options = row, level, sample, options
        self.task = RowTask(row)  # type: ignore[assignment]
        for marker in ("cudabench", "cudabench_set", f"level{level}", marker_name(row.task)):
            self.add_marker(marker)
        self.evaluation = SetEvaluation(row, level, sample, self.config.stash[SETTINGS_KEY], self.nodeid, options)
        self.answer = None
        self.request = None

    def generation_request(self) -> GenerationRequest:
        msgs = messages(self.row, self.level, self.options.template)
        return GenerationRequest(task=self.task, level=self.level, sample=self.sample,  # type: ignore[arg-type]
                                 messages=msgs, prompt_hash=prompt_hash(msgs))

    def reportinfo(self):
        return self.path, self.row.line - 1, f"{self.row.task} scale {self.row.scale} level {self.level} sample {self.sample}"
