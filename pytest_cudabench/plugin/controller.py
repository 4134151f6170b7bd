"""The controller (or the single process): gathers item results and writes the reports."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from ..config import Settings
from ..generation.models import GenerationRequest, ReplayModel
from ..reporting import report as report_mod
from ..reporting.html import write_html
from ..reporting.run_facts import run_record
from ..results import CollectionError, ItemResult, Report, RunRecord, crashed_result
from ..session.families import parse_item_nodeid, replay_refusal, replay_warnings, requests_of_nodeids
from ..session.progress import ItemPace
from ..session.workers import worker_spec
from .items import CudabenchItem
from .progress import wait_for_requests_in_flight, write_live_line
from .resume import resumed_from
from .stash import GENERATOR_KEY, SHARD_KEY, WORKER_MACHINE_KEY
from .termination import interrupt_reason
from .xdist import worker_count


class Controller:
    def __init__(self, config: pytest.Config, settings: Settings):
        self.config = config
        self.settings = settings
        self.items: dict[str, ItemResult] = {}
        self.worker_machines: dict[str, dict[str, Any]] = {}
        self.collection_errors: list[CollectionError] = []
        self.started = time.time()
        self.report_path: Path | None = None
        self.html_path: Path | None = None
        self.benchmark_path: Path | None = None
        self.report: Report | None = None
        self.collected: list[str] | None = None  # node ids of the items to run, once known
        self.stopped: str | None = None  # why the run ended early, when it did
        self.refused = False  # stopped at start (a usage error): nothing ran, no report
        self.progress = ItemPace(settings.progress_s) \
            if settings.progress_s > 0 and config.get_verbosity() > -2 else None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        items = [i for i in session.items if isinstance(i, CudabenchItem)]
        self._collected([i.nodeid for i in items])
        self.warn_unknown_replay_tasks([i.path for i in items])
        self.check_replay_answers_some([i.generation_request() for i in items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        if self.collected is None:  # every worker collects the same items: look once
            self._collected([nodeid for nodeid in ids if parse_item_nodeid(nodeid)])
            parsed = filter(None, map(parse_item_nodeid, ids))
            self.warn_unknown_replay_tasks([self.config.rootpath / path for path, _l, _s in parsed])
            if isinstance(self.config.stash[GENERATOR_KEY].model, ReplayModel):
                requests = requests_of_nodeids(self.config.rootpath, ids)
                if len(requests) == len(self.collected or []):  # CUDABench-Set items' ids are not known here
                    self.check_replay_answers_some(requests)

    def check_replay_answers_some(self, requests: list[GenerationRequest]) -> None:
        """A replay file that answers none of the items (mistyped task ids, the wrong file) stops the run at start:
        every item would be skipped and the run pass."""
        message = replay_refusal(self.config.stash[GENERATOR_KEY].model, requests)
        if message:
            self.refused = True
            raise pytest.UsageError(f"pytest-cudabench: {message}")

    def warn_unknown_replay_tasks(self, paths: list[Path]) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        for message in replay_warnings(self.config.stash[GENERATOR_KEY].model, paths):
            if reporter is not None:
                reporter.write_line(f"WARNING cudabench: {message}", yellow=True)

    def _collected(self, nodeids: list[str]) -> None:
        self.collected = nodeids
        if self.progress is not None:
            self.progress.total = len(nodeids)

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        """Ctrl-C or SIGTERM: no process of the run sends another request (xdist workers stop, also when the signal
        reached the controller alone); the requests in flight finish and their answers are cached, unless a second
        Ctrl-C abandons them. Before xdist's teardown, which kills workers that do not exit within seconds."""
        self.stopped = interrupt_reason(self.config)  # Ctrl-C, or SIGTERM (termination.py)
        service = self.config.stash[GENERATOR_KEY]
        if service.cacheable:
            service.stop_run(f"the run was {self.stopped}")
            wait_for_requests_in_flight(self.config, service.claims_in_flight, service, again=True)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append({"path": report.nodeid, "message": str(report.longrepr)})

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        machine = getattr(node, "workeroutput", {}).get(WORKER_MACHINE_KEY)
        if machine:
            self.worker_machines[node.gateway.id] = {**machine, "spec": worker_spec(node.gateway.spec)}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = getattr(report, "cudabench", None)
        parsed = parse_item_nodeid(report.nodeid)
        if result is not None:
            self.items[report.nodeid] = result
        elif report.failed and parsed and report.nodeid not in self.items:
            # A crashed xdist worker: the report is synthesized without our data.
            message = str(report.longrepr).strip().splitlines()[-1] if report.longrepr else "worker crashed"
            self.items[report.nodeid] = crashed_result(report.nodeid, *parsed, message=message)
        node = getattr(report, "node", None)  # under xdist, the worker that ran it (a key of worker_machines)
        if node is not None and report.nodeid in self.items:
            self.items[report.nodeid]["worker"] = node.gateway.id
        if self.progress is not None and report.when == "teardown":
            outcomes = [i.get("outcome") for i in self.items.values()]
            line = self.progress.update(len(self.items), outcomes.count("failed"), outcomes.count("error"))
            if line:
                write_live_line(self.config, line)

    def run_metadata(self) -> RunRecord:
        return run_record(self.settings, started=self.started, finished=time.time(), items=list(self.items.values()),
                          collected=len(self.collected) if self.collected is not None else None,
                          stopped=self.stopped, workers=worker_count(self.config),
                          worker_machines=self.worker_machines, shard=self.config.stash.get(SHARD_KEY, None),
                          prices=self.config.stash[GENERATOR_KEY].prices(),
                          resumed_from=resumed_from(self.config, list(self.items.values())))

    @pytest.hookimpl(tryfirst=True)  # before junitxml writes its file, so suite properties get in
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.config.option.collectonly or self.refused:
            return  # nothing ran: a report would claim a run of zero items
        if self.stopped is None and (session.shouldfail or session.shouldstop):
            self.stopped = f"stopped early: {session.shouldfail or session.shouldstop}"
        if self.stopped is None and session.exitstatus == pytest.ExitCode.INTERRUPTED:
            self.stopped = "interrupted"
        self.report = report_mod.build_report(self.run_metadata(), list(self.items.values()), self.collection_errors)
        self.report_path = report_mod.write_json(self.report, self.settings.report_path / f"{self.settings.run_id}.json")
        self.add_junit_suite_properties()
        if self.report["run"]["performance_measured"]:  # timings also in pytest-benchmark's format
            from ..reporting.runs import to_pytest_benchmark

            self.benchmark_path = report_mod.write_json(to_pytest_benchmark(self.report),
                                                        self.report_path.with_suffix(".benchmark.json"))
        try:
            self.html_path = write_html(self.report, self.report_path.with_suffix(".html"))
        except Exception as exc:  # a broken page must not fail the run; the JSON is written
            warnings.warn(f"cudabench: HTML report not written: {type(exc).__name__}: {exc}", stacklevel=1)

    def add_junit_suite_properties(self) -> None:
        from _pytest.junitxml import xml_key

        xml = self.config.stash.get(xml_key, None)
        if xml is None or self.report is None:
            return
        for name, value in report_mod.suite_properties(self.report).items():
            xml.add_global_property(f"cudabench.{name}", value)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.config.option.collectonly:
            count = len(self.collected or [])
            terminalreporter.write_line(f"cudabench: --collect-only: {count} items collected, none ran; no report "
                                        "written")
            return
        if self.report is None:
            return
        terminalreporter.write_sep("=", f"cudabench: {self.settings.model}, seed {self.settings.seed}")
        for line in report_mod.summary_lines(self.report):
            terminalreporter.write_line(line)
        denied = self.config.stash[GENERATOR_KEY].denied()
        if denied:
            terminalreporter.write_line(f"cudabench: {denied}", red=True)
        terminalreporter.write_line(f"JSON report: {self.report_path}")
        if self.html_path is not None:
            terminalreporter.write_line(f"HTML report: {self.html_path}")
        if self.benchmark_path is not None:
            terminalreporter.write_line(f"pytest-benchmark JSON: {self.benchmark_path}")
