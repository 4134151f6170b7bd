"""Collection: a task directory is a collector with one item per prompt level and sample; the item runs its
family's evaluation (session/families.py). Item node ids are `<task dir>::level<L>[sample<S>]`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..config import Settings
from ..errors import ConfigError, HarnessError, ModelError, NoAnswer, StageFailure, StageSkip, TaskError
from ..session import (
    Family,
    GenerationRequest,
    carried_record,
    failure_section,
    failure_text,
    generate,
    item_name,
    junit_properties,
    load_kernel_family,
    take_carried,
)
from ..session import record_outcome as record_item_outcome
from .resume import RESUME_KEY
from .stash import GENERATOR_KEY, SETTINGS_KEY


class TaskDirectory(pytest.Directory):
    """A task directory: one item per prompt level and sample."""

    def collect(self):
        settings = self.config.stash[SETTINGS_KEY]
        family = load_kernel_family(self.path)
        self.config.addinivalue_line("markers", f"{family.task.domain}: tasks of domain {family.task.domain}")
        yield from items_of(self, family, settings)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, TaskError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def items_of(parent: pytest.Collector, family: Family, settings: Settings) -> Iterator[CudabenchItem]:
    for level in settings.levels:
        for sample in range(settings.samples):
            yield CudabenchItem.from_parent(parent, name=item_name(level, sample), family=family, level=level,
                                            sample=sample, **_structured_id(parent, level, sample))


def _structured_id(parent: pytest.Collector, level: int, sample: int) -> dict[str, Any]:
    """pytest >= 9 compares structured node ids (--lf, selection): `[sample0]` is the id's parameter part, as in
    a parametrized test, or a stored `...::level1[sample0]` never matches the item again."""
    parent_id = getattr(parent, "id", None)
    if parent_id is None or not hasattr(parent_id, "with_params"):
        return {}
    return {"nodeid": parent_id.child(f"level{level}").with_params(f"sample{sample}")}


class CudabenchItem(pytest.Item):
    """An item of the benchmark: one level and sample of a task of its family (session/families.py: KernelFamily, a
    task directory; SetRowFamily, a CUDABench-Set row), which makes its request, evaluation and place."""

    def __init__(self, *, family: Family, level: int, sample: int, **kwargs):
        super().__init__(**kwargs)
        self.family = family
        self.level = level
        self.sample = sample
        for marker in family.markers(level):
            self.add_marker(marker)
        self.evaluation = family.evaluation(level, sample, self.config.stash[SETTINGS_KEY], self.nodeid)
        self.answer: str | None = None
        self.request: GenerationRequest | None = None
        self.carried: dict[str, Any] | None = None  # --cudabench-resume: the resumed run's record of this answer

    def generation_request(self) -> GenerationRequest:
        return self.family.request(self.level, self.sample)

    def setup(self) -> None:
        request = self.generation_request()
        try:
            generation = generate(self.evaluation, self.config.stash[GENERATOR_KEY], request)
        except NoAnswer as exc:
            pytest.skip(str(exc))
        self.answer = generation.content
        self.request = request
        self.carried = carried_record(self.config.stash.get(RESUME_KEY, None), self.family, self.level, self.sample,
                                      self.evaluation)

    def runtest(self) -> None:
        assert self.answer is not None and self.request is not None
        try:
            if self.carried is not None:  # judged in the resumed run: that verdict, not run again
                take_carried(self.evaluation, self.carried)
                return
            self.evaluation.run_attempts(self.request, self.answer, self.config.stash[GENERATOR_KEY].get,
                                         self.config.stash[SETTINGS_KEY].attempts)
        except StageSkip as exc:
            pytest.skip(f"{exc.stage}: {exc.reason}")
        except StageFailure as exc:
            section = failure_section(self.evaluation.result, exc)
            if section:
                self.add_report_section("call", *section)
            raise

    def repr_failure(self, excinfo, style=None):
        text = failure_text(excinfo.value, self.evaluation.result)
        return text if text is not None else super().repr_failure(excinfo, style=style)

    def _repr_failure_py(self, excinfo, style=None):  # setup errors (the model call) come through here
        if isinstance(excinfo.value, (ModelError, ConfigError, TaskError, HarnessError)):
            return self.repr_failure(excinfo)
        return super()._repr_failure_py(excinfo, style=style)

    def reportinfo(self):
        return self.family.location(self.path, self.level, self.sample)


def record_outcome(item: CudabenchItem, call: pytest.CallInfo, report: pytest.TestReport) -> None:
    """The item's outcome into its record, and the record onto the report (plain builtins: it travels through
    xdist) and into JUnit properties."""
    if record_item_outcome(item.evaluation, report.when, report.outcome, call.excinfo.value if call.excinfo else None):
        report.cudabench = item.evaluation.result  # type: ignore[attr-defined]
        # junitxml reads the teardown report's properties, which are copied from the item's.
        item.user_properties.extend(junit_properties(item.evaluation.result))
