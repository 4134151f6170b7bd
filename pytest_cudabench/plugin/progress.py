"""The generation progress line of remote models, in the controller."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable

import pytest

from ..generation.models import GenerationRequest
from ..generation.service import GenerationProgress, GenerationService, estimate_line
from .items import CudabenchItem, generation_requests_of_nodeids
from .stash import GENERATOR_KEY


def write_live_line(config: pytest.Config, line: str) -> None:
    """A line on the terminal while items run (from any thread), on a line of its own."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    # Lines written while an item runs would land in its captured output; pytest's live logging suspends
    # capture the same way.
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        # On a line of its own: xdist writes its progress dots without the marker ensure_newline looks at.
        terminal = getattr(reporter, "_tw", None)
        if terminal is not None and terminal.width_of_current_line:
            reporter.write("\n")
        else:
            reporter.ensure_newline()
        reporter.write_line(line)


def wait_for_requests_in_flight(config: pytest.Config, count: Callable[[], int], service: GenerationService, *,
                                again: bool = False, quiet: bool = False) -> None:
    """Waits while `count()` model requests are in flight, so that their answers (paid for) are cached as they
    arrive, saying how many and that Ctrl-C abandons them; a Ctrl-C meanwhile does (`service.abandon`), without
    a traceback."""
    in_flight = count()
    if not in_flight or service.abandoned:
        return

    def say(line: str) -> None:
        if quiet:
            return
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            write_live_line(config, line)
        else:
            print(line, file=sys.stderr, flush=True)

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


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ItemProgress:
    """Controller only: on long runs, every `interval` seconds (at least 30) as items finish, how many are done
    and an ETA from the pace so far."""

    def __init__(self, config: pytest.Config, interval: float, start: float | None = None):
        self.config = config
        self.interval = max(interval, 30.0)
        self.started = time.monotonic() if start is None else start
        self.next_line = self.started + self.interval
        self.total = 0

    def update(self, done: int, failed: int, errors: int, now: float | None = None) -> str | None:
        now = time.monotonic() if now is None else now
        if not self.total or done >= self.total or now < self.next_line or done == 0:
            return None
        self.next_line = now + self.interval
        elapsed = now - self.started
        eta = elapsed / done * (self.total - done)
        line = (f"cudabench: {done}/{self.total} items done ({failed} failed, {errors} errors), elapsed "
                f"{duration_text(elapsed)}, ETA {duration_text(eta)}")
        write_live_line(self.config, line)
        return line


class ProgressLine:
    """Controller only, remote models only: every `interval` seconds while answers are outstanding, a line with
    how many are ready (requested this run or cached), in flight and waiting, over every worker of the run."""

    def __init__(self, config: pytest.Config, interval: float):
        self.config = config
        self.interval = interval
        self.progress: GenerationProgress | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_line: str | None = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        items = [i for i in session.items if isinstance(i, CudabenchItem)]
        if items:
            self.start([i.generation_request() for i in items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        """Under xdist the controller collects nothing; every worker collects the same items, so the first list
        tells which answers the run needs."""
        if self._thread is not None:
            return
        requests = generation_requests_of_nodeids(self.config.rootpath, ids)
        if requests:
            self.start(requests)

    def start(self, requests: list[GenerationRequest]) -> None:
        service = self.config.stash[GENERATOR_KEY]
        estimate = estimate_line(service, requests)
        if estimate:
            write_live_line(self.config, estimate)
        self.progress = GenerationProgress(service.cache, [service.key(r) for r in requests], service.run_id,
                                           regenerate=service.settings.regenerate)
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
            write_live_line(self.config, line)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
