"""What every benchmark task offers the layers above it, whatever its family (a task directory, a CUDABench-Set
row): the item record's identity (results.ItemIdentity, what new_result takes) and the reference model's answer
(generation.models)."""

from __future__ import annotations

from typing import Protocol

from ..results import ItemIdentity


class BenchTask(ItemIdentity, Protocol):
    def solution_source(self) -> str:
        """The task's own correct answer (the `reference` model answers with it)."""
        ...
