"""The evaluation of one item (task x level x sample): its stages in order, recorded as plain data.

Stages: generate -> extract -> static-check -> compile -> execute -> time. The first stage that fails ends the
evaluation; its StageFailure propagates after being recorded. The result is a results.ItemResult (builtins, so it can
travel on pytest reports through xdist).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import HarnessError, StageFailure, StageSkip, TaskError
from .generation.models import Generation
from .results import ItemResult, new_result
from .source import compiler, static_check
from .source.extract import extract_source
from .tasks.loader import Task
from .timing import scoring
from .timing.gpus import gpu_arch
from .timing.policy import DEFAULT_POLICY

STAGES = ("generate", "extract", "static-check", "compile", "execute", "time")
# Failures the model can act on when told about them; a model failure or a harness error is not repairable.
REPAIRABLE_STAGES = ("extract", "static-check", "compile", "execute")


class Evaluation:
    """Runs and records the stages of one item. Knows nothing of pytest."""

    def __init__(self, task: Task, level: int, sample: int, settings: Settings, nodeid: str = ""):
        self.task = task
        self.level = level
        self.sample = sample
        self.settings = settings
        self.result = new_result(task, level, sample, settings.model, nodeid)
        self.library: Path | None = None
        self.source: str | None = None

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, Any]]:
        record: dict[str, Any] = {"status": "running"}
        self.result["stages"][name] = record
        self.result["stage_reached"] = name
        start = time.perf_counter()
        try:
            yield record
        except StageFailure as exc:
            record.update(status="failed", message=exc.message)
            if exc.details:
                record["details"] = exc.details
            self.result["failed_stage"], self.result["message"] = name, exc.message
            raise
        except StageSkip as exc:
            record.update(status="skipped", message=exc.reason)
            self.result["message"] = exc.reason
            raise
        except (TaskError, HarnessError) as exc:  # the task or the harness broke: an error, not the answer's fault
            message = f"{'task' if isinstance(exc, TaskError) else 'harness'} error: {exc}"
            record.update(status="error", message=message)
            self.result.update(failed_stage=name, message=message)
            raise
        else:
            record["status"] = record.pop("status_override", "passed")
        finally:
            record["duration_s"] = round(time.perf_counter() - start, 6)

    def record_generation(self, generation: Generation, prompt_hash: str, duration_s: float) -> None:
        self.result["generation"] = generation.to_dict()
        self.result["prompt_hash"] = prompt_hash
        self.result["stages"]["generate"] = {"status": "passed", "duration_s": round(duration_s, 6),
                                             "cached": generation.cached}
        self.result["stage_reached"] = "generate"

    def record_generation_failure(self, message: str, duration_s: float, skipped: bool = False) -> None:
        status = "skipped" if skipped else "error"
        self.result["stages"]["generate"] = {"status": status, "duration_s": round(duration_s, 6), "message": message}
        self.result["stage_reached"] = "generate"
        self.result["message"] = message
        if not skipped:
            self.result["failed_stage"] = "generate"

    def run_attempts(self, request, answer: str, ask: Callable[[Any], Generation], attempts: int) -> ItemResult:
        """`run`, and with attempts > 1 the repair loop: a failure at a repairable stage goes back to the model as
        the next turn (compiler errors, mismatch summary), up to `attempts` answers. Every attempt is kept in
        result["attempts"]; result["passed_at_attempt"] says which one passed. `ask(request) -> Generation`."""
        from .generation.repair import next_request, repair_messages

        history: list[dict[str, Any]] = []
        for attempt in range(1, attempts + 1):
            try:
                self.run(answer)
            except StageFailure as exc:
                history.append(self._attempt_record(attempt))
                if attempt == attempts or exc.stage not in REPAIRABLE_STAGES:
                    self._keep_history(history, attempts)
                    raise
                request = next_request(request, repair_messages(request.messages, answer, exc.stage, exc.message,
                                                                exc.details))
                start = time.perf_counter()
                generation = ask(request)  # a ModelError here ends the item as a model failure
                self._reset_for_attempt()
                self.record_generation(generation, request.prompt_hash, time.perf_counter() - start)
                answer = generation.content
                continue
            except StageSkip:
                history.append(self._attempt_record(attempt))
                self._keep_history(history, attempts)
                raise
            history.append(self._attempt_record(attempt))
            self._keep_history(history, attempts)
            if attempts > 1:
                self.result["passed_at_attempt"] = attempt
            return self.result
        raise AssertionError("unreachable")

    def _attempt_record(self, attempt: int) -> dict[str, Any]:
        r = self.result
        return {"attempt": attempt, "failed_stage": r["failed_stage"], "message": r["message"],
                "stages": {k: v.get("status") for k, v in r["stages"].items()}, "source": r["source"],
                "source_sha256": r["source_sha256"], "prompt_hash": r["prompt_hash"],
                "generation": {k: v for k, v in (r["generation"] or {}).items() if k != "content"}}

    def _keep_history(self, history: list[dict[str, Any]], attempts: int) -> None:
        if attempts > 1:
            self.result["attempts"] = history
            self.result.setdefault("passed_at_attempt", None)

    def _reset_for_attempt(self) -> None:
        fresh = new_result(self.task, self.level, self.sample, self.settings.model, self.result["nodeid"])
        for key in ("stages", "stage_reached", "failed_stage", "message", "compiled", "correct", "runtime",
                    "source", "source_sha256", "performance_score", "ncu_performance_score", "speedup"):
            self.result[key] = fresh[key]  # type: ignore[literal-required]
        self.library = None
        self.source = None

    def run(self, answer: str) -> ItemResult:
        """Runs every stage after generation. Raises the first StageFailure or StageSkip, after recording it."""
        with self.stage("extract") as record:
            self.source = extract_source(answer)
            self.result["source"] = self.source
            self.result["source_sha256"] = hashlib.sha256(self.source.encode()).hexdigest()
            record["lines"] = self.source.count("\n")
        with self.stage("static-check"):
            static_check.check_source(self.source, self.task.libraries)
        with self.stage("compile") as record:
            build = compiler.compile_library(
                self.source, cache_dir=self.settings.cache_path, arch=self.arch,
                extra_flags=tuple(static_check.link_flags(self.task.libraries)),
            )
            record.update(cached=build.cached, log=build.log, command=" ".join(build.command[1:]))
            if not static_check.exports_solve(Path(build.library)):
                raise StageFailure("compile", 'the library does not export `solve`: declare it extern "C" '
                                   f"with the exact signature {self.task.signature()}")
            static_check.check_imports(Path(build.library), self.task.libraries)
            self.library = Path(build.library)
            self.result["compiled"] = True
        for name, step in self.later_stages():
            with self.stage(name) as record:
                step(record)
        return self.result

    @property
    def arch(self) -> str:
        return self.settings.arch or gpu_arch()

    def later_stages(self):
        return [("execute", self.execute), ("time", self.time)]

    def execute(self, record: dict[str, Any]) -> None:
        from .execution import runner as execution
        from .tasks import inputs

        runtime = execution.choose_runtime(self.settings.runtime)
        self.result["runtime"] = runtime
        record["runtime"] = runtime
        assert self.source is not None and self.library is not None
        library = execution.build_for_runtime(runtime, self.source, self.library, self.settings.cache_path,
                                              self.settings.sanitize)
        cases = inputs.make_cases(self.task, self.settings.seed, self.settings.cases)
        if runtime == "cpu":  # no time stage there to see the benchmark sizes: judge one that fits the CPU
            cases += inputs.cpu_scale_cases(self.task, self.settings.seed, len(cases))
        for case in cases:
            inputs.expect(self.task, case)
        outcome = execution.run_cases(self.task, library, runtime, cases,
                                      timeout_s=self.settings.timeout_s or self.task.timeout_s,
                                      sanitize=self.settings.sanitize)
        record.update(outcome.to_dict())
        self.result["correct"] = True

    def time(self, record: dict[str, Any]) -> None:
        if self.result["runtime"] != "gpu":
            record.update(status_override="not-run", message="timing needs a GPU; performance not measured")
            return
        from .execution import runner as execution
        from .timing import stage as timing
        from .timing.gpus import gpu_info, lookup_peaks

        assert self.library is not None
        gpu = gpu_info() or {}
        peaks = lookup_peaks(gpu.get("name", ""))
        if self.settings.calibrate:
            from .timing.calibrate import calibrate_in_child, load_or_calibrate

            try:
                peaks = load_or_calibrate(self.settings.cache_path / "peaks", calibrate_fn=calibrate_in_child)
            except Exception as exc:  # the measurement of the machine failed, not the answer: datasheet peaks
                record["calibration_error"] = f"{type(exc).__name__}: {exc}; scored on datasheet peaks"
        job = {"seed": self.settings.seed, "policy": DEFAULT_POLICY}
        # Generous wall limit: five scales up to ~1 GB each, plus warm-up and L2 flushes.
        limit = (self.settings.timeout_s or self.task.timeout_s) + 10 * DEFAULT_POLICY.item_cap_s

        def measure(library: Path) -> execution.ExecutionResult:
            return execution.run_cases(self.task, library, "gpu", [], timeout_s=limit, timing=job, stage="time",
                                       monitor=gpu_info)

        reference = timing.reference_timing(
            self.task, self.settings.seed, gpu.get("name", "?"),
            lambda: measure(timing.reference_library(self.task, self.settings.cache_path, self.arch)))
        measured = measure(self.library)
        for k, sizes in enumerate(self.task.sizes.bench):
            timing.check_bench_outputs(self.task, measured.bench_outputs, reference.bench_outputs, k, sizes,
                                       self.settings.seed)
        works = timing.bench_works(self.task, self.settings.seed)
        scales = timing.score_scales(self.task, measured.timed, peaks, works)
        reference_scales = timing.score_scales(self.task, reference.timed, peaks, works)
        record.update(scales=scales, reference_scales=reference_scales, cold_cache=True, gpu=gpu.get("name"),
                      peaks=peaks.to_dict() if peaks else None,
                      definition="analytic roofline (minimum FLOPs and DRAM bytes), cold L2")
        record["l2_persistence"] = timing.l2_persistence_record(self.library, measured.timed)
        timing.check_plausible(self.task, scales)
        scores = [row["score"] for row in scales]
        self.result["performance_score"] = scoring.item_performance_score(scores) if peaks else None
        self.result["speedup"] = timing.speedup(scales, reference_scales)
        if self.settings.perf == "ncu":
            record["ncu"] = timing.profile_with_ncu(
                self.task, lambda k, wrapper: execution.run_cases(
                    # ncu replays every kernel once per group of counters, restoring memory in between
                    self.task, self.library, "gpu", [], timeout_s=3 * limit, stage="time", wrapper=wrapper,
                    timing={**job, "profile_scale": k}),
                reference.bench_outputs, self.settings.seed)
            self.result["ncu_performance_score"] = record["ncu"].get("performance_score")
        if peaks is None:
            record["message"] = f"no peak figures for GPU {gpu.get('name')!r}: Performance-Score not computed"
