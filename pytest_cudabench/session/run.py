"""The run as the controller (or the single process) sees it: the items' records as they are reported, the workers'
machines, collection errors, why the run stopped, the progress line; at the end the report and its files. The
plugin's controller feeds it pytest's events in plain terms (node ids, records, messages)."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..generation.models import GenerationRequest, ReplayModel
from ..generation.service import GenerationService
from ..reporting import report as report_mod
from ..reporting.html import write_html
from ..reporting.resume import ResumePlan
from ..reporting.run_facts import run_record
from ..reporting.runs import to_pytest_benchmark
from ..results import CollectionError, ItemResult, Report, RunRecord, crashed_result
from .families import parse_item_nodeid, replay_refusal, replay_warnings, requests_of_nodeids
from .progress import ItemPace
from .workers import worker_spec


@dataclass
class ReportFiles:
    json: Path
    benchmark: Path | None = None  # the timings in pytest-benchmark's format, when performance was measured
    html: Path | None = None  # None when the page could not be written (the JSON is)


@dataclass
class Collected:
    """What collection tells at start: warnings of the replay file, and why the run is refused (nothing would be
    answered), if it is."""
    warnings: list[str]
    refusal: str | None = None


class RunLedger:
    def __init__(self, settings: Settings, service: GenerationService, *, pace: bool):
        self.settings = settings
        self.service = service
        self.items: dict[str, ItemResult] = {}
        self.worker_machines: dict[str, dict[str, Any]] = {}
        self.collection_errors: list[CollectionError] = []
        self.started = time.time()
        self.collected: list[str] | None = None  # node ids of the items to run, once known
        self.stopped: str | None = None  # why the run ended early, when it did
        self.refused = False  # stopped at start (a usage error): nothing ran, no report
        self.pace = ItemPace(settings.progress_s) if pace and settings.progress_s > 0 else None

    def collected_here(self, nodeids: list[str], paths: list[Path], requests: list[GenerationRequest]) -> Collected:
        """This process collected the items (no xdist)."""
        self._collected(nodeids)
        return Collected(replay_warnings(self.service.model, paths), self._refusal(requests))

    def collected_by_worker(self, rootpath: Path, ids: list[str]) -> Collected | None:
        """A worker's collected node ids (every worker collects the same items: only the first list counts)."""
        if self.collected is not None:
            return None
        self._collected([nodeid for nodeid in ids if parse_item_nodeid(nodeid)])
        parsed = filter(None, map(parse_item_nodeid, ids))
        collected = Collected(replay_warnings(self.service.model, [rootpath / path for path, _l, _s in parsed]))
        if isinstance(self.service.model, ReplayModel):
            requests = requests_of_nodeids(rootpath, ids)
            if len(requests) == len(self.collected or []):  # CUDABench-Set items' ids are not known here
                collected.refusal = self._refusal(requests)
        return collected

    def _refusal(self, requests: list[GenerationRequest]) -> str | None:
        """A replay file that answers none of the items (mistyped task ids, the wrong file) stops the run at start:
        every item would be skipped and the run pass."""
        message = replay_refusal(self.service.model, requests)
        if message:
            self.refused = True
        return message

    def _collected(self, nodeids: list[str]) -> None:
        self.collected = nodeids
        if self.pace is not None:
            self.pace.total = len(nodeids)

    def item_reported(self, nodeid: str, result: ItemResult | None, *, failed: bool, failure: str | None,
                      worker: str | None, teardown: bool) -> str | None:
        """One of pytest's reports of an item (`failure`: its text, when there is one; `worker`: the xdist worker
        that ran it); the progress line due now, if one is."""
        parsed = parse_item_nodeid(nodeid)
        if result is not None:
            self.items[nodeid] = result
        elif failed and parsed and nodeid not in self.items:
            # A crashed xdist worker: the report is synthesized without our data.
            message = failure.strip().splitlines()[-1] if failure else "worker crashed"
            self.items[nodeid] = crashed_result(nodeid, *parsed, message=message)
        if worker is not None and nodeid in self.items:
            self.items[nodeid]["worker"] = worker
        if self.pace is not None and teardown:
            outcomes = [i.get("outcome") for i in self.items.values()]
            return self.pace.update(len(self.items), outcomes.count("failed"), outcomes.count("error"))
        return None

    def worker_down(self, worker: str, machine: dict[str, Any] | None, spec: Any) -> None:
        if machine:
            self.worker_machines[worker] = {**machine, "spec": worker_spec(spec)}

    def interrupted(self, reason: str) -> bool:
        """Ctrl-C or SIGTERM: no process of the run sends another request; True when requests in flight may be
        waited for."""
        self.stopped = reason
        if not self.service.cacheable:
            return False
        self.service.stop_run(f"the run was {reason}")
        return True

    def stopped_early(self, why: str | bool, interrupted: bool) -> None:
        """pytest's own reason to end the run early (-x, --maxfail), or its interrupted exit status."""
        if self.stopped is None and why:
            self.stopped = f"stopped early: {why}"
        if self.stopped is None and interrupted:
            self.stopped = "interrupted"

    def run_metadata(self, *, workers: int | None, shard: dict[str, Any] | None,
                     resume: ResumePlan | None) -> RunRecord:
        items = list(self.items.values())
        return run_record(self.settings, started=self.started, finished=time.time(), items=items,
                          collected=len(self.collected) if self.collected is not None else None,
                          stopped=self.stopped, workers=workers, worker_machines=self.worker_machines, shard=shard,
                          prices=self.service.prices(), resumed_from=resume.record(items) if resume else None)

    def report(self, run: RunRecord) -> Report:
        return report_mod.build_report(run, list(self.items.values()), self.collection_errors)

    def write(self, report: Report) -> ReportFiles:
        """The JSON report, the pytest-benchmark file when timings were measured, and the HTML page (a broken page
        does not fail the run: it is warned of)."""
        path = self.settings.report_path / f"{self.settings.run_id}.json"
        files = ReportFiles(report_mod.write_json(report, path))
        if report["run"]["performance_measured"]:
            files.benchmark = report_mod.write_json(to_pytest_benchmark(report), path.with_suffix(".benchmark.json"))
        try:
            files.html = write_html(report, files.json.with_suffix(".html"))
        except Exception as exc:  # a broken page must not fail the run; the JSON is written
            warnings.warn(f"cudabench: HTML report not written: {type(exc).__name__}: {exc}", stacklevel=2)
        return files

    def summary(self, report: Report, files: ReportFiles) -> tuple[str, list[str], str | None, list[str]]:
        """The terminal summary: its title, the report's lines, the model's denial (shown in red) and the files."""
        paths = [f"JSON report: {files.json}"]
        if files.html is not None:
            paths.append(f"HTML report: {files.html}")
        if files.benchmark is not None:
            paths.append(f"pytest-benchmark JSON: {files.benchmark}")
        denied = self.service.denied()
        return (f"cudabench: {self.settings.model}, seed {self.settings.seed}", report_mod.summary_lines(report),
                f"cudabench: {denied}" if denied else None, paths)
