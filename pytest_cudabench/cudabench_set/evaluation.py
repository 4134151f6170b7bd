"""The evaluation of one CUDABench-Set item (row x level x sample), recorded like our own items.

Stages (SET_STAGES): generate -> extract -> static-check -> compile -> data -> execute -> judge -> time. The result
has the keys of results.new_result (so reports, JUnit and HTML read it unchanged) plus `set`: the row's id, task,
scale and file, the seed mode, the template hash, the program run, both judges and whether they agree, and the
program's run in another thread order (orders.py; CPU runtime: a result that depends on it fails the execute stage).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ..config import Settings
from ..errors import StageFailure, StageSkip
from ..execution.knockout import HOST_WORK, KNOCKOUT_TIMEOUT_S
from ..execution.runner import choose_runtime
from ..execution.supervisor import RACE_FIX, child_environment
from ..pipeline import StageRecorder
from ..results import SET_STAGES, ItemResult, OwnCheckRecord, SetRecord  # noqa: F401  (SET_STAGES: re-exported)
from ..source.toolkit import find_cuda_tool
from ..timing import (
    gpu_tools,
    gpus,  # the module: a test stands a GPU in for gpus.gpu_info
)
from . import data as set_data
from . import judge, orders, program
from .performance import score_profile
from .prompt import SET_TEMPLATE_VERSION, load_template, template_hash
from .rows import Row, RowTask

# The kernel's repairable stages: `data` (the row's generator) is no fault of the answer; `judge` is left out, as it
# was before the stage recorder was shared.
SET_REPAIRABLE = ("extract", "static-check", "compile", "execute")
# Why no run in another thread order was made, when the forward run did not pass.
ORDER_NOT_REACHED = "not reached: the forward run failed the execute stage"
ORDER_NOT_RUN_JUDGED = ("not run: the forward run's outputs failed compare.py (the judge stage); a run in another "
                        "thread order follows only outputs that pass")


@dataclass(frozen=True)
class SetOptions:
    """The set's own settings (plain builtins: handed to xdist workers as they are)."""

    seed_mode: str = "run"
    template: str | None = None  # the user template's text; None: the built-in one
    template_hash: str = ""
    scales: tuple[int, ...] | None = None  # None: every scale
    timeout_s: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SetOptions:
        template = load_template(settings.set_template)
        return cls(seed_mode=settings.set_seed, template=template, template_hash=template_hash(template),
                   scales=settings.set_scales)


def set_record(row: Row, options: SetOptions) -> SetRecord:
    """result["set"] before any stage ran: the row's identity and the run's set options; the stages' facts are
    filled in by SetEvaluation.record_set_fact."""
    return {"row_id": row.id, "task_name": row.task_name, "task": row.task, "scale": row.scale, "file": row.path,
            "line": row.line, "io_bytes": row.io_bytes, "seed_mode": options.seed_mode,
            "template_hash": options.template_hash, "compare": None, "own_check": None, "judges_agree": None,
            "program": None, "data": None, "thread_order": None, "knockout": None}


