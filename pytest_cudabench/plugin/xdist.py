"""xdist glue, registered only when xdist is installed: settings to the workers, one GPU per worker, and a
scheduler that keeps a task's items on one worker."""

from __future__ import annotations

import pytest

from ..config import Settings
from ..session.workers import assign_gpus, visible_gpus
from .stash import WORKERINPUT_KEY


def worker_count(config: pytest.Config) -> int | None:
    """xdist workers of this run (-n N, or one per --tx spec with `N*` counted); None without distribution."""
    if getattr(config.option, "dist", "no") == "no" or not getattr(config.option, "tx", None):
        return None
    from xdist.workermanage import parse_tx_spec_config

    return len(parse_tx_spec_config(config))


class XdistHooks:
    """Hands the controller's settings (seed, run id) to each worker and pins each worker to one GPU."""

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
        gpus = visible_gpus(self.settings)
        return len(gpus) or None  # without GPUs, xdist's default (CPU count) spreads the CPU runtime

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_setupnodes(self, config: pytest.Config, specs) -> None:
        gpus = visible_gpus(self.settings)
        if not gpus:
            return
        if len(specs) > len(gpus):
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            message = (f"cudabench: {len(specs)} workers share {len(gpus)} GPU(s); timings will interfere "
                       "(-n auto gives one worker per GPU)")
            if reporter is not None:
                reporter.write_line(f"WARNING {message}", yellow=True)
        for spec, gpu in zip(specs, assign_gpus(gpus, len(specs)), strict=True):
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
