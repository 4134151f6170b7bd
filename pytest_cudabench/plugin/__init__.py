"""The pytest layer: options, collection of task directories, items, and report plumbing. Thin by design:
all the work is in the domain modules (tasks, models, pipeline, report)."""

from __future__ import annotations

import contextlib
import difflib
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from ..config import (
    PERF_MODES,
    RUNTIMES,
    Settings,
    new_run_id,
    new_seed,
    non_negative_int,
    non_negative_seconds,
    one_of,
    parse_arch,
    parse_gpu_list,
    parse_levels,
    positive_int,
    positive_seconds,
    read_project_table,
)
from ..errors import ConfigError, ModelError, StageFailure, StageSkip, TaskError
from ..generation.models import GenerationRequest, NoAnswer, create_model
from ..generation.prompts import TEMPLATE_VERSION, messages, prompt_hash
from ..generation.service import GenerationProgress, GenerationService, usage_totals
from ..pipeline import Evaluation
from ..reporting import report as report_mod
from ..reporting.html import write_html
from ..tasks.loader import Task, find_suite_root, is_task_dir, load_task
from ..timing import stage as timing
from ..timing.gpus import gpu_arch, gpu_info, lookup_peaks

SETTINGS_KEY = pytest.StashKey[Settings]()
GENERATOR_KEY = pytest.StashKey[GenerationService]()
WORKERINPUT_KEY = "cudabench_settings"
WORKER_MACHINE_KEY = "cudabench_machine"

# (option, ini key, help, default as a string or None)
_OPTIONS = [
    ("model", "Model that answers: reference, replay:PATH, or a configured/remote model. Enables the benchmark.", None),
    ("levels", "Prompt levels to run, comma-separated: 1 guided, 2 algorithmic, 3 name only (default 1,2,3).", "1,2,3"),
    ("samples", "Answers drawn per task and level (default 1).", "1"),
    ("report-dir", "Where JSON/HTML reports go (default reports/).", "reports"),
    ("cache-dir", "Generation and compile cache (default .cudabench_cache/).", ".cudabench_cache"),
    ("seed", "Seed of the randomized inputs (default: a new one per run, recorded in the report).", None),
    ("arch", "nvcc target architecture, e.g. sm_90 (default: the GPU's, else sm_80).", None),
    ("runtime", "Where answers run: auto (GPU if usable, else CPU runtime), gpu, cpu.", "auto"),
    ("cases", "Randomized correctness cases per item (default 5).", "5"),
    ("timeout", "Wall-time limit per answer run in seconds (default: the task's).", None),
    ("concurrency", "Model requests in flight at once per worker (default 8).", "8"),
    ("attempts", "Attempts per item: >1 feeds compiler errors or mismatches back to the model (default 1).", "1"),
    ("perf", "Performance-Score definitions: roofline (ours, the default), or ncu: also CUDABench's exact Nsight "
             "Compute score, beside it (needs ncu with access to GPU counters).", "roofline"),
    ("progress", "Seconds between generation progress lines when the model is remote; 0: none (default 10).", "10"),
]


def _ini_name(option: str) -> str:
    return "cudabench_" + option.replace("-", "_")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cudabench", "text-to-CUDA benchmark (pytest-cudabench)")
    for option, help_text, _default in _OPTIONS:
        group.addoption(f"--cudabench-{option}", dest=_ini_name(option), default=None, help=help_text)
        parser.addini(_ini_name(option), help_text, default=None)
    group.addoption("--cudabench-gpus", dest="cudabench_gpus", default=None,
                    help="GPUs to spread xdist workers over, e.g. 0,2 (default: all visible).")
    group.addoption("--cudabench-calibrate", dest="cudabench_calibrate", action="store_true", default=False,
                    help="Measure the GPU's achievable bandwidth and FLOP/s (cached per GPU and driver) and score "
                         "against them instead of datasheet peaks.")
    group.addoption("--cudabench-regenerate", dest="cudabench_regenerate", action="store_true", default=False,
                    help="Ask the model again even where the generation cache has an answer.")
    group.addoption("--cudabench-sanitize", dest="cudabench_sanitize", action="store_true", default=False,
                    help="Run answers under AddressSanitizer (CPU runtime) or compute-sanitizer (GPU).")
    from .cudabench_set import add_options

    add_options(group)


