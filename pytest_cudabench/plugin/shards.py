"""--cudabench-shard=K/N: after collection (and after -k/-m and item selection), keep the items of shard K and
deselect the rest, in every process alike (xdist workers each collect and must agree). The shard's record
(run.shard in the report) reaches the controller from a worker's output under xdist."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ..tasks.shards import shard_tasks
from .items import CudabenchItem
from .stash import SHARD_KEY

WORKER_SHARD_KEY = "cudabench_shard"  # in xdist's workeroutput


def shard_key(item: CudabenchItem) -> str:
    """The unit a shard holds whole: the task id (a CUDABench-Set task: all its scales)."""
    return item.family.shard_key


class ShardFilter:
    def __init__(self, config: pytest.Config, index: int, count: int):
        self.config = config
        self.index, self.count = index, count
        # Until collection (here, or on a worker) names its tasks; stays so if every worker crashed before reporting.
        config.stash[SHARD_KEY] = self.record(None)

    @pytest.hookimpl(trylast=True)  # split what the other selections kept, so the shards are balanced over it
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        counts = Counter(shard_key(i) for i in items if isinstance(i, CudabenchItem))
        kept = set(shard_tasks(counts, self.index, self.count))
        # Items that are not benchmark items (a project's own tests in the same run) stay in every shard.
        keep = [i for i in items if not isinstance(i, CudabenchItem) or shard_key(i) in kept]
        drop = [i for i in items if isinstance(i, CudabenchItem) and shard_key(i) not in kept]
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
        record = self.record(sorted(kept))
        config.stash[SHARD_KEY] = record
        if hasattr(config, "workeroutput"):
            config.workeroutput[WORKER_SHARD_KEY] = record

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        record = getattr(node, "workeroutput", {}).get(WORKER_SHARD_KEY)
        if record and self.config.stash[SHARD_KEY]["tasks"] is None:
            self.config.stash[SHARD_KEY] = record

    def record(self, tasks: list[str] | None) -> dict[str, Any]:
        return {"index": self.index, "count": self.count, "tasks": tasks}

    def pytest_report_header(self, config: pytest.Config) -> str:
        return f"cudabench: shard {self.index}/{self.count} (the items of every task in this shard; merge the " \
               "shards' reports with `python -m pytest_cudabench merge`)"
