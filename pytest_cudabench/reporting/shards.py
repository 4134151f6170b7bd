"""Whether a set of reports are the shards of one run (`--cudabench-shard=K/N`, recorded as run.shard): for
`merge`, which refuses the same shard twice and says which shards of N are missing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def check_shards(reports: Sequence[Mapping[str, Any]],
                 names: Sequence[str] | None = None) -> tuple[list[str], list[int]]:
    """(problems, missing): problems are messages for reports that cannot be shards of one run (the same shard
    twice, different shard counts, shards sharing tasks, sharded and unsharded reports mixed); missing are the
    1-based shard indexes of N that no report holds (empty when the reports are not shards, or disagree on N).
    `names` (e.g. the file paths) name the reports in messages; else their run ids."""
    labels = list(names) if names is not None else [str((r.get("run") or {}).get("id")) for r in reports]
    shards = [(label, (r.get("run") or {}).get("shard")) for label, r in zip(labels, reports, strict=True)]
    sharded = [(label, shard) for label, shard in shards if shard]
    if not sharded:
        return [], []
    problems: list[str] = []
    unsharded = [label for label, shard in shards if not shard]
    if unsharded:
        problems.append(f"{', '.join(unsharded)}: not a shard (no run.shard), merged with shards; merge the shards "
                        "alone, or rerun without --cudabench-shard")
    counts = sorted({int(shard["count"]) for _label, shard in sharded})
    if len(counts) > 1:
        by_count = "; ".join(f"of {n}: " + ", ".join(label for label, s in sharded if int(s["count"]) == n)
                             for n in counts)
        problems.append(f"the shards were split different ways ({by_count}); every job of one run needs the same N "
                        "in --cudabench-shard=K/N")
        return problems, []
    count = counts[0]
    holders: dict[int, list[str]] = {}
    for label, shard in sharded:
        holders.setdefault(int(shard["index"]), []).append(label)
    for index, labels_of_index in sorted(holders.items()):
        if len(labels_of_index) > 1:
            problems.append(f"shard {index}/{count} is in {len(labels_of_index)} reports "
                            f"({', '.join(labels_of_index)}); keep one (e.g. the rerun) and merge again")
    owner: dict[str, str] = {}
    shared: dict[tuple[str, str], list[str]] = {}
    for label, shard in sharded:
        tasks = shard.get("tasks")
        for task in tasks if isinstance(tasks, list) else []:
            if task in owner and owner[task] != label:
                shared.setdefault((owner[task], label), []).append(task)
            owner.setdefault(task, label)
    for (first, second), tasks in shared.items():
        if holders.get(_index_of(sharded, first)) != holders.get(_index_of(sharded, second)):
            problems.append(f"{first} and {second} are different shards but share task(s) {', '.join(tasks[:5])}"
                            f"{' ...' if len(tasks) > 5 else ''}: the jobs collected different tasks (run every "
                            "job with the same paths, -k/-m selection, levels and samples)")
    missing = [k for k in range(1, count + 1) if k not in holders]
    return problems, missing


def _index_of(sharded: list[tuple[str, Any]], label: str) -> int:
    return next(int(shard["index"]) for other, shard in sharded if other == label)


def merged_shards(reports: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """For a merged report's run (in place of the last run's `shard`, which no longer describes it): {count,
    indexes (the shards merged), missing}; None when no report is a shard or they disagree on N."""
    shards = [(r.get("run") or {}).get("shard") for r in reports]
    counts = {int(s["count"]) for s in shards if s}
    if len(counts) != 1:
        return None
    (count,) = counts
    indexes = sorted({int(s["index"]) for s in shards if s})
    return {"count": count, "indexes": indexes, "missing": [k for k in range(1, count + 1) if k not in indexes]}
