"""Shards: the tasks of a run split into N groups, for batch schedulers (Slurm arrays, Kubernetes indexed jobs, CI
matrices) where each job runs one group and the reports are merged afterwards.

The split depends only on the task ids and their item counts, never on the machine, the process or Python's
salted hash(), so every job (and every xdist worker of a job) computes the same groups. All items of a task stay in
one shard: its reference solution and compile cache are shared, and a merged report never sees half a task."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

SHARD_USAGE = "K/N with 1 <= K <= N, e.g. 2/4 (the second of four shards)"


def parse_shard(origin: str, value: Any) -> tuple[int, int]:
    """'2/4' -> (2, 4): the 1-based shard index and the shard count."""
    text = str(value).strip()
    index_text, slash, count_text = text.partition("/")
    try:
        index, count = int(index_text), int(count_text)
    except ValueError:
        index = count = 0
    if not slash or not 1 <= index <= count:
        raise ConfigError(f"{origin}={value}: expected {SHARD_USAGE}")
    return index, count


def _stable_key(task_id: str) -> str:
    return hashlib.sha256(task_id.encode()).hexdigest()


def split_tasks(item_counts: Mapping[str, int], count: int) -> list[list[str]]:
    """The task ids of each of `count` shards (shard K is element K-1), balanced by item count: the largest
    tasks are placed first, each into the shard with the fewest items so far (longest-processing-time first); ties
    between tasks of equal size are broken by a hash of the task id (so neighbouring tasks of one domain spread
    out), ties between shards by the lower index. Each shard's ids are sorted."""
    if count < 1:
        raise ValueError(f"shard count must be >= 1, got {count}")
    shards: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    for task_id in sorted(item_counts, key=lambda t: (-item_counts[t], _stable_key(t), t)):
        target = min(range(count), key=lambda k: (loads[k], k))
        shards[target].append(task_id)
        loads[target] += item_counts[task_id]
    return [sorted(shard) for shard in shards]


def shard_tasks(item_counts: Mapping[str, int], index: int, count: int) -> list[str]:
    """The task ids of shard `index` (1-based) of `count`."""
    return split_tasks(item_counts, count)[index - 1]


class Shard:
    """Shard `index` (1-based) of `count` of a run: which tasks it keeps, and its record (run.shard in the report)."""

    def __init__(self, index: int, count: int):
        self.index, self.count = index, count

    def kept(self, task_ids: list[str]) -> set[str]:
        """Of the tasks of these items (a task id per item), those of this shard."""
        return set(shard_tasks(Counter(task_ids), self.index, self.count))

    def record(self, tasks: list[str] | None) -> dict[str, Any]:
        """`tasks`: None until collection names them."""
        return {"index": self.index, "count": self.count, "tasks": tasks}

    def header_line(self) -> str:
        return f"cudabench: shard {self.index}/{self.count} (the items of every task in this shard; merge the " \
               "shards' reports with `python -m pytest_cudabench merge`)"
