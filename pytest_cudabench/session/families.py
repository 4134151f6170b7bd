"""What the pytest layer runs, in the domain's terms (pytest-cpp's facade per framework is the model): a family per
kind of task (a task directory, a CUDABench-Set row) that knows its items' markers, first generation request,
evaluation and place; the items an argument selects; the item's outcome into its record; what node ids tell; the
replay file's checks at start. Knows nothing of pytest."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from ..config import Settings
from ..cudabench_set.evaluation import SetEvaluation
from ..cudabench_set.evaluation import SetOptions as SetOptions  # the plugin's stash holds them
from ..cudabench_set.prompt import messages as set_messages
from ..cudabench_set.rows import Row, RowTask, load_rows
from ..cudabench_set.rows import looks_like_set as looks_like_set
from ..errors import ConfigError, StageFailure, TaskError, error_kind
from ..generation.models import GenerationRequest, ReplayModel
from ..generation.prompts import first_request, request
from ..pipeline import Evaluation, StageRecorder
from ..results import ItemResult, message_summary
from ..tasks.bench_task import BenchTask
from ..tasks.loader import Task, find_suite_root, load_task
from ..tasks.loader import is_task_dir as is_task_dir
from ..tasks.sets import TASK_SETS, task_sets


class Family(Protocol):
    """One task of a family, as its items need it."""

    @property
    def task(self) -> BenchTask: ...

    @property
    def shard_key(self) -> str:
        """The unit a shard holds whole."""

    def markers(self, level: int) -> list[str]: ...

    def request(self, level: int, sample: int) -> GenerationRequest: ...

    def evaluation(self, level: int, sample: int, settings: Settings, nodeid: str) -> StageRecorder[Any]: ...

    def location(self, path: Path, level: int, sample: int) -> tuple[Path, int | None, str]:
        """pytest's reportinfo: the file, the 0-based line and the item's description."""

    def kernel_task(self) -> Task | None:
        """The task directory's task, for work done on kernels ahead of their items (compile-ahead)."""


class KernelFamily:
    """A task directory: its items evaluate a kernel (pipeline.Evaluation)."""

    def __init__(self, task: Task):
        self.task = task
        self.shard_key = task.id

    def markers(self, level: int) -> list[str]:
        return ["cudabench", f"level{level}", self.task.tier, self.task.domain, *task_sets(self.task)]

    def request(self, level: int, sample: int) -> GenerationRequest:
        return first_request(self.task, level, sample)

    def evaluation(self, level: int, sample: int, settings: Settings, nodeid: str) -> Evaluation:
        return Evaluation(self.task, level, sample, settings, nodeid)

    def location(self, path: Path, level: int, sample: int) -> tuple[Path, int | None, str]:
        return path / "task.toml", None, f"{self.task.id} level {level} sample {sample}"

    def kernel_task(self) -> Task | None:
        return self.task


class SetRowFamily:
    """A CUDABench-Set row (one scale of a set task): its items evaluate a whole program (SetEvaluation)."""

    def __init__(self, row: Row, options: SetOptions):
        self.row, self.options = row, options
        self.task = RowTask(row)
        self.shard_key = row.task  # every scale of a set task

    def markers(self, level: int) -> list[str]:
        return ["cudabench", "cudabench_set", f"level{level}", set_marker(self.row.task)]

    def request(self, level: int, sample: int) -> GenerationRequest:
        return request(self.task, level, sample, set_messages(self.row, level, self.options.template))

    def evaluation(self, level: int, sample: int, settings: Settings, nodeid: str) -> SetEvaluation:
        return SetEvaluation(self.row, level, sample, settings, nodeid, self.options)

    def location(self, path: Path, level: int, sample: int) -> tuple[Path, int | None, str]:
        return path, self.row.line - 1, f"{self.row.task} scale {self.row.scale} level {level} sample {sample}"

    def kernel_task(self) -> Task | None:
        return None


def markers() -> list[str]:
    """The markers of every run (pytest's `markers` ini lines): a task directory's domain and a set task's are added
    as they are collected."""
    return ["cudabench: an item of the text-to-CUDA benchmark",
            *(f"level{level}: prompt level {level}" for level in (1, 2, 3)),
            *(f"{tier}: task complexity tier {tier}" for tier in ("easy", "medium", "hard")),
            *(f"{name}: {description}" for name, description in TASK_SETS.items())]


def set_marker(task: str) -> str:
    return "set_" + re.sub(r"\W", "_", task)


def load_kernel_family(directory: Path) -> KernelFamily:
    return KernelFamily(load_task(directory, find_suite_root(directory)))


class SetFiles:
    """The CUDABench-Set files a run collects: those of [tool.cudabench] set_files, and those named on the command
    line (`name`); a replay file or other .jsonl in a test directory is left alone."""

    def __init__(self, settings: Settings):
        self.configured = [Path(settings.rootdir, p) for p in settings.project.get("set_files", [])]
        self.named = {p.resolve() for p in self.configured}

    def name(self, invocation_dir: Path, args: list[str]) -> None:
        self.named |= {Path(invocation_dir, a.split("::")[0]).resolve() for a in args}

    def collects(self, path: Path) -> bool:
        return path.suffix == ".jsonl" and looks_like_set(path) and path.resolve() in self.named


def load_set_families(path: Path, options: SetOptions) -> dict[str, list[SetRowFamily]]:
    """The rows of a set file by task, in file order: those of the scales the run asks for."""
    tasks: dict[str, list[SetRowFamily]] = {}
    for row in load_rows(path):
        if options.scales is None or row.scale in options.scales:
            tasks.setdefault(row.task, []).append(SetRowFamily(row, options))
    return tasks


