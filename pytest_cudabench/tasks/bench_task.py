"""What every benchmark task offers the layers above it, whatever its family (a task directory, a CUDABench-Set
row): the item record's identity (results.new_result) and the reference model's answer (generation.models)."""

from __future__ import annotations

from typing import Protocol


class BenchTask(Protocol):
    @property
    def id(self) -> str:
        """Stable key: the item record's `task`, and the key of replay files and generation caches."""

    @property
    def title(self) -> str | None: ...

    @property
    def domain(self) -> str | None: ...

    @property
    def tier(self) -> str | None: ...

    def solution_source(self) -> str:
        """The task's own correct answer (the `reference` model answers with it)."""
        ...
