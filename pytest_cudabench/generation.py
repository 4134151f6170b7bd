"""Getting answers: the generation cache in front of a model, and concurrent prefetching.

(Minimal version; extended by the remote-models work: concurrency, cross-worker dedupe, export.)
"""

from __future__ import annotations

from .config import Settings
from .models import Generation, GenerationRequest, Model


class GenerationService:
    def __init__(self, model: Model, settings: Settings):
        self.model = model
        self.settings = settings

    def prefetch(self, requests: list[GenerationRequest]) -> None:
        """Starts fetching answers for the items this worker will run; returns at once."""

    def get(self, request: GenerationRequest) -> Generation:
        return self.model.generate(request)

    def close(self) -> None:
        pass
