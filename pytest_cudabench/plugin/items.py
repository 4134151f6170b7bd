"""Collection: a task directory is a collector with one item per prompt level and sample; the item runs
pipeline.Evaluation. Item node ids are `<task dir>::level<L>[sample<S>]`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import pytest

from ..errors import ApiAccessDenied, ConfigError, HarnessError, ModelError, StageFailure, StageSkip, TaskError
from ..generation.models import GenerationRequest, NoAnswer
from ..generation.prompts import messages, prompt_hash
from ..pipeline import Evaluation
from ..results import ItemResult, message_summary
from ..tasks.loader import Task, find_suite_root, is_task_dir, load_task
from ..tasks.sets import task_sets
from .resume import carried_result
from .stash import GENERATOR_KEY, SETTINGS_KEY


class TaskDirectory(pytest.Directory):
    """A task directory: one item per prompt level and sample."""

    def collect(self):
        settings = self.config.stash[SETTINGS_KEY]
        task = load_task(self.path, find_suite_root(self.path))
        self.config.addinivalue_line("markers", f"{task.domain}: tasks of domain {task.domain}")
        for level in settings.levels:
            for sample in range(settings.samples):
                yield CudabenchItem.from_parent(self, name=item_name(level, sample), task=task, level=level,
                                                sample=sample, **_structured_id(self, level, sample))

    def repr_failure(self, excinfo):  # type: ignore[override]
        if isinstance(excinfo.value, TaskError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _structured_id(parent: pytest.Collector, level: int, sample: int) -> dict[str, Any]:
    """pytest >= 9 compares structured node ids (--lf, selection): `[sample0]` is the id's parameter part, as in
    a parametrized test, or a stored `...::level1[sample0]` never matches the item again."""
    parent_id = getattr(parent, "id", None)
    if parent_id is None or not hasattr(parent_id, "with_params"):
        return {}
    return {"nodeid": parent_id.child(f"level{level}").with_params(f"sample{sample}")}


def generation_request(task: Task, level: int, sample: int) -> GenerationRequest:
    msgs = messages(task, level)
    return GenerationRequest(task=task, level=level, sample=sample, messages=msgs, prompt_hash=prompt_hash(msgs))


def generation_requests_of_nodeids(rootpath: Path, nodeids: list[str]) -> list[GenerationRequest]:
    """The generation requests of the task items among `nodeids` (an xdist controller knows only the ids its workers
    collected); a task that does not load is left out (its collection error is reported elsewhere), and so are
    CUDABench-Set items."""
    tasks: dict[str, Task | None] = {}
    requests = []
    for path, level, sample in filter(None, map(parse_item_nodeid, nodeids)):
        if path not in tasks:
            directory = rootpath / path
            try:
                tasks[path] = load_task(directory, find_suite_root(directory)) if is_task_dir(directory) else None
            except TaskError:
                tasks[path] = None
        task = tasks[path]
        if task is not None:
            requests.append(generation_request(task, level, sample))
    return requests


def item_name(level: int, sample: int) -> str:
    return f"level{level}[sample{sample}]"


def parse_item_nodeid(nodeid: str) -> tuple[str, int, int] | None:
    """`task_suite/ai/relu::level2[sample0]` -> ("task_suite/ai/relu", 2, 0); a CUDABench-Set item's
    `S.jsonl::<task>::scale1::level2[sample0]` -> ("S.jsonl::<task>::scale1", 2, 0); None for other node ids."""
    path, _, name = nodeid.rpartition("::")
    if not (name.startswith("level") and "[sample" in name and name.endswith("]")):
        return None
    level, _, sample = name[len("level"):-1].partition("[sample")
    if not (level.isdigit() and sample.isdigit()):
        return None
    return path, int(level), int(sample)


class CudabenchItem(pytest.Item):
    def __init__(self, *, task: Task, level: int, sample: int, **kwargs):
        super().__init__(**kwargs)
        self.task = task
        self.level = level
        self.sample = sample
        for marker in ("cudabench", f"level{level}", task.tier, task.domain, *task_sets(task)):
            self.add_marker(marker)
        self.evaluation = Evaluation(task, level, sample, self.config.stash[SETTINGS_KEY], self.nodeid)
        self.answer: str | None = None
        self.request: GenerationRequest | None = None
        self.carried: dict[str, Any] | None = None  # --cudabench-resume: the resumed run's record of this answer

    def generation_request(self) -> GenerationRequest:
        return generation_request(self.task, self.level, self.sample)

    def setup(self) -> None:
        generator = self.config.stash[GENERATOR_KEY]
        request = self.generation_request()
        start = time.perf_counter()
        try:
            generation = generator.get(request)
        except NoAnswer as exc:
            self.evaluation.record_generation_failure(str(exc), time.perf_counter() - start, skipped=True)
            pytest.skip(str(exc))
        except ModelError as exc:
            self.evaluation.record_generation_failure(str(exc), time.perf_counter() - start,
                                                      request_stats=exc.request_stats)
            raise
        self.evaluation.record_generation(generation, request.prompt_hash, time.perf_counter() - start)
        self.answer = generation.content
        self.request = request
        self.carried = carried_result(self.config, f"{self.task.id}::{self.name}", dict(self.evaluation.result))

    def runtest(self) -> None:
        assert self.answer is not None
        settings = self.config.stash[SETTINGS_KEY]
        try:
            if self.carried is not None:  # judged in the resumed run: that verdict, not run again
                self.evaluation.result = cast(ItemResult, self.carried)
                if self.carried["outcome"] == "failed":
                    raise StageFailure(self.carried.get("failed_stage") or "execute", self.carried.get("message") or "")
                return
            self.evaluation.run_attempts(self.request, self.answer, self.config.stash[GENERATOR_KEY].get,
                                         settings.attempts)
        except StageSkip as exc:
            pytest.skip(f"{exc.stage}: {exc.reason}")
        except StageFailure as exc:
            stage = self.evaluation.result["stages"].get(exc.stage, {})
            for key in ("log", "details"):
                text = stage.get(key) or (exc.details if key == "details" else "")
                if text:
                    self.add_report_section("call", f"{exc.stage} {key}", text)
                    break
            raise

    def repr_failure(self, excinfo, style=None):  # type: ignore[override]
        exc = excinfo.value
        if isinstance(exc, StageFailure):
            return f"stage '{exc.stage}' failed: {exc.message}"
        if isinstance(exc, ModelError):
            return f"stage 'generate' failed: {exc}"
        if isinstance(exc, ConfigError):
            return f"configuration: {exc}"
        if isinstance(exc, (TaskError, HarnessError)):  # charged to the task or the harness, not the answer
            return f"stage '{self.evaluation.result['failed_stage']}' could not judge the answer: {exc}"
        return super().repr_failure(excinfo, style=style)

    def _repr_failure_py(self, excinfo, style=None):  # setup errors (the model call) come through here
        if isinstance(excinfo.value, (ModelError, ConfigError, TaskError, HarnessError)):
            return self.repr_failure(excinfo)
        return super()._repr_failure_py(excinfo, style=style)

    def reportinfo(self):
        return self.path / "task.toml", None, f"{self.task.id} level {self.level} sample {self.sample}"


_REPORT_OUTCOME = {("setup", "failed"): "error", ("setup", "skipped"): "skipped", ("call", "passed"): "passed",
                   ("call", "failed"): "failed", ("call", "skipped"): "skipped"}

# Properties shown per test case in JUnit XML (dashboards read them).
_JUNIT_PROPERTIES = ("task", "domain", "tier", "level", "sample", "model", "stage_reached", "failed_stage",
                     "compiled", "correct", "performance_score", "ncu_performance_score", "speedup", "runtime",
                     "prompt_hash")


def junit_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def error_kind(exc: BaseException | None) -> str:
    if isinstance(exc, ApiAccessDenied):  # the key or the access, not the model: nothing was generated
        return "api"
    if isinstance(exc, ModelError):
        return "model"
    if isinstance(exc, TaskError):
        return "task"
    if isinstance(exc, ConfigError):
        return "config"
    return "harness"


def record_outcome(item: CudabenchItem, call: pytest.CallInfo, report: pytest.TestReport) -> None:
    """The item's outcome into its result, and the result onto the report (plain builtins: it travels through
    xdist) and into JUnit properties."""
    outcome = _REPORT_OUTCOME.get((report.when, report.outcome))
    if outcome == "failed" and call.excinfo and not isinstance(call.excinfo.value, StageFailure):
        outcome = "error"  # the harness or the task broke, not the answer: never counted as a wrong answer
    if outcome is None:
        return
    result = item.evaluation.result
    result["outcome"] = outcome
    result["pytest_outcome"] = "error" if report.failed and report.when != "call" else report.outcome
    if outcome == "error":
        result["error_kind"] = error_kind(call.excinfo.value if call.excinfo else None)
    if outcome in ("failed", "error") and result.get("message") is None:
        result["message"] = str(call.excinfo.value) if call.excinfo else "failed"
        result["failed_stage"] = result.get("failed_stage") or result.get("stage_reached")
    report.cudabench = result  # type: ignore[attr-defined]
    # junitxml reads the teardown report's properties, which are copied from the item's.
    item.user_properties.extend((f"cudabench.{key}", junit_value(result.get(key))) for key in _JUNIT_PROPERTIES)
    if outcome in ("failed", "error"):  # the failure element holds the whole message; this is its informative line
        item.user_properties.append(("cudabench.message", message_summary(result.get("message"))))
    generation = dict(result.get("generation") or {})
    for key in ("tokens_in", "tokens_out"):
        if generation.get(key) is not None:
            item.user_properties.append((f"cudabench.{key}", str(generation[key])))


class ItemSelection:
    """`pytest task_suite/ai/relu::level1[sample0]` selects one item, as for a test file: pytest itself refuses
    `::` parts after a directory, so the argument is narrowed to the directory at configure time (in every
    process: xdist workers parse the same arguments) and the items are picked after collection. Every task has
    an item per level and sample of the run, so a name is checked at once, before any worker starts."""

    def __init__(self, config: pytest.Config, levels: tuple[int, ...], samples: int):
        self.wanted: dict[Path, set[str]] = {}  # task dir -> item names, or a level (all its samples)
        self.whole: set[Path] = set()
        invocation = Path(config.invocation_params.dir)
        names = {item_name(level, sample) for level in levels for sample in range(samples)}
        for index, arg in enumerate(config.args):
            base, sep, rest = arg.partition("::")
            directory = (invocation / base).resolve()
            if not sep:
                self.whole.add(directory)
            elif directory.is_dir() and is_task_dir(directory):
                if rest not in names and rest not in {f"level{level}" for level in levels}:
                    raise pytest.UsageError(
                        f"not found: {arg} (items are named level<L>[sample<S>]; this run has levels "
                        f"{','.join(map(str, levels))} and samples 0..{samples - 1}; see --collect-only)")
                config.args[index] = base
                self.wanted.setdefault(directory, set()).add(rest)

    def __bool__(self) -> bool:
        return bool(self.wanted)

    def filter(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep, drop = [], []
        for item in items:
            directory = item.path.resolve()
            names = self.wanted.get(directory)
            if names is None or directory in self.whole or item.name in names or item.name.split("[")[0] in names:
                keep.append(item)
            else:
                drop.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
