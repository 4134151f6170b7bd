"""--cudabench-shard=K/N: after collection (and after -k/-m and item selection), keep the items of shard K and
deselect the rest, in every process alike (xdist workers each collect and must agree). The shard's record
(run.shard in the report) reaches the controller from a worker's output under xdist."""

from __future__ import annotations

import pytest

from ..session import Shard
from .items import CudabenchItem
from .stash import SHARD_KEY

WORKER_SHARD_KEY = "cudabench_shard"  # in xdist's workeroutput


class ShardFilter:
    def __init__(self, config: pytest.Config, index: int, count: int):
        self.config = config
        self.shard = Shard(index, count)
        # Until collection (here, or on a worker) names its tasks; stays so if every worker crashed before reporting.
        config.stash[SHARD_KEY] = self.shard.record(None)

    @pytest.hookimpl(trylast=True)  # split what the other selections kept, so the shards are balanced over it
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        # The unit a shard holds whole is the family's shard key: the task id (a CUDABench-Set task: all its scales).
        kept = self.shard.kept([i.family.shard_key for i in items if isinstance(i, CudabenchItem)])
        # Items that are not benchmark items (a project's own tests in the same run) stay in every shard.
        keeps = [not isinstance(i, CudabenchItem) or i.family.shard_key in kept for i in items]
        if not all(keeps):
            config.hook.pytest_deselected(items=[i for i, keep in zip(items, keeps, strict=True) if not keep])
            items[:] = [i for i, keep in zip(items, keeps, strict=True) if keep]
        record = self.shard.record(sorted(kept))
        config.stash[SHARD_KEY] = record
        if hasattr(config, "workeroutput"):
            config.workeroutput[WORKER_SHARD_KEY] = record

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        record = getattr(node, "workeroutput", {}).get(WORKER_SHARD_KEY)
        if record and self.config.stash[SHARD_KEY]["tasks"] is None:
            self.config.stash[SHARD_KEY] = record

    def pytest_report_header(self, config: pytest.Config) -> str:
        return self.shard.header_line()