class SetEvaluation(StageRecorder[RowTask]):
    """The whole-program evaluation of one CUDABench-Set item: SET_STAGES, over the shared stage recorder."""

    STAGES = SET_STAGES
    REPAIRABLE = SET_REPAIRABLE
    ATTEMPT_KEYS = StageRecorder.ATTEMPT_KEYS + ("set",)

    def __init__(self, row: Row, level: int, sample: int, settings: Settings, nodeid: str, options: SetOptions):
        self.row = row
        self.options = options
        super().__init__(RowTask(row), level, sample, settings, nodeid)

    def fresh_result(self, nodeid: str) -> ItemResult:
        result = super().fresh_result(nodeid)
        result["template_version"] = SET_TEMPLATE_VERSION
        result["set"] = set_record(self.row, self.options)
        return result

    def candidate(self) -> SetEvaluation:
        return SetEvaluation(self.row, self.level, self.sample, self.settings, self.result["nodeid"], self.options)

    # The set's own facts are written once, here: into their stage record and result["set"] (the report keeps both:
    # the stage chips show the stage's, the set table reads `set`).
    def record_set_facts(self, record: dict[str, Any], **facts: Any) -> None:
        record.update(facts)
        self.set_facts().update(facts)

    def record_set_run(self, record: dict[str, Any], key: str, facts: Mapping[str, Any]) -> None:
        """A run's facts (data, program): the stage record holds their fields, result["set"][key] the whole."""
        record.update(facts)
        self.set_facts()[key] = facts

    def set_facts(self) -> dict[str, Any]:
        """result["set"] for the writers above, which take the stage's facts by name (SetRecord types them)."""
        return cast(dict[str, Any], self.result["set"])

    def run(self, answer: str) -> ItemResult:
        with self.stage("extract") as record:
            self.source = program.extract_program(answer)
            self.result["source"] = self.source
            self.result["source_sha256"] = hashlib.sha256(self.source.encode()).hexdigest()
            record["lines"] = self.source.count("\n")
        with self.stage("static-check"):
            program.check_includes(self.source)
        runtime = choose_runtime(self.settings.runtime, self.settings.gpu_api)
        self.result["runtime"] = runtime
        with self.stage("compile") as record:
            library, entry, built = program.build(self.source, runtime, self.settings.cache_path, self.arch)
            record.update(built)
            self.result["compiled"] = True
        with self.stage("data") as record:
            program.check_fits(self.row, runtime)
            scratch_root = self.settings.cache_path / "cudabench-set" / "runs"
            scratch_root.mkdir(parents=True, exist_ok=True)
            rowdata = set_data.generate(self.row, self.settings.cache_path, self.options.seed_mode,
                                        self.settings.seed, env=child_environment(scratch_root))
            self.record_set_run(record, "data", rowdata.to_dict())
        scratch = program.scratch_with_inputs(self.row, rowdata.directory, scratch_root)
        timeout = self.options.timeout_s or self.settings.timeout_s or program.PROGRAM_TIMEOUT_S[runtime]
        try:
            with self.stage("execute") as record:
                ran = program.run(library, entry, scratch, runtime, timeout, program.file_limit(self.row))
                record["runtime"] = runtime
                self.record_set_run(record, "program", ran.to_dict())
                if ran.landlock_abi is None or ran.landlock_abi == 0:
                    record["confinement"] = "no Landlock on this kernel: file access was not confined"
                try:
                    program.verdict(ran, timeout, runtime)
                except StageFailure:
                    self.record_order_run(record, orders.OrderRun("forward", 0, "not-reached", ORDER_NOT_REACHED))
                    raise
                # The judges see the forward outputs here (recorded by the judge stage, with the time they took
                # here): the order run follows only a run that passed them.
                judging = time.perf_counter()
                judged = self.judges(rowdata, scratch)
                judged_s = time.perf_counter() - judging
                if judged[0].passed:
                    self.order_run(record, library, entry, rowdata, scratch, ran, judged[1]["ok"], runtime,
                                   timeout, scratch_root)
                    self.knockout_run(record, library, entry, rowdata, runtime, timeout, scratch_root, judged)
                else:
                    self.record_order_run(record, orders.OrderRun("forward", 0, "not-run", ORDER_NOT_RUN_JUDGED))
            with self.stage("judge") as record:
                record.update(duration_override_s=judged_s, ran_during="execute")
                self.record_judges(record, *judged)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        with self.stage("time") as record:
            if runtime != "gpu":
                record.update(status_override="not-run", message="timing needs a GPU; performance not measured")
            else:
                self.profile(record, library, entry, rowdata, scratch_root, timeout)
        return self.result

    def profile(self, record: dict[str, Any], library: Path, entry: str, rowdata: set_data.RowData,
                scratch_root: Path, timeout: float) -> None:
        """CUDABench's Performance-Score and our roofline (performance.py) from one run of the program under ncu, on
        the same inputs, whose outputs are judged again. A profiler that cannot measure leaves the stage not-run
        with the reason; first it is tried with the program confined by Landlock, then, if ncu itself fails
        there, without (the record says so)."""
        tool = find_cuda_tool("ncu")
        if tool is None:
            record.update(status_override="not-run", message="CUDABench's Performance-Score is measured under "
                          "Nsight Compute: ncu was not found (set CUDA_HOME or put it on PATH)")
            return
        gpu = gpus.gpu_info() or {}
        peaks = gpus.lookup_peaks(gpu.get("name", ""))
        record.update(gpu=gpu.get("name"), peaks=peaks.to_dict() if peaks else None)
        limit = 3 * timeout + 60  # ncu replays every kernel once per group of counters
        for confined in (True, False):
            scratch = program.scratch_with_inputs(self.row, rowdata.directory, scratch_root)
            log_path = scratch.parent / f"{scratch.name}.ncu.csv"  # written by ncu, outside the program's reach
            try:
                ran = program.run(library, entry, scratch, "gpu", limit, program.file_limit(self.row),
                                  wrapper=gpu_tools.ncu_command(tool, log_path, whole_program=True),
                                  landlock=confined)
                log = log_path.read_text(errors="replace") if log_path.exists() else ""
                problem = gpu_tools.ncu_failure(log)
                if problem and confined:
                    record["confinement"] = f"ncu failed with the program under Landlock ({problem}); profiled " \
                                            "again without it (seccomp is off under the profiler in any case)"
                    continue
                if problem:
                    record.update(status_override="not-run", message=problem)
                    return
                try:
                    program.verdict(ran, limit, "gpu")
                except StageFailure as exc:
                    raise StageFailure("time", f"under the profiler: {exc.message}", exc.details) from None
                compare, own = self.judges(rowdata, scratch)
                if not compare.passed or own["ok"] is False:
                    raise StageFailure("time", "the program's outputs under the profiler were wrong (the answer "
                                       f"behaves differently when profiled): {compare.message}; our check: "
                                       + judge.own_check_text(own))
                try:
                    scores = score_profile(self.row, log, peaks)
                except ValueError as exc:
                    record.update(status_override="not-run", message=str(exc))
                    return
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
                log_path.unlink(missing_ok=True)
            break
        record.update(scores, definition="CUDABench's ncu Performance-Score, and our analytic roofline where the "
                      "work table covers the task")
        self.result["ncu_performance_score"] = scores["ncu"]["score"]
        self.result["performance_score"] = scores["roofline"]["score"]
        if scores["roofline"]["score"] is None:
            record["message"] = scores["roofline"]["message"]

    def judges(self, rowdata: set_data.RowData, scratch: Path) -> tuple[judge.CompareVerdict, OwnCheckRecord]:
        return (judge.run_compare(self.row, rowdata, scratch, env=child_environment(scratch.parent)),
                judge.own_check(self.row, rowdata, scratch))

    def order_run(self, record: dict[str, Any], library: Path, entry: str, rowdata: set_data.RowData, scratch: Path,
                  forward: program.ProgramRun, own_ok: bool | None, runtime: str, timeout: float,
                  scratch_root: Path) -> None:
        """The run in another thread order (orders.py); raises StageFailure('execute') when the result depends on
        it. Recorded as record["thread_order"] and result["set"]["thread_order"]."""
        skip = orders.not_affordable(forward, timeout) if runtime == "cpu" else None
        if skip:
            done = orders.OrderRun("forward", 0, "not-run", skip)
        else:
            done = orders.run_in_other_order(self.row, library, entry, rowdata, scratch, own_ok, runtime, timeout,
                                             self.settings.seed, scratch_root, child_environment(scratch_root))
        self.record_order_run(record, done)
        if done.verdict == "failed":  # a race's message names its fix; a wrong result gets the runner's advice
            raise StageFailure("execute", f"the result depends on thread order: {done.message}"
                               + ("" if done.race else f"\n{RACE_FIX}"), (done.program or {}).get("output", "")[-1500:])

    def record_order_run(self, record: dict[str, Any], done: orders.OrderRun) -> None:
        self.record_set_facts(record, thread_order=done.to_dict())

    def knockout_run(self, record: dict[str, Any], library: Path, entry: str, rowdata: set_data.RowData,
                     runtime: str, timeout: float, scratch_root: Path,
                     judged: tuple[judge.CompareVerdict, OwnCheckRecord]) -> None:
        """The program once more with every kernel launch a no-op (execution/knockout.py), on the CPU runtime (built
        for it here on a GPU). Outputs that still pass compare.py (and our check) were computed on the host: raises
        StageFailure('execute'), with CUDABench's own verdict (compare.py alone, which passed) recorded beside it.
        Recorded as record["knockout"] and result["set"]["knockout"]."""
        done: dict[str, Any] = {"verdict": "not-run", "message": None}
        self.record_set_facts(record, knockout=done)
        if runtime != "cpu":
            try:
                library, entry, _ = program.build(self.source or "", "cpu", self.settings.cache_path, self.arch)
            except StageFailure as exc:
                done["message"] = f"the CPU runtime cannot build this program: {exc.message}"
                return
            except StageSkip as exc:
                done["message"] = f"the CPU runtime cannot run this program: {exc.reason}"
                return
        scratch = program.scratch_with_inputs(self.row, rowdata.directory, scratch_root)
        try:
            ran = program.run(library, entry, scratch, "cpu", min(timeout, KNOCKOUT_TIMEOUT_S),
                              program.file_limit(self.row), knockout=True)
            if ran.timed_out or ran.returncode != 0 or ran.runtime_error:
                done.update(verdict="kernels-needed", message="without its kernels the program did not finish "
                            f"normally (exit code {ran.returncode}{', timed out' if ran.timed_out else ''})")
                return
            compare, own = self.judges(rowdata, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        done["compare"] = compare.to_dict()
        if not compare.passed or own["ok"] is False:
            done.update(verdict="kernels-needed", message=f"without its kernels: {compare.message}; our check: "
                        + judge.own_check_text(own))
            return
        done.update(verdict="host-work", message="the outputs passed compare.py with every kernel launch a no-op")
        forward, forward_own = judged
        agree = None if forward_own["ok"] is None else forward_own["ok"] == forward.passed
        # No judge stage follows this failure: CUDABench's verdict on the forward outputs is the set's alone.
        self.set_facts().update(compare=forward.to_dict(), own_check=forward_own, judges_agree=agree)
        raise StageFailure("execute", f"{HOST_WORK}: with every kernel launch turned into a no-op, its outputs still "
                           "passed compare.py (CUDABench's protocol, compare.py alone, passes this program: "
                           "set.compare)")

    def record_judges(self, record: dict[str, Any], verdict: judge.CompareVerdict, own: OwnCheckRecord) -> None:
        agree = None if own["ok"] is None else own["ok"] == verdict.passed
        self.record_set_facts(record, compare=verdict.to_dict(), own_check=own, judges_agree=agree)
        own_text = judge.own_check_text(own)
        if agree is False:
            record["disagreement"] = (f"compare.py {'accepted' if verdict.passed else 'rejected'} the outputs, our "
                                      f"check {'accepted' if own['ok'] else 'rejected'} them ({own_text})")
        if not verdict.passed:
            raise StageFailure("judge", f"{verdict.message} (CUDABench's verdict); our check: {own_text}",
                               verdict.stdout[-1500:])
        self.result["correct"] = True
        if agree is False:
            record["message"] = "judges disagree: " + record["disagreement"]
            self.result["message"] = record["message"]
