"""The progress lines of a long run, as text: items done with an ETA (ItemPace), and the answers of a remote model
(AnswerWatch, in a thread). Where the lines go is the caller's (`write`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..generation.models import GenerationRequest
from ..generation.service import GenerationProgress, GenerationService, estimate_line


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ItemPace:
    """Every `interval` seconds (at least 30) as items finish: how many are done and an ETA from the pace so far."""

    def __init__(self, interval: float, start: float | None = None):
        self.interval = max(interval, 30.0)
        self.started = time.monotonic() if start is None else start
        self.next_line = self.started + self.interval
        self.total = 0

    def update(self, done: int, failed: int, errors: int, now: float | None = None) -> str | None:
        """The line due now, else None."""
        now = time.monotonic() if now is None else now
        if not self.total or done >= self.total or now < self.next_line or done == 0:
            return None
        self.next_line = now + self.interval
        elapsed = now - self.started
        eta = elapsed / done * (self.total - done)
        return (f"cudabench: {done}/{self.total} items done ({failed} failed, {errors} errors), elapsed "
                f"{duration_text(elapsed)}, ETA {duration_text(eta)}")


class AnswerWatch:
    """Every `interval` seconds while answers are outstanding, a line with how many are ready (requested this run or
    cached), in flight and waiting, over every process of the run (the generation cache tells)."""

    def __init__(self, service: GenerationService, interval: float, write: Callable[[str], None]):
        self.service = service
        self.interval = interval
        self.write = write
        self.progress: GenerationProgress | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_line: str | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self, requests: list[GenerationRequest]) -> None:
        estimate = estimate_line(self.service, requests)
        if estimate:
            self.write(estimate)
        self.progress = GenerationProgress(self.service.cache, [self.service.key(r) for r in requests],
                                           self.service.run_id, regenerate=self.service.settings.regenerate)
        self._thread = threading.Thread(target=self._watch, name="cudabench-progress", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        assert self.progress is not None
        next_line = time.monotonic() + min(self.interval, 2.0)  # the first line early, then every interval
        while not self._stop.wait(0.25):
            counts = self.progress.poll()
            if counts.finished:
                self._write(counts.line())
                return
            if time.monotonic() >= next_line:
                next_line = time.monotonic() + self.interval
                self._write(counts.line())

    def _write(self, line: str) -> None:
        with self._lock:
            if line == self._last_line:
                return
            self._last_line = line
            self.write(line)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def wait_for_requests(count: Callable[[], int], service: GenerationService, say: Callable[[str], None], *,
                      again: bool = False) -> None:
    """Waits while `count()` model requests are in flight, so that their answers (paid for) are cached as they
    arrive, saying how many and that Ctrl-C abandons them; a Ctrl-C meanwhile does (`service.abandon`), without
    a traceback."""
    in_flight = count()
    if not in_flight or service.abandoned:
        return
    say(f"cudabench: waiting for {in_flight} model request(s) in flight, so that their answers are cached; "
        f"Ctrl-C{' again' if again else ''} abandons them")
    try:
        while count() > 0 and not service.abandoned:
            time.sleep(0.2)
    except KeyboardInterrupt:
        left = count()
        service.abandon()
        say(f"cudabench: abandoned {left} model request(s) in flight: their answers are lost")
        return
    say("cudabench: the requests in flight finished; their answers are cached")