# Keys of [tool.cudabench] (or cudabench.toml) besides the options: anything else is a typo, refused by name.
_PROJECT_KEYS = {"models", "sanitize", "calibrate", "regenerate", "gpus",
                 "set_files", "set_template", "set_seed", "set_scales"}  # CUDABench-Set (plugin/cudabench_set.py)


def _setting(config: pytest.Config, project: dict[str, Any], option: str) -> Any:
    """Command line, then ini, then [tool.cudabench], then the built-in default."""
    return _setting_and_origin(config, project, option)[0]


def _setting_and_origin(config: pytest.Config, project: dict[str, Any], option: str) -> tuple[Any, str]:
    """The value and where it came from, as the user wrote it (for messages that name what they typed)."""
    name = _ini_name(option)
    value = config.getoption(name)
    if value is not None:
        return value, f"--cudabench-{option}"
    value = config.getini(name)
    if value not in (None, ""):
        return value, f"ini key {name}"
    for key in (option.replace("-", "_"), option):
        if key in project:
            value = project[key]
            if isinstance(value, list):  # levels = [1, 2] in TOML
                value = ",".join(str(v) for v in value)
            return value, f"[tool.cudabench] {key}"
    return next(default for opt, _h, default in _OPTIONS if opt == option), f"--cudabench-{option}"


def check_project_keys(project: dict[str, Any]) -> None:
    known = {opt.replace("-", "_") for opt, _h, _d in _OPTIONS} | {opt for opt, _h, _d in _OPTIONS} | _PROJECT_KEYS
    unknown = sorted(set(project) - known)
    if unknown:
        close = {key: difflib.get_close_matches(key, sorted(known), n=1) for key in unknown}
        hints = ", ".join(f"{key!r}" + (f" (did you mean {close[key][0]!r}?)" if close[key] else "") for key in unknown)
        raise ConfigError(f"[tool.cudabench] (pyproject.toml or cudabench.toml): unknown key(s) {hints}; "
                          f"known keys: {', '.join(sorted(k for k in known if '-' not in k))}")


