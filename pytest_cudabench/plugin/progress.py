"""The generation progress line of remote models, in the controller."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

import pytest

from ..session import AnswerWatch, GenerationService, requests_of_nodeids, wait_for_requests
from .items import CudabenchItem
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
    """session.progress.wait_for_requests, saying so on the terminal (or stderr once it is gone)."""

    def say(line: str) -> None:
        if quiet:
            return
        if config.pluginmanager.get_plugin("terminalreporter") is not None:
            write_live_line(config, line)
        else:
            print(line, file=sys.stderr, flush=True)

    wait_for_requests(count, service, say, again=again)


class ProgressLine:
    """Controller only, remote models only: the answers' progress line (session.progress.AnswerWatch) on the
    terminal, over every worker of the run."""

    def __init__(self, config: pytest.Config, interval: float):
        self.config = config
        self.watch = AnswerWatch(config.stash[GENERATOR_KEY], interval, lambda line: write_live_line(config, line))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        items = [i for i in session.items if isinstance(i, CudabenchItem)]
        if items:
            self.watch.start([i.generation_request() for i in items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        """Under xdist the controller collects nothing; every worker collects the same items, so the first list
        tells which answers the run needs."""
        if self.watch.started:
            return
        requests = requests_of_nodeids(self.config.rootpath, ids)
        if requests:
            self.watch.start(requests)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self.watch.stop()