def task_dirs_named(invocation_dir: Path, args: list[str]) -> list[Path]:
    """The task directories (or suites of them) among pytest's arguments."""
    paths = [(invocation_dir / arg.partition("::")[0]).resolve() for arg in args]
    return [p for p in paths if p.is_dir() and (is_task_dir(p) or p.name == "task_suite"
                                                or "task_suite" in p.parent.parts)]


# ---------------------------------------------------------------------- item names and node ids


def item_name(level: int, sample: int) -> str:
    return f"level{level}[sample{sample}]"


class ItemSelection:
    """`pytest task_suite/ai/relu::level1[sample0]` selects one item, as for a test file: pytest itself refuses
    `::` parts after a directory, so the argument is narrowed to the directory at configure time (`args`, in every
    process: xdist workers parse the same arguments) and the items are picked after collection (`keeps`). Every
    task has an item per level and sample of the run, so a name is checked at once, before any worker starts:
    ConfigError names the argument."""

    def __init__(self, invocation_dir: Path, args: list[str], levels: tuple[int, ...], samples: int):
        self.args = list(args)
        self.wanted: dict[Path, set[str]] = {}  # task dir -> item names, or a level (all its samples)
        self.whole: set[Path] = set()
        names = {item_name(level, sample) for level in levels for sample in range(samples)}
        for index, arg in enumerate(args):
            base, sep, rest = arg.partition("::")
            directory = (invocation_dir / base).resolve()
            if not sep:
                self.whole.add(directory)
            elif directory.is_dir() and is_task_dir(directory):
                if rest not in names and rest not in {f"level{level}" for level in levels}:
                    raise ConfigError(
                        f"not found: {arg} (items are named level<L>[sample<S>]; this run has levels "
                        f"{','.join(map(str, levels))} and samples 0..{samples - 1}; see --collect-only)")
                self.args[index] = base
                self.wanted.setdefault(directory, set()).add(rest)

    def __bool__(self) -> bool:
        return bool(self.wanted)

    def keeps(self, path: Path, name: str) -> bool:
        """Whether the item `name` collected under `path` is selected."""
        directory = path.resolve()
        names = self.wanted.get(directory)
        return names is None or directory in self.whole or name in names or name.split("[")[0] in names


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


def requests_of_nodeids(rootpath: Path, nodeids: list[str]) -> list[GenerationRequest]:
    """The generation requests of the task items among `nodeids` (an xdist controller knows only the ids its workers
    collected); a task that does not load is left out (its collection error is reported elsewhere), and so are
    CUDABench-Set items."""
    families: dict[str, KernelFamily | None] = {}
    requests = []
    for path, level, sample in filter(None, map(parse_item_nodeid, nodeids)):
        if path not in families:
            directory = rootpath / path
            try:
                families[path] = load_kernel_family(directory) if is_task_dir(directory) else None
            except TaskError:
                families[path] = None
        family = families[path]
        if family is not None:
            requests.append(family.request(level, sample))
    return requests


# ---------------------------------------------------------------------- replay files


def replay_refusal(model: object, requests: list[GenerationRequest]) -> str | None:
    """Why a replay model refuses the run at start (it answers none of the items), else None."""
    return model.answers_none_of(requests) if isinstance(model, ReplayModel) else None


def replay_warnings(model: object, paths: Iterable[Path]) -> list[str]:
    """A replay model's records of tasks that no suite of these items' paths has."""
    if not isinstance(model, ReplayModel):
        return []
    return list(model.unknown_task_lines({find_suite_root(p) for p in paths}))


# ---------------------------------------------------------------------- the item's outcome


# (pytest's phase, pytest's outcome) -> the record's outcome
_REPORT_OUTCOME = {("setup", "failed"): "error", ("setup", "skipped"): "skipped", ("call", "passed"): "passed",
                   ("call", "failed"): "failed", ("call", "skipped"): "skipped"}
# Properties shown per test case in JUnit XML (dashboards read them).
JUNIT_PROPERTIES = ("task", "domain", "tier", "level", "sample", "model", "stage_reached", "failed_stage",
                    "compiled", "correct", "performance_score", "ncu_performance_score", "speedup", "runtime",
                    "prompt_hash")


def record_outcome(evaluation: StageRecorder[Any], when: str, pytest_outcome: str,
                   exc: BaseException | None) -> bool:
    """The outcome of pytest's `when` phase into the item's record; False for a phase that decides nothing. Only a
    StageFailure fails an item: anything else is an error (the harness, the task or the model broke), charged as
    errors.error_kind says."""
    outcome = _REPORT_OUTCOME.get((when, pytest_outcome))
    if outcome == "failed" and exc is not None and not isinstance(exc, StageFailure):
        outcome = "error"
    if outcome is None:
        return False
    result = evaluation.result
    result["outcome"] = outcome
    result["pytest_outcome"] = "error" if pytest_outcome == "failed" and when != "call" else pytest_outcome
    if outcome == "error":
        result["error_kind"] = error_kind(exc)
    if outcome in ("failed", "error") and exc is not None:
        evaluation.record_error(exc)
    return True


def junit_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def junit_properties(result: ItemResult) -> list[tuple[str, str]]:
    """The record's JUnit properties (`cudabench.<key>`)."""
    properties = [(f"cudabench.{key}", junit_value(result.get(key))) for key in JUNIT_PROPERTIES]
    if result["outcome"] in ("failed", "error"):  # the failure element holds the whole message; this is its gist
        properties.append(("cudabench.message", message_summary(result.get("message"))))
    generation = dict(result.get("generation") or {})
    properties += [(f"cudabench.{key}", str(generation[key])) for key in ("tokens_in", "tokens_out")
                   if generation.get(key) is not None]
    return properties