def build_settings(config: pytest.Config) -> Settings | None:
    rootdir = Path(config.rootpath)
    project = read_project_table(rootdir)
    check_project_keys(project)
    model = _setting(config, project, "model")
    if not model:
        return None

    def checked(option: str, parse):
        value, origin = _setting_and_origin(config, project, option)
        return parse(origin, value)
    runtime = checked("runtime", lambda origin, v: one_of(origin, v, RUNTIMES))
    perf = checked("perf", lambda origin, v: one_of(origin, v, PERF_MODES))
    seed = checked("seed", lambda origin, v: None if v is None else non_negative_int(origin, v))
    timeout_s = checked("timeout", lambda origin, v: None if v is None else positive_seconds(origin, v))
    checked("progress", lambda origin, v: None if v is None else non_negative_seconds(origin, v))
    gpus = config.getoption("cudabench_gpus") or project.get("gpus")
    if gpus is not None:
        parse_gpu_list("--cudabench-gpus" if config.getoption("cudabench_gpus") else "[tool.cudabench] gpus", gpus)
    return Settings(
        model=str(model),
        levels=checked("levels", lambda origin, v: parse_levels(v, origin)),
        samples=checked("samples", positive_int),
        report_dir=str(_setting(config, project, "report-dir")),
        cache_dir=str(_setting(config, project, "cache-dir")),
        seed=seed if seed is not None else new_seed(),
        run_id=new_run_id(str(model)),
        arch=checked("arch", lambda origin, v: None if v is None else parse_arch(origin, v)),
        runtime=runtime,
        cases=checked("cases", positive_int),
        timeout_s=timeout_s,
        sanitize=bool(config.getoption("cudabench_sanitize") or project.get("sanitize", False)),
        concurrency=checked("concurrency", positive_int),
        attempts=checked("attempts", positive_int),
        regenerate=bool(config.getoption("cudabench_regenerate")),
        calibrate=bool(config.getoption("cudabench_calibrate") or project.get("calibrate", False)),
        perf=perf,
        rootdir=str(rootdir),
        project=project,
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        if hasattr(config, "workerinput"):
            serialized = config.workerinput.get(WORKERINPUT_KEY)
            settings = Settings.from_serialized(serialized) if serialized else None
        else:
            settings = build_settings(config)
        if settings is None:
            return
        model = create_model(settings.model, settings.project)
    except ConfigError as exc:
        raise pytest.UsageError(f"pytest-cudabench: {exc}") from None
    config.stash[SETTINGS_KEY] = settings
    config.stash[GENERATOR_KEY] = GenerationService(model, settings)
    from . import cudabench_set

    try:
        cudabench_set.configure(config, settings)
    except ConfigError as exc:
        raise pytest.UsageError(f"pytest-cudabench: {exc}") from None
    # A broken task is an error for that task only; the rest of the suite still runs.
    config.option.continue_on_collection_errors = True
    config.addinivalue_line("markers", "cudabench: an item of the text-to-CUDA benchmark")
    for level in (1, 2, 3):
        config.addinivalue_line("markers", f"level{level}: prompt level {level}")
    for tier in ("easy", "medium", "hard"):
        config.addinivalue_line("markers", f"{tier}: task complexity tier {tier}")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(settings), "cudabench-xdist")
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Controller(config, settings), "cudabench-controller")
        try:
            interval = float(_setting(config, settings.project, "progress"))
        except ValueError:
            raise pytest.UsageError("pytest-cudabench: --cudabench-progress expects seconds, e.g. 10 (0: off)") \
                from None
        if config.stash[GENERATOR_KEY].cacheable and interval > 0 and config.get_verbosity() > -2:
            config.pluginmanager.register(ProgressLine(config, interval), "cudabench-progress")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """At the first item of this process, start fetching the answers of every item it collected (model calls are
    I/O-bound; items then find their answers ready). Cached answers are not requested again."""
    if isinstance(item, CudabenchItem) and not item.config.stash.get(_PREFETCHED_KEY, False):
        item.config.stash[_PREFETCHED_KEY] = True
        requests = [i.generation_request() for i in item.session.items if isinstance(i, CudabenchItem)]
        item.config.stash[GENERATOR_KEY].prefetch(requests)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker tells the controller which machine and GPU its items ran on."""
    config = session.config
    if hasattr(config, "workeroutput") and SETTINGS_KEY in config.stash:
        config.workeroutput[WORKER_MACHINE_KEY] = {
            **report_mod.machine(), "gpu": gpu_info(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if GENERATOR_KEY in config.stash:
        config.stash[GENERATOR_KEY].close()


_PREFETCHED_KEY = pytest.StashKey[bool]()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    from .cudabench_set import collect_file

    return collect_file(file_path, parent)


def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if SETTINGS_KEY in parent.config.stash and is_task_dir(path):
        return TaskDirectory.from_parent(parent, path=path)
    return None


class TaskDirectory(pytest.Directory):
    """A task directory: one item per prompt level and sample."""

    def collect(self):
        settings = self.config.stash[SETTINGS_KEY]
        task = load_task(self.path, find_suite_root(self.path))
        self.config.addinivalue_line("markers", f"{task.domain}: tasks of domain {task.domain}")
        for level in settings.levels:
            for sample in range(settings.samples):
                yield CudabenchItem.from_parent(self, name=item_name(level, sample), task=task,
                                                level=level, sample=sample)

    def repr_failure(self, excinfo):  # type: ignore[override]
        if isinstance(excinfo.value, TaskError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def generation_request(task: Task, level: int, sample: int) -> GenerationRequest:
    msgs = messages(task, level)
    return GenerationRequest(task=task, level=level, sample=sample, messages=msgs, prompt_hash=prompt_hash(msgs))


def item_name(level: int, sample: int) -> str:
    return f"level{level}[sample{sample}]"


def parse_item_nodeid(nodeid: str) -> tuple[str, int, int] | None:
    """`task_suite/ai/relu::level2[sample0]` -> ("task_suite/ai/relu", 2, 0); None for other node ids."""
    path, _, name = nodeid.partition("::")
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
        for marker in ("cudabench", f"level{level}", task.tier, task.domain):
            self.add_marker(marker)
        self.evaluation = Evaluation(task, level, sample, self.config.stash[SETTINGS_KEY], self.nodeid)
        self.answer: str | None = None
        self.request: GenerationRequest | None = None

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
            self.evaluation.record_generation_failure(str(exc), time.perf_counter() - start)
            raise
        self.evaluation.record_generation(generation, request.prompt_hash, time.perf_counter() - start)
        self.answer = generation.content
        self.request = request

    def runtest(self) -> None:
        assert self.answer is not None
        settings = self.config.stash[SETTINGS_KEY]
        try:
            self.evaluation.run_attempts(self.request, self.answer, self.config.stash[GENERATOR_KEY].get,
                                         settings.attempts)
        except StageSkip as exc:
            pytest.skip(f"{exc.stage}: {exc.reason}")
        except StageFailure as exc:
            for key in ("log", "details"):
                text = self.evaluation.result["stages"].get(exc.stage, {}).get(key) or (exc.details if key == "details" else "")
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
        return super().repr_failure(excinfo, style=style)

    def _repr_failure_py(self, excinfo, style=None):  # setup errors (the model call) come through here
        if isinstance(excinfo.value, (ModelError, ConfigError)):
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if isinstance(item, CudabenchItem):
        outcome = _REPORT_OUTCOME.get((report.when, report.outcome))
        if outcome == "failed" and call.excinfo and not isinstance(call.excinfo.value, StageFailure):
            outcome = "error"  # the harness or the task broke, not the answer: never counted as a wrong answer
        if outcome is not None:
            result = item.evaluation.result
            result["outcome"] = outcome
            if outcome in ("failed", "error") and result.get("message") is None:
                result["message"] = str(call.excinfo.value) if call.excinfo else "failed"
                result["failed_stage"] = result.get("failed_stage") or result.get("stage_reached")
            report.cudabench = result  # plain builtins: travels through xdist
            # junitxml reads the teardown report's properties, which are copied from the item's.
            item.user_properties.extend(
                (f"cudabench.{key}", "" if result.get(key) is None else str(result.get(key)))
                for key in _JUNIT_PROPERTIES)
            generation = result.get("generation") or {}
            for key in ("tokens_in", "tokens_out"):
                if generation.get(key) is not None:
                    item.user_properties.append((f"cudabench.{key}", str(generation[key])))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    # Items of one task stay on one worker (its reference solution and caches are shared); only when the user
    # chose no distribution mode of their own.
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", None) == "no" \
            and (config.getoption("cudabench_model") or config.getini("cudabench_model")):
        config.option.dist = "loadscope"


def visible_gpus(config: pytest.Config) -> list[str]:
    """The GPU ids workers are spread over: --cudabench-gpus, else an inherited CUDA_VISIBLE_DEVICES, else all."""
    chosen = config.getoption("cudabench_gpus")
    if chosen:
        return parse_gpu_list("--cudabench-gpus", chosen)
    inherited = os.environ.get("CUDA_VISIBLE_DEVICES")
    if inherited is not None:
        return [g.strip() for g in inherited.split(",") if g.strip() and g.strip() != "-1"]
    from ..timing.gpus import detect_cuda_devices

    return [str(i) for i in range(detect_cuda_devices())]


def assign_gpus(gpus: list[str], workers: int) -> list[str]:
    """Round-robin GPU per worker spec index: a crashed worker's replacement reuses its spec, so its GPU."""
    return [gpus[i % len(gpus)] for i in range(workers)] if gpus else []


