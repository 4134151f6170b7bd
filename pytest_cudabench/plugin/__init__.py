"""The pytest layer: the hooks, and what each hands to (options, items, controller, xdist, progress). Thin by
design: the work is in the domain, which it reaches through session/ alone (the option table, the task families and
their evaluations, the items' runs and outcomes, the run's ledger and reports, compile-ahead, progress, workers),
besides the settings (config) and the error types (errors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..config import Settings
from ..errors import ConfigError
from ..session import ItemSelection, compile_ahead_here, is_task_dir, markers, open_run, task_dirs_named, worker_machine
from . import cudabench_set, hookspecs, resume
from .compile_ahead import CompileAheadHooks
from .controller import Controller
from .items import CudabenchItem, TaskDirectory, record_outcome
from .options import add_options, build_settings, model_requested
from .progress import ProgressLine, wait_for_requests_in_flight
from .shards import ShardFilter
from .stash import GENERATOR_KEY, PREFETCHED_KEY, SETTINGS_KEY, WORKER_MACHINE_KEY, WORKERINPUT_KEY
from .termination import install_sigterm_handler
from .xdist import XdistHooks, worker_count

_SELECTION_KEY = pytest.StashKey[ItemSelection]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    # Items of one task stay on one worker (its reference solution and caches are shared); only when the user
    # chose no distribution mode of their own.
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", None) == "no" \
            and model_requested(config):
        config.option.dist = "loadscope"


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)  # an xdist worker's: the controller's settings come with it
    worker = workerinput is not None
    try:
        settings: Settings | None
        if workerinput is not None:
            serialized = workerinput.get(WORKERINPUT_KEY)
            settings = Settings.from_serialized(serialized) if serialized else None
        else:
            settings = build_settings(config)
        if settings is None:
            if not worker:
                config.pluginmanager.register(MissingModelHint(config), "cudabench-hint")
            return
        service = open_run(settings, config.hook.pytest_cudabench_model(spec=settings.model, project=settings.project),
                           controller=not worker)
        config.stash[SETTINGS_KEY] = settings
        config.stash[GENERATOR_KEY] = service
        cudabench_set.configure(config, settings)
    except ConfigError as exc:
        raise pytest.UsageError(f"pytest-cudabench: {exc}") from None
    resume.configure(config, settings)
    install_sigterm_handler(config)  # SIGTERM (a scheduler's time limit) ends the run as Ctrl-C does
    try:
        selection = ItemSelection(Path(config.invocation_params.dir), config.args, settings.levels, settings.samples)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.args[:] = selection.args
    config.stash[_SELECTION_KEY] = selection
    # A broken task is an error for that task only; the rest of the suite still runs.
    config.option.continue_on_collection_errors = True
    for line in markers():
        config.addinivalue_line("markers", line)
    if settings.shard:
        config.pluginmanager.register(ShardFilter(config, *settings.shard), "cudabench-shard")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(settings), "cudabench-xdist")
    if compile_ahead_here(settings, worker=worker, workers=None if worker else worker_count(config)):
        config.pluginmanager.register(CompileAheadHooks(config, settings), "cudabench-compile-ahead")
    if not worker:
        config.pluginmanager.register(Controller(config, settings), "cudabench-controller")
        if config.stash[GENERATOR_KEY].cacheable and settings.progress_s > 0 and config.get_verbosity() > -2:
            config.pluginmanager.register(ProgressLine(config, settings.progress_s), "cudabench-progress")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    return cudabench_set.collect_file(file_path, parent)


def pytest_collect_directory(path, parent: pytest.Collector) -> pytest.Collector | None:
    if SETTINGS_KEY in parent.config.stash and is_task_dir(path):
        return TaskDirectory.from_parent(parent, path=path)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selection = config.stash.get(_SELECTION_KEY, None)
    if selection:
        kept = [selection.keeps(item.path, item.name) for item in items]
        if not all(kept):
            config.hook.pytest_deselected(items=[item for item, keep in zip(items, kept, strict=True) if not keep])
            items[:] = [item for item, keep in zip(items, kept, strict=True) if keep]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """At the first item of this process, start fetching the answers of every item it collected (model calls are
    I/O-bound; items then find their answers ready). Cached answers are not requested again."""
    if isinstance(item, CudabenchItem) and not item.config.stash.get(PREFETCHED_KEY, False):
        item.config.stash[PREFETCHED_KEY] = True
        requests = [i.generation_request() for i in item.session.items if isinstance(i, CudabenchItem)]
        item.config.stash[GENERATOR_KEY].prefetch(requests)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> bool | None:
    """An xdist worker whose controller was interrupted (Ctrl-C, or SIGINT sent to it alone) starts no further
    item: the controller no longer listens, and an item would ask the model for nothing."""
    service = item.config.stash.get(GENERATOR_KEY, None)
    if isinstance(item, CudabenchItem) and service is not None and service.interrupted():
        item.session.shouldstop = "the run was interrupted (Ctrl-C)"
        return True
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session):
    """No queued model request starts once the items are done or interrupted (Ctrl-C, -x): closed here, before the
    reports are written (a request started meanwhile would run, and be paid for, for nothing)."""
    try:
        return (yield)
    finally:
        if GENERATOR_KEY in session.config.stash:
            session.config.stash[GENERATOR_KEY].close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if isinstance(item, CudabenchItem):
        record_outcome(item, call, report)
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker tells the controller which machine and GPU its items ran on."""
    config = session.config
    if hasattr(config, "workeroutput") and SETTINGS_KEY in config.stash:
        config.workeroutput[WORKER_MACHINE_KEY] = worker_machine()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Requests still in flight (prefetches of items that did not run: -x, another worker's items) finish and are
    cached before the process exits, unless Ctrl-C abandons them."""
    if GENERATOR_KEY in config.stash:
        service = config.stash[GENERATOR_KEY]
        service.close()
        wait_for_requests_in_flight(config, service.requests_in_flight, service, quiet=hasattr(config, "workerinput"))


class MissingModelHint:
    """`pytest task_suite` without a model collects no benchmark items; say why instead of "no tests ran"."""

    def __init__(self, config: pytest.Config):
        self.task_paths = task_dirs_named(Path(config.invocation_params.dir), config.args)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.task_paths:
            terminalreporter.write_line(
                "cudabench: task directories were given but no model, so no benchmark items were collected; "
                "name one, e.g. --cudabench-model=reference (offline: the tasks' own solutions), "
                "--cudabench-model=replay:answers.jsonl or a configured model", yellow=True)
