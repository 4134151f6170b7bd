"""The controller (or the single process): hands pytest's events to the run's ledger (session.RunLedger), which
gathers the item results and writes the reports."""

from __future__ import annotations

import pytest

from ..config import Settings
from ..session import Collected, Report, ReportFiles, RunLedger, suite_properties
from .items import CudabenchItem
from .progress import wait_for_requests_in_flight, write_live_line
from .resume import RESUME_KEY
from .stash import GENERATOR_KEY, SHARD_KEY, WORKER_MACHINE_KEY
from .termination import interrupt_reason
from .xdist import worker_count


class Controller:
    def __init__(self, config: pytest.Config, settings: Settings):
        self.config = config
        self.ledger = RunLedger(settings, config.stash[GENERATOR_KEY], pace=config.get_verbosity() > -2)
        self.report: Report | None = None
        self.files: ReportFiles | None = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        items = [i for i in session.items if isinstance(i, CudabenchItem)]
        self.check(self.ledger.collected_here([i.nodeid for i in items], [i.path for i in items],
                                              [i.generation_request() for i in items]))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        collected = self.ledger.collected_by_worker(self.config.rootpath, ids)
        if collected is not None:
            self.check(collected)

    def check(self, collected: Collected) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        for message in collected.warnings:
            if reporter is not None:
                reporter.write_line(f"WARNING cudabench: {message}", yellow=True)
        if collected.refusal:
            raise pytest.UsageError(f"pytest-cudabench: {collected.refusal}")

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        """Ctrl-C or SIGTERM: no process of the run sends another request (xdist workers stop, also when the signal
        reached the controller alone); the requests in flight finish and their answers are cached, unless a second
        Ctrl-C abandons them. Before xdist's teardown, which kills workers that do not exit within seconds."""
        if self.ledger.interrupted(interrupt_reason(self.config)):  # Ctrl-C, or SIGTERM (termination.py)
            service = self.ledger.service
            wait_for_requests_in_flight(self.config, service.claims_in_flight, service, again=True)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.ledger.collection_errors.append({"path": report.nodeid, "message": str(report.longrepr)})

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        machine = getattr(node, "workeroutput", {}).get(WORKER_MACHINE_KEY)
        self.ledger.worker_down(node.gateway.id, machine, node.gateway.spec)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        node = getattr(report, "node", None)  # under xdist, the worker that ran it (a key of worker_machines)
        line = self.ledger.item_reported(
            report.nodeid, getattr(report, "cudabench", None), failed=report.failed,
            failure=str(report.longrepr) if report.longrepr else None,
            worker=node.gateway.id if node is not None else None, teardown=report.when == "teardown")
        if line:
            write_live_line(self.config, line)

    @pytest.hookimpl(tryfirst=True)  # before junitxml writes its file, so suite properties get in
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.config.option.collectonly or self.ledger.refused:
            return  # nothing ran: a report would claim a run of zero items
        self.ledger.stopped_early(session.shouldfail or session.shouldstop,
                                  session.exitstatus == pytest.ExitCode.INTERRUPTED)
        self.report = self.ledger.report(self.ledger.run_metadata(
            workers=worker_count(self.config), shard=self.config.stash.get(SHARD_KEY, None),
            resume=self.config.stash.get(RESUME_KEY, None)))
        self.add_junit_suite_properties(self.report)
        self.files = self.ledger.write(self.report)

    def add_junit_suite_properties(self, report: Report) -> None:
        from _pytest.junitxml import xml_key

        xml = self.config.stash.get(xml_key, None)
        if xml is not None:
            for name, value in suite_properties(report).items():
                xml.add_global_property(f"cudabench.{name}", value)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.config.option.collectonly:
            count = len(self.ledger.collected or [])
            terminalreporter.write_line(f"cudabench: --collect-only: {count} items collected, none ran; no report "
                                        "written")
            return
        if self.report is None or self.files is None:
            return
        title, lines, denied, paths = self.ledger.summary(self.report, self.files)
        terminalreporter.write_sep("=", title)
        for line in lines:
            terminalreporter.write_line(line)
        if denied:
            terminalreporter.write_line(denied, red=True)
        for line in paths:
            terminalreporter.write_line(line)
