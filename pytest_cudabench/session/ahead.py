"""Compile-ahead (compile_ahead.py) for the items this process runs next, as the plugin names them: kernel items only
(a CUDABench-Set answer is a whole program, built by its own compile stage), each with its answer as soon as the
model has given it."""

from __future__ import annotations

from collections.abc import Iterable

from ..compile_ahead import AheadItem, CompileAhead, default_depth
from ..config import Settings
from ..generation.service import GenerationService
from ..tasks.loader import Task
from .families import Family


class AheadPool:
    def __init__(self, settings: Settings, service: GenerationService):
        self.settings, self.service = settings, service
        self.depth = default_depth() if settings.compile_ahead is None else settings.compile_ahead
        self.pool: CompileAhead | None = None  # started at the first item

    @property
    def active(self) -> bool:
        return self.depth > 0

    def offer(self, upcoming: Iterable[tuple[str, Family, int, int]]) -> None:
        """The items that run next, in order: (node id, family, level, sample)."""
        if self.pool is None:
            self.pool = CompileAhead(self.settings, self.depth)
        self.pool.offer([self._ahead(nodeid, task, family, level, sample) for nodeid, family, level, sample in upcoming
                         if (task := family.kernel_task()) is not None])

    def _ahead(self, nodeid: str, task: Task, family: Family, level: int, sample: int) -> AheadItem:
        request = family.request(level, sample)

        def answer() -> str | None:
            generation = self.service.ready(request)
            return generation.content if generation is not None else None

        return AheadItem(nodeid, task, answer)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None