class XdistHooks:
    """Registered only when xdist is installed: hands the controller's settings (seed, run id) to each worker and
    pins each worker to one GPU."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        node.workerinput[WORKERINPUT_KEY] = self.settings.serialized()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log):
        if config.option.dist == "loadscope":
            return _task_scope_scheduler()(config, log)
        return None

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_auto_num_workers(self, config: pytest.Config) -> int | None:
        gpus = visible_gpus(config)
        return len(gpus) or None  # without GPUs, xdist's default (CPU count) spreads the CPU runtime

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_setupnodes(self, config: pytest.Config, specs) -> None:
        gpus = visible_gpus(config)
        if not gpus:
            return
        if len(specs) > len(gpus):
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            message = (f"cudabench: {len(specs)} workers share {len(gpus)} GPU(s); timings will interfere "
                       "(-n auto gives one worker per GPU)")
            if reporter is not None:
                reporter.write_line(f"WARNING {message}", yellow=True)
        for spec, gpu in zip(specs, assign_gpus(gpus, len(specs))):
            # A spec that pins its own device, or runs on another machine, knows its GPUs better than we do.
            if "CUDA_VISIBLE_DEVICES" in spec.env or not getattr(spec, "popen", True):
                continue
            spec.env["CUDA_VISIBLE_DEVICES"] = gpu


def _task_scope_scheduler():
    """xdist's loadscope, except that a crashed item is not handed out again: stock loadscope requeues the crashed
    worker's whole scope, crashed item included, so an item that kills its worker kills every replacement in turn
    and the session hangs (seen with xdist 3.8)."""
    from xdist.scheduler import LoadScopeScheduling

    class TaskScopeScheduling(LoadScopeScheduling):
        def remove_node(self, node):
            workload = self.assigned_work.pop(node)
            pending = [(scope, nodeid) for scope, unit in workload.items() for nodeid, done in unit.items()
                       if not done]
            if not pending:
                return None
            scope, crashed = pending[0]  # items of a scope run in order: the first pending one was running
            workload[scope][crashed] = True
            self.workqueue.update({s: unit for s, unit in workload.items() if not all(unit.values())})
            for other in self.assigned_work:
                self._reschedule(other)
            return crashed

    return TaskScopeScheduling


class Controller:
    """Runs in the controller only (or the single process): gathers item results and writes the reports."""

    def __init__(self, config: pytest.Config, settings: Settings):
        self.config = config
        self.settings = settings
        self.items: dict[str, dict[str, Any]] = {}
        self.worker_machines: dict[str, dict[str, Any]] = {}
        self.collection_errors: list[dict[str, str]] = []
        self.started = time.time()
        self.report_path: Path | None = None
        self.html_path: Path | None = None
        self.benchmark_path: Path | None = None
        self.report: dict[str, Any] | None = None

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append({"path": report.nodeid, "message": str(report.longrepr)})

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        machine = getattr(node, "workeroutput", {}).get(WORKER_MACHINE_KEY)
        if machine:
            self.worker_machines[node.gateway.id] = machine

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = getattr(report, "cudabench", None)
        if result is not None:
            self.items[report.nodeid] = result
        elif report.failed and parse_item_nodeid(report.nodeid) and report.nodeid not in self.items:
            # A crashed xdist worker: the report is synthesized without our data.
            self.items[report.nodeid] = _crashed_item(report)

    def run_metadata(self) -> dict[str, Any]:
        s = self.settings
        nvcc = None
        try:
            from ..source.compiler import find_nvcc, nvcc_version

            nvcc = nvcc_version(str(find_nvcc()))
        except ConfigError:
            pass
        finished = time.time()
        workers = getattr(self.config.option, "numprocesses", None)
        gpu = gpu_info()
        if gpu is None:  # a controller without a GPU (remote workers): the GPU the workers measured on
            gpu = next((w["gpu"] for w in self.worker_machines.values() if w.get("gpu")), None)
        table = lookup_peaks(gpu["name"]) if gpu and gpu.get("name") else None
        peaks, peaks_by_item = report_mod.run_peaks(list(self.items.values()), table.to_dict() if table else None)
        return {
            "id": s.run_id, "started": _iso(self.started), "finished": _iso(finished),
            "duration_s": round(finished - self.started, 3), "model": s.model, "seed": s.seed,
            "levels": list(s.levels), "samples": s.samples, "runtime": s.runtime, "arch": s.arch or gpu_arch(),
            "cases": s.cases, "template_version": TEMPLATE_VERSION,
            "command": report_mod.command_line(), "workers": workers, "versions": report_mod.versions(nvcc),
            "machine": report_mod.machine(), "gpu": gpu, "peaks": peaks, "peaks_by_item": peaks_by_item,
            "worker_machines": self.worker_machines or None,
            "performance_measured": any(i.get("performance_score") is not None for i in self.items.values()),
            "performance_definition": "analytic roofline: bound time of the task's minimum FLOPs and DRAM bytes / "
                                      "measured median (cold L2), mean over the benchmark scales",
            "ncu_performance_definition": timing.NCU_DEFINITION if s.perf == "ncu" else None,
            "usage": usage_totals(list(self.items.values())),
        }

    @pytest.hookimpl(tryfirst=True)  # before junitxml writes its file, so suite properties get in
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.report = report_mod.build_report(self.run_metadata(), list(self.items.values()), self.collection_errors)
        self.report_path = report_mod.write_json(self.report, self.settings.report_path / f"{self.settings.run_id}.json")
        self.add_junit_suite_properties()
        if self.report["run"]["performance_measured"]:  # timings also in pytest-benchmark's format
            from ..reporting.runs import to_pytest_benchmark

            self.benchmark_path = report_mod.write_json(to_pytest_benchmark(self.report),
                                                        self.report_path.with_suffix(".benchmark.json"))
        try:
            self.html_path = write_html(self.report, self.report_path.with_suffix(".html"))
        except Exception as exc:  # a broken page must not fail the run; the JSON is written
            warnings.warn(f"cudabench: HTML report not written: {type(exc).__name__}: {exc}")

    def add_junit_suite_properties(self) -> None:
        from _pytest.junitxml import xml_key

        xml = self.config.stash.get(xml_key, None)
        if xml is None or self.report is None:
            return
        for name, value in report_mod.suite_properties(self.report).items():
            xml.add_global_property(f"cudabench.{name}", value)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.report is None:
            return
        terminalreporter.write_sep("=", f"cudabench: {self.settings.model}, seed {self.settings.seed}")
        for line in report_mod.summary_lines(self.report):
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"JSON report: {self.report_path}")
        if self.html_path is not None:
            terminalreporter.write_line(f"HTML report: {self.html_path}")
        if self.benchmark_path is not None:
            terminalreporter.write_line(f"pytest-benchmark JSON: {self.benchmark_path}")


def _crashed_item(report: pytest.TestReport) -> dict[str, Any]:
    path, level, sample = parse_item_nodeid(report.nodeid)
    message = str(report.longrepr).strip().splitlines()[-1] if report.longrepr else "worker crashed"
    return {"nodeid": report.nodeid, "task": "/".join(Path(path).parts[-2:]), "level": level, "sample": sample,
            "outcome": "failed", "failed_stage": "crash", "stage_reached": None, "message": message, "stages": {},
            "compiled": False, "correct": None, "performance_score": None, "speedup": None,
            "domain": Path(path).parts[-2] if len(Path(path).parts) >= 2 else None, "tier": None}


def _iso(timestamp: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


class ProgressLine:
    """Controller only, remote models only: every `interval` seconds while answers are outstanding, a line with
    how many are ready (requested this run or cached), in flight and waiting, over every worker of the run."""

    def __init__(self, config: pytest.Config, interval: float):
        self.config = config
        self.interval = interval
        self.progress: GenerationProgress | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_line: str | None = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        items = [i for i in session.items if isinstance(i, CudabenchItem)]
        if items:
            self.start([i.generation_request() for i in items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        """Under xdist the controller collects nothing; every worker collects the same items, so the first list
        tells which answers the run needs."""
        if self._thread is not None:
            return
        tasks: dict[str, Task | None] = {}
        requests = []
        for parsed in filter(None, map(parse_item_nodeid, ids)):
            path, level, sample = parsed
            if path not in tasks:
                try:
                    directory = self.config.rootpath / path
                    tasks[path] = load_task(directory, find_suite_root(directory))
                except TaskError:
                    tasks[path] = None  # its collection error is reported elsewhere
            if tasks[path] is not None:
                requests.append(generation_request(tasks[path], level, sample))
        if requests:
            self.start(requests)

    def start(self, requests: list[GenerationRequest]) -> None:
        service = self.config.stash[GENERATOR_KEY]
        self.progress = GenerationProgress(service.cache, [service.key(r) for r in requests], service.run_id,
                                           regenerate=service.settings.regenerate)
        self._thread = threading.Thread(target=self._watch, name="cudabench-progress", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        assert self.progress is not None
        next_line = time.monotonic() + min(self.interval, 2.0)  # the first line early, then every interval
        while not self._stop.wait(0.25):
            counts = self.progress.poll()
            if counts.finished:
                self._write(counts.line())
                return
            if time.monotonic() >= next_line:
                next_line = time.monotonic() + self.interval
                self._write(counts.line())

    def _write(self, line: str) -> None:
        with self._lock:
            if line == self._last_line:
                return
            self._last_line = line
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            capture = self.config.pluginmanager.get_plugin("capturemanager")
            if reporter is None:
                return
            # Lines written while an item runs would land in its captured output; pytest's live logging suspends
            # capture the same way.
            with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
                reporter.ensure_newline()  # pytest starts the next progress line afresh
                reporter.write_line(line)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
