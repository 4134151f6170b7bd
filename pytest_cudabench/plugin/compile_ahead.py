"""Glue of compile-ahead (compile_ahead.py): as each item starts, the items this process runs next are
offered to the pool; the pool stops when the items are done or interrupted.

Which items come next: without xdist, the session's items after the current one. Under xdist a worker collects
every item but runs only those the controller sends it, so the worker's own queue of items sent and not yet run is
what comes next (with the default `loadscope` distribution, all the items of a task at once; with `load`, the
chunks the scheduler handed out). Compiling ahead from the session's order there would build other workers' items.
"""

from __future__ import annotations

import pytest

from ..config import Settings
from ..session import AheadPool
from .items import CudabenchItem
from .stash import GENERATOR_KEY


class CompileAheadHooks:
    def __init__(self, config: pytest.Config, settings: Settings):
        self.pool = AheadPool(settings, config.stash[GENERATOR_KEY])

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if isinstance(item, CudabenchItem) and self.pool.active:
            self.pool.offer([(i.nodeid, i.family, i.level, i.sample) for i in upcoming_items(item)
                             if isinstance(i, CudabenchItem)])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        try:
            return (yield)
        finally:
            self.pool.close()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.pool.close()


def upcoming_items(item: pytest.Item) -> list[pytest.Item]:
    """The items this process will run after `item`, in order, as far as it knows them."""
    items = item.session.items
    worker = _xdist_worker(item.config)
    if worker is None:
        index = items.index(item) if item in items else len(items)
        return items[index + 1:]
    upcoming = [worker.nextitem_index] if isinstance(worker.nextitem_index, int) else []
    with worker.torun.lock() as queued:
        upcoming += [i for i in queued if isinstance(i, int)]
    return [items[i] for i in upcoming if i < len(items)]


def _xdist_worker(config: pytest.Config):
    """xdist's WorkerInteractor of this worker process (its `torun` queue and `nextitem_index`), else None."""
    if not hasattr(config, "workerinput"):
        return None
    for plugin in config.pluginmanager.get_plugins():
        if hasattr(plugin, "torun") and hasattr(plugin, "nextitem_index"):
            return plugin
    return None
