"""The evaluation of one item (task x level x sample): its stages in order, recorded as plain data.

StageRecorder is what every task family's evaluation shares: the stage records, the generation record, the repair
loop (--cudabench-attempts) and, after a pass, refinement for speed (--cudabench-refine, --cudabench-candidates).
Evaluation is the kernel's: generate -> extract -> static-check -> compile -> execute -> time (STAGES); the
CUDABench-Set's is its peer (cudabench_set/evaluation.py). The first stage that fails ends the evaluation; its
StageFailure propagates after being recorded. The result is a results.ItemResult (builtins, so it can travel on
pytest reports through xdist).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

from .averages import geomean
from .config import Settings
from .errors import HarnessError, ModelError, StageFailure, StageSkip, TaskError, error_kind
from .execution import runner, supervisor
from .execution.knockout import check_kernel_answer
from .execution.runner import run_timing
from .generation.models import Generation, GenerationRequest
from .generation.refine import refine_messages, refine_request
from .generation.repair import next_request, repair_messages
from .results import (
    STAGES,
    AttemptRecord,
    CandidateRecord,
    ItemResult,
    RefinementRecord,
    RefinementRound,
    generation_summary,
    message_summary,
    new_result,
)
from .source import compiler, static_check
from .source.extract import extract_source
from .tasks import inputs
from .tasks.bench_task import BenchTask
from .tasks.loader import Task
from .timing.gpu_api import resolve_gpu_api
from .timing.gpus import gpu_arch
from .timing.stage import Build, profile_answer, time_answer

# Failures the model can act on when told about them; a model failure or a harness error is not repairable.
REPAIRABLE_STAGES = ("extract", "static-check", "compile", "execute")

# Refinement keeps the fastest correct version: the geometric mean over the scales of the per-scale medians;
# within REFINE_TIE of the kept one's it is a tie, and the higher Performance-Score wins.
REFINE_TIE = 0.01
REFINE_SELECTION = ("fastest correct: geometric mean over the benchmark scales of the per-scale median time; within "
                    f"{REFINE_TIE:.0%} a tie, broken by the Performance-Score")
T = TypeVar("T", bound=BenchTask)
NO_SPEED = ("refinement needs measured speed and timing needs a GPU (performance not measured): no refine rounds "
            "were run")


class StageRecorder(Generic[T]):
    """The record of one item's evaluation, whatever its family (a kernel task here, a CUDABench-Set row in
    cudabench_set/evaluation.py): stage records, generation records, the attempt loop (repair) and the refine
    driver. A family declares its STAGES (in order: the report draws them so) and which failures are REPAIRABLE,
    and implements `run` (every stage after generation) and `candidate` (a fresh evaluation of the same item).
    Knows nothing of pytest."""

    STAGES: tuple[str, ...] = ()
    REPAIRABLE: tuple[str, ...] = ()
    # What one attempt's answer decides; a new attempt starts them afresh (generation and identity stay).
    ATTEMPT_KEYS: tuple[str, ...] = ("stages", "stage_reached", "failed_stage", "message", "compiled", "correct",
                                     "runtime", "source", "source_sha256", "performance_score",
                                     "ncu_performance_score", "speedup")

    def __init__(self, task: T, level: int, sample: int, settings: Settings, nodeid: str = ""):
        self.task = task
        self.level = level
        self.sample = sample
        self.settings = settings
        self.result = self.fresh_result(nodeid)
        self.source: str | None = None

    @property
    def arch(self) -> str:
        return self.settings.arch or gpu_arch()

    def fresh_result(self, nodeid: str) -> ItemResult:
        return new_result(self.task, self.level, self.sample, self.settings.model, nodeid)

    def run(self, answer: str) -> ItemResult:
        """Runs every stage after generation. Raises the first StageFailure or StageSkip, after recording it."""
        raise NotImplementedError

    def candidate(self) -> StageRecorder[T]:
        """A fresh evaluation of the same item (a refine candidate)."""
        raise NotImplementedError

    def keep_answer_of(self, best: StageRecorder[T]) -> None:
        """Refinement kept `best`'s answer: take what its stages built."""
        self.source = best.source

    def forget_answer(self) -> None:
        """A new attempt: what the previous answer's stages built is gone."""
        self.source = None

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, Any]]:
        if name not in self.STAGES:
            raise AssertionError(f"stage {name!r} is not one of {type(self).__name__}.STAGES {self.STAGES}")
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
            message = f"{error_kind(exc)} error: {exc}"
            record.update(status="error", message=message)
            self.result["failed_stage"], self.result["message"] = name, message
            raise
        else:
            record["status"] = record.pop("status_override", "passed")
        finally:  # a stage whose work ran earlier (the set's judges, during execute) gives its own duration
            record["duration_s"] = round(record.pop("duration_override_s", time.perf_counter() - start), 6)

    def record_generation(self, generation: Generation, prompt_hash: str, duration_s: float) -> None:
        self.result["generation"] = generation.to_dict()
        self.result["prompt_hash"] = prompt_hash
        self.result["stages"]["generate"] = {"status": "passed", "duration_s": round(duration_s, 6),
                                             "cached": generation.cached}
        self.result["stage_reached"] = "generate"

    def record_generation_failure(self, message: str, duration_s: float, skipped: bool = False,
                                  request_stats: dict[str, Any] | None = None) -> None:
        """`request_stats`: what the failed requests took (ModelError.request_stats), counted in the run's usage."""
        status = "skipped" if skipped else "error"
        self.result["stages"]["generate"] = {"status": status, "duration_s": round(duration_s, 6), "message": message}
        if request_stats:
            self.result["stages"]["generate"]["requests"] = request_stats
        self.result["stage_reached"] = "generate"
        self.result["message"] = message
        if not skipped:
            self.result["failed_stage"] = "generate"

    def record_error(self, exc: BaseException) -> None:
        """An exception that ended the item outside any stage's recording (a bug, a configuration found late): the
        record says what it was and where the item got to."""
        if self.result["message"] is None:
            self.result["message"] = str(exc)
            self.result["failed_stage"] = self.result["failed_stage"] or self.result["stage_reached"]

    def run_attempts(self, request: GenerationRequest, answer: str, ask: Callable[[GenerationRequest], Generation],
                     attempts: int) -> ItemResult:
        """`run`, and with attempts > 1 the repair loop: a failure at a REPAIRABLE stage goes back to the model as
        the next turn (compiler errors, mismatch summary), up to `attempts` answers. Every attempt is kept in
        result["attempts"]; result["passed_at_attempt"] says which one passed. `ask(request) -> Generation`."""
        first = request
        history: list[AttemptRecord] = []
        for attempt in range(1, attempts + 1):
            try:
                self.run(answer)
            except StageFailure as exc:
                history.append(self._attempt_record(attempt))
                if attempt == attempts or exc.stage not in self.REPAIRABLE:
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
            if self.settings.refine:
                self.refine(first, ask)
            return self.result
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ refine for speed (CUDA-LLM's loop)

    def refine(self, first: GenerationRequest, ask: Callable[[GenerationRequest], Generation]) -> None:
        """After this item passed every stage: `settings.refine` rounds, each asking the model `settings.candidates`
        times for a faster version of the kept one, with its measured speed (generation/refine.py). Every candidate
        runs every stage in an evaluation of its own (`candidate()`); a wrong one is recorded and never kept; the
        fastest correct one (REFINE_SELECTION) becomes this item's result. Without measured times nothing is asked.
        Everything is recorded in result["refinement"] (schema in reporting/report.py)."""
        rounds, candidates = self.settings.refine, self.settings.candidates
        refinement: RefinementRecord = {"status": "done", "message": None, "rounds_requested": rounds,
                                        "candidates": candidates, "selection": REFINE_SELECTION, "rounds": []}
        self.result["refinement"] = refinement
        best: StageRecorder[T] = self
        best_record = candidate_record(self.result, 0, 0, "passed")
        if best_record["time_s"] is None:
            refinement.update({"status": "not-run", "message": NO_SPEED, "rounds": [], "trajectory": [],
                               "kept_round": None, "kept_candidate": None})
            return
        best_record["kept"] = True
        refinement["rounds"].append({"round": 0, "candidates": [best_record], "kept_candidate": 0})
        trajectory: list[float | None] = [best_record["speedup"]]
        times: list[float | None] = [best_record["time_s"]]
        history: list[str] = []
        for round_ in range(1, rounds + 1):
            entry: RefinementRound = {"round": round_, "candidates": [], "kept_candidate": None}
            refinement["rounds"].append(entry)
            # Every candidate of a round refines the version kept when the round starts.
            assert best.source is not None
            speed, source, sha = speed_facts(best.result), best.source, best.result["source_sha256"] or ""
            for index in range(candidates):
                request = refine_request(first, refine_messages(first.messages, source, speed, round_, rounds,
                                                                index, candidates, history), round_, index, sha)
                start = time.perf_counter()
                try:
                    generation = ask(request)
                except ModelError as exc:  # the model stopped answering: keep what was found so far
                    entry["candidates"].append({"candidate": index, "verdict": "model-error", "message": str(exc)})
                    refinement.update({"status": "stopped", "message": f"round {round_}: the model failed: {exc}"})
                    break
                candidate = self.candidate()
                candidate.record_generation(generation, request.prompt_hash, time.perf_counter() - start)
                verdict = "passed"
                try:
                    candidate.run(generation.content)
                except StageFailure:
                    verdict = "failed"
                except StageSkip:
                    verdict = "skipped"
                record = candidate_record(candidate.result, round_, index, verdict)
                entry["candidates"].append(record)
                if verdict == "passed" and is_better(record, best_record):
                    best_record["kept"] = False
                    record["kept"] = True
                    best, best_record = candidate, record
                    entry["kept_candidate"] = index
            history.append(round_summary(entry))
            trajectory.append(best_record["speedup"])
            times.append(best_record["time_s"])
            if refinement["status"] == "stopped":
                break
        if best is not self:
            for key in (*self.ATTEMPT_KEYS, "generation", "prompt_hash"):  # the kept answer and what it decided
                self.result[key] = best.result[key]  # type: ignore[literal-required]
            self.keep_answer_of(best)
        initial = refinement["rounds"][0]["candidates"][0]
        initial_s, final_s = initial.get("time_s"), best_record.get("time_s")
        assert initial_s and final_s  # both timed: round 0 was (checked above), and only a timed candidate is kept
        refinement.update({
            "trajectory": trajectory, "time_trajectory": times, "kept_round": best_record["round"],
            "kept_candidate": best_record["candidate"], "initial_speedup": initial["speedup"],
            "final_speedup": best_record["speedup"], "gain": initial_s / final_s,
            "initial_performance_score": initial["performance_score"],
            "final_performance_score": best_record["performance_score"],
            "wrong_candidates": sum(1 for r in refinement["rounds"][1:] for c in r["candidates"]
                                    if c["verdict"] == "failed")})

    def _attempt_record(self, attempt: int) -> AttemptRecord:
        r = self.result
        return {"attempt": attempt, "failed_stage": r["failed_stage"], "message": r["message"],
                "stages": {k: v.get("status") for k, v in r["stages"].items()}, "source": r["source"],
                "source_sha256": r["source_sha256"], "prompt_hash": r["prompt_hash"],
                "generation": generation_summary(r["generation"])}

    def _keep_history(self, history: list[AttemptRecord], attempts: int) -> None:
        if attempts > 1:
            self.result["attempts"] = history
            self.result.setdefault("passed_at_attempt", None)

    def _reset_for_attempt(self) -> None:
        fresh = self.fresh_result(self.result["nodeid"])
        for key in self.ATTEMPT_KEYS:
            self.result[key] = fresh[key]  # type: ignore[literal-required]
        self.forget_answer()


class Evaluation(StageRecorder[Task]):
    """The evaluation of one item of a task directory: STAGES, the kernel's."""

    STAGES = STAGES
    REPAIRABLE = REPAIRABLE_STAGES

    def __init__(self, task: Task, level: int, sample: int, settings: Settings, nodeid: str = ""):
        super().__init__(task, level, sample, settings, nodeid)
        self.library: Path | None = None
        self.runtime_library: Path | None = None  # what execute ran: the nvcc build, or the CPU runtime's

    def candidate(self) -> Evaluation:
        return Evaluation(self.task, self.level, self.sample, self.settings, self.result["nodeid"])

    def keep_answer_of(self, best: StageRecorder[Task]) -> None:
        super().keep_answer_of(best)
        assert isinstance(best, Evaluation)
        self.library, self.runtime_library = best.library, best.runtime_library

    def forget_answer(self) -> None:
        super().forget_answer()
        self.library = None

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
            arch, extra_flags = compile_settings(self.task, self.settings)
            build = compiler.compile_library(self.source, cache_dir=self.settings.cache_path, arch=arch,
                                             extra_flags=extra_flags)
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

    def later_stages(self):
        return [("execute", self.execute), ("time", self.time)]

    def execute(self, record: dict[str, Any]) -> None:
        runtime = runner.choose_runtime(self.settings.runtime, self.settings.gpu_api)
        self.result["runtime"] = runtime
        record["runtime"] = runtime
        if runtime == "gpu":
            record["gpu_api"] = resolve_gpu_api(self.settings.gpu_api)
        assert self.source is not None and self.library is not None
        library = supervisor.build_for_runtime(runtime, self.source, self.library, self.settings.cache_path,
                                              self.settings.sanitize, self.arch)
        self.runtime_library = library
        cases = inputs.make_cases(self.task, self.settings.seed, self.settings.cases)
        if runtime == "cpu":  # no time stage there to see the benchmark sizes: judge one that fits the CPU
            cases += inputs.cpu_scale_cases(self.task, self.settings.seed, len(cases))
        for case in cases:
            inputs.expect(self.task, case)
        outcome = runner.run_cases(self.task, library, runtime, cases,
                                      timeout_s=self.settings.timeout_s or self.task.timeout_s,
                                      sanitize=self.settings.sanitize, gpu_api=self.settings.gpu_api)
        record.update(outcome.to_dict())

        # Outputs that pass with every kernel launch a no-op were computed on the host: not a CUDA answer.
        check_kernel_answer(record, self.task, self.source, library, runtime, cases, self.settings.cache_path,
                            self.settings.timeout_s or self.task.timeout_s, self.arch, self.settings.sanitize)
        self.result["correct"] = True

    def time(self, record: dict[str, Any]) -> None:
        assert self.library is not None and self.source is not None
        answer = Build(self.source, self.library, self.runtime_library)
        runtime = self.result["runtime"] or ""
        scores = time_answer(self.task, self.settings, runtime, answer, self.arch, record, run_timing)
        if scores is not None:
            self.result["performance_score"], self.result["speedup"] = scores.performance_score, scores.speedup
            ncu = profile_answer(self.task, self.settings, runtime, answer, scores, record, run_timing)
            if ncu is not None:
                self.result["ncu_performance_score"] = ncu.get("performance_score")


def compile_settings(task: Task, settings: Settings) -> tuple[str, tuple[str, ...]]:
    """nvcc's target and extra flags for an answer to `task`: the compile stage's, and compile-ahead's."""
    return settings.arch or gpu_arch(), tuple(static_check.link_flags(task.libraries))


# ---------------------------------------------------------------------- refinement's plain-data helpers


def candidate_record(result: ItemResult, round_: int, candidate: int, verdict: str) -> CandidateRecord:
    """One refinement candidate as the report keeps it: its source, verdict and measured times."""
    time_stage = result["stages"].get("time") or {}
    scales = time_stage.get("scales") or [] if time_stage.get("status") == "passed" else []
    medians = [row.get("median_s") for row in scales]
    return {"round": round_, "candidate": candidate, "verdict": verdict, "failed_stage": result["failed_stage"],
            "message": result["message"], "source": result["source"], "source_sha256": result["source_sha256"],
            "prompt_hash": result["prompt_hash"], "generation": generation_summary(result["generation"]),
            "median_s": medians, "time_s": geomean(medians) if scales else None,
            "performance_score": result["performance_score"], "speedup": result["speedup"], "kept": False}


def is_better(candidate: CandidateRecord, kept: CandidateRecord) -> bool:
    """REFINE_SELECTION: is the (correct, timed) candidate to replace the kept version?"""
    new_s, old_s = candidate.get("time_s"), kept.get("time_s")
    if new_s is None or old_s is None:  # the kept version is always timed
        return False
    ratio = new_s / old_s
    if ratio < 1 - REFINE_TIE:
        return True
    new_score, old_score = candidate.get("performance_score"), kept.get("performance_score")
    return ratio <= 1 + REFINE_TIE and new_score is not None and old_score is not None and new_score > old_score


def speed_facts(result: ItemResult) -> dict[str, Any]:
    """What the refine prompt tells the model about a version's speed, from its time stage record."""
    record = result["stages"]["time"]
    reference = record.get("reference_scales") or []
    scales = []
    for k, row in enumerate(record.get("scales") or []):
        scales.append({key: row.get(key) for key in ("sizes", "median_s", "bound_s", "bound_by", "score")}
                      | {"reference_median_s": reference[k].get("median_s") if k < len(reference) else None})
    return {"gpu": record.get("gpu"), "clock": record.get("clock", "events"), "scales": scales,
            "performance_score": result["performance_score"], "speedup": result["speedup"],
            "ncu": record.get("ncu")}


def round_summary(entry: RefinementRound) -> str:
    """One line per round for the next rounds' prompts: what each candidate gave."""
    parts = []
    for c in entry["candidates"]:
        label = f"candidate {c['candidate'] + 1}"
        if c["verdict"] == "passed":
            speed = f"{c['speedup']:.2f}x the reference" if c.get("speedup") else f"{c['time_s']:.3g} s"
            parts.append(f"{label}: correct, {speed}" + (" (kept, shown above)" if c.get("kept") else ", not faster"))
        elif c["verdict"] == "failed":
            parts.append(f"{label}: wrong at {c.get('failed_stage')} ({message_summary(c.get('message'))}), discarded")
        else:
            parts.append(f"{label}: {c['verdict']}")
    return f"round {entry['round']}: " + "; ".join(parts)
