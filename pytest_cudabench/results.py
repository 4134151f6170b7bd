"""The record of one item (task x level x sample) and of the report around it: the schema, the item's only
constructor, and the summary of its message.

Plain builtins, so it travels on pytest reports through xdist and is written to the JSON report as it is
(docs/reports.md describes each field for readers of the report; tests/test_reports_doc.py checks that every key
below is described there). The schema sits at the bottom of the package: it imports nothing of it but plain modules,
so every layer can name the record it writes or reads.

Typed as TypedDicts: a key a record always has is required; a key only some records have is NotRequired (or the
TypedDict is total=False where every key is optional), and readers use `.get` only on those.
"""


import re
from pathlib import PurePosixPath
from typing import Any, NotRequired, Protocol, TypedDict, cast

OUTCOMES = ("passed", "failed", "skipped", "error")
# The stages of each pipeline, in order: the kernel tasks' (pipeline.Evaluation) and CUDABench-Set rows'
# (cudabench_set.evaluation.SetEvaluation). An item's failed_stage is one of them, or "crash" (the worker died).
STAGES = ("generate", "extract", "static-check", "compile", "execute", "time")
SET_STAGES = ("generate", "extract", "static-check", "compile", "data", "execute", "judge", "time")
# The version of the kernel prompt templates (generation/prompts.py): bump it when any template text there changes;
# cached generations and reports are keyed by it (every record and prompt hash carries it).
TEMPLATE_VERSION = "1"
# Our Performance-Score, in one sentence: the time stage records it, the run record and the docs quote it.
ROOFLINE_DEFINITION = ("analytic roofline: bound time of the task's minimum FLOPs and DRAM bytes / measured median "
                       "(cold L2), mean over the benchmark scales")


# --- stage records --------------------------------------------------------------------------------------------------
# Every stage record has status (running while it runs; then passed, failed, skipped, error or not-run) and
# duration_s; a stage that did not pass says why in message (details: the full text, e.g. the compiler output).


class StageRecord(TypedDict):
    status: str
    duration_s: float
    message: NotRequired[str | None]
    details: NotRequired[str]


class RequestStats(TypedDict, total=False):
    """What getting an answer took, retries included (remote models; Generation's fields of the same names)."""
    http_requests: int | None
    rate_limited: int | None
    retried_errors: int | None
    malformed_200: int | None
    wait_s: float | None
    total_latency_s: float | None


class GenerateStage(StageRecord):
    cached: NotRequired[bool]  # the answer came from the generation cache
    requests: NotRequired[RequestStats]  # a failed generation: what its requests took (counted in run.usage)


class ExtractStage(StageRecord):
    lines: NotRequired[int]  # lines of the extracted source


class CompileStage(StageRecord):
    cached: NotRequired[bool]
    log: NotRequired[str]  # nvcc's output
    command: NotRequired[str]


class PeaksRecord(TypedDict):
    """The peak rates a score was computed on (timing.gpus.Peaks.to_dict)."""
    name: str
    dram_bw: float  # bytes/s
    fp32: float | None  # FLOP/s, dense
    fp64: float | None
    fp16_tensor: float | None
    bf16_tensor: float | None
    int8_tensor: float | None  # op/s
    l2_bytes: int | None
    source: str  # datasheet:<name> | calibrated:<ISO date>
    measured: list[str]  # the fields a calibration measured


class MachineRecord(TypedDict):
    """The host a run (or an xdist worker) ran on (reporting/report.machine)."""
    hostname: str
    platform: str
    machine: str
    cpu_count: int | None


class CompareRecord(TypedDict):
    """compare.py's verdict, CUDABench's judge of a set row (cudabench_set/judge.CompareVerdict.to_dict)."""
    passed: bool
    stdout: str  # its last 1,500 characters
    returncode: int | None
    message: str


class OutputCheck(TypedDict):
    """Our check of one output of a set row against its reference file."""
    ok: bool | None  # None: not judged (no reference file bound, or one of another size)
    message: str
    mismatches: NotRequired[int]
    max_abs_error: NotRequired[float]


class OwnCheckRecord(TypedDict):
    """Our judge of a set row's outputs (cudabench_set/judge.own_check)."""
    ok: bool | None  # None when any output was not judged
    atol: float
    rtol: float
    outputs: dict[str, OutputCheck]


class RowDataRecord(TypedDict):
    """The data stage's facts (cudabench_set/data.RowData.to_dict)."""
    seed_mode: str
    seed: int | None
    seed_calls_replaced: int  # gen.py's seeding calls given the run's seed
    generated: bool  # False: gen.py's files came from the cache
    references: dict[str, str]  # output name -> its reference file in data/


class KnockoutRecord(TypedDict, total=False):
    """The answer run once more with every kernel launch a no-op (execution/knockout.py)."""
    case: int
    sizes: dict[str, int]
    verdict: str  # kernels-needed | not-run | host-work (a failure: the outputs were computed on the host)
    message: str | None
    compare: CompareRecord  # CUDABench-Set: compare.py's verdict on the knocked-out outputs


class ThreadOrderRecord(TypedDict):
    """CUDABench-Set: the program run in another thread order (cudabench_set/orders.py)."""
    order: str
    seed: int
    verdict: str  # passed | failed | not-run | inconclusive | not-reached
    message: str | None
    seconds: float | None
    racecheck: Any
    race: Any


class ProgramRunRecord(TypedDict):
    """CUDABench-Set: one run of the whole program (cudabench_set/program.ProgramRun)."""
    returncode: int | None
    timed_out: bool
    seconds: float
    output: str
    landlock_abi: int | None
    seccomp: Any
    runtime_error: Any
    thread_order: Any
    racecheck: Any
    work: Any
    progress_age_s: float | None
    knockout: Any


class ExecuteStage(StageRecord):
    runtime: NotRequired[str]  # gpu | cpu
    gpu_api: NotRequired[str]
    cases: NotRequired[list[dict[str, Any]]]  # execution.runner.ExecutionResult.to_dict: per case
    sandbox: NotRequired[dict[str, Any]]
    knockout: NotRequired[KnockoutRecord]
    # CUDABench-Set: the program's run (ProgramRunRecord's keys), its confinement and the thread-order run
    returncode: NotRequired[int | None]
    timed_out: NotRequired[bool]
    seconds: NotRequired[float]
    output: NotRequired[str]
    landlock_abi: NotRequired[int | None]
    seccomp: NotRequired[Any]
    runtime_error: NotRequired[Any]
    racecheck: NotRequired[Any]
    work: NotRequired[Any]
    progress_age_s: NotRequired[float | None]
    confinement: NotRequired[str]
    thread_order: NotRequired[Any]


class ScaleRecord(TypedDict):
    """One benchmark scale of the time stage (timing/stage.score_scales)."""
    sizes: dict[str, int]
    median_s: float
    iqr_s: float | None
    min_s: float | None
    n: int | None
    converged: bool | None
    flagged: bool | None
    flag_reasons: list[str] | None
    throttle: Any
    flops: float
    bytes: float
    work_from: str  # inputs | formula
    bound_s: float | None
    bound_by: str | None  # compute | memory
    score: float | None
    limit_s: float | None


class TimeStage(StageRecord):
    scales: NotRequired[list[ScaleRecord]]
    reference_scales: NotRequired[list[ScaleRecord]]
    cold_cache: NotRequired[bool]
    gpu: NotRequired[str | None]
    peaks: NotRequired[PeaksRecord | None]  # what the scores were computed on
    definition: NotRequired[str]
    clock: NotRequired[str]  # host: the CPU runtime's host-clock test seam
    l2_persistence: NotRequired[dict[str, Any] | None]
    calibration_error: NotRequired[str]
    ncu: NotRequired[dict[str, Any]]  # --cudabench-perf=ncu, and CUDABench-Set rows: CUDABench's ncu score
    roofline: NotRequired[dict[str, Any]]  # CUDABench-Set rows: our roofline score of the program
    confinement: NotRequired[str]


class DataStage(StageRecord):
    """CUDABench-Set: gen.py's inputs and reference outputs (cudabench_set/data.RowData.to_dict)."""
    seed_mode: NotRequired[str]
    seed: NotRequired[int | None]
    seed_calls_replaced: NotRequired[int]
    generated: NotRequired[bool]
    references: NotRequired[Any]


class JudgeStage(StageRecord):
    """CUDABench-Set: CUDABench's compare.py and our own check of the program's outputs."""
    ran_during: NotRequired[str]  # the judges ran during execute; duration_s is their time there
    compare: NotRequired[CompareRecord]
    own_check: NotRequired[OwnCheckRecord]
    judges_agree: NotRequired[bool | None]
    disagreement: NotRequired[str]


# Every stage's record under its name; a stage that was not reached is absent.
ItemStages = TypedDict("ItemStages", {
    "generate": GenerateStage, "extract": ExtractStage, "static-check": StageRecord, "compile": CompileStage,
    "data": DataStage, "execute": ExecuteStage, "judge": JudgeStage, "time": TimeStage}, total=False)


# --- generation, attempts, refinement, the set --------------------------------------------------------------------


class GenerationRecord(RequestStats):
    """One answer of a model (generation.models.Generation.to_dict)."""
    content: str
    model: str
    tokens_in: int | None
    tokens_out: int | None
    latency_s: float | None
    cost_usd: float | None
    cached: bool
    finish_reason: str | None


class GenerationSummary(RequestStats, total=False):
    """A generation record without its content (attempts and refinement candidates keep their sources apart)."""
    model: str
    tokens_in: int | None
    tokens_out: int | None
    latency_s: float | None
    cost_usd: float | None
    cached: bool
    finish_reason: str | None


def generation_summary(generation: GenerationRecord | None) -> GenerationSummary:
    """A generation record without its content (an attempt's or a refinement candidate's: the source is kept apart)."""
    summary = dict(generation or {})
    summary.pop("content", None)
    return cast(GenerationSummary, summary)


class AttemptRecord(TypedDict):
    """One answer of the repair loop (--cudabench-attempts > 1; pipeline.Evaluation._attempt_record)."""
    attempt: int
    failed_stage: str | None
    message: str | None
    stages: dict[str, str]  # stage: status
    source: str | None
    source_sha256: str | None
    prompt_hash: str | None
    generation: GenerationSummary


class CandidateRecord(TypedDict):
    """One refinement candidate (pipeline.candidate_record); a model-error candidate has candidate, verdict and
    message only."""
    round: NotRequired[int]
    candidate: int
    verdict: str  # passed | failed | skipped | model-error
    failed_stage: NotRequired[str | None]
    message: NotRequired[str | None]
    source: NotRequired[str | None]
    source_sha256: NotRequired[str | None]
    prompt_hash: NotRequired[str | None]
    generation: NotRequired[GenerationSummary]
    median_s: NotRequired[list[float]]  # per scale
    time_s: NotRequired[float | None]  # their geometric mean
    performance_score: NotRequired[float | None]
    speedup: NotRequired[float | None]
    kept: NotRequired[bool]


class RefinementRound(TypedDict):
    round: int  # 0: the first answer
    candidates: list[CandidateRecord]
    kept_candidate: int | None  # None: none beat the kept one


class RefinementRecord(TypedDict):
    """--cudabench-refine, on an item that passed (pipeline.Evaluation.refine)."""
    status: str  # done | stopped (the model failed mid-way) | not-run (no measured speed)
    message: str | None
    rounds_requested: int
    candidates: int
    selection: str  # how the kept version is chosen
    rounds: list[RefinementRound]
    trajectory: NotRequired[list[float | None]]  # speedup of the kept version after each round, round 0 first
    time_trajectory: NotRequired[list[float | None]]
    kept_round: NotRequired[int | None]
    kept_candidate: NotRequired[int | None]
    initial_speedup: NotRequired[float | None]
    final_speedup: NotRequired[float | None]
    gain: NotRequired[float]  # initial time_s / final time_s
    initial_performance_score: NotRequired[float | None]
    final_performance_score: NotRequired[float | None]
    wrong_candidates: NotRequired[int]


class SetRecord(TypedDict):
    """A CUDABench-Set item's row and verdicts (cudabench_set/evaluation.new_set_result)."""
    row_id: int
    task_name: str
    task: str
    scale: int
    file: str
    line: int
    io_bytes: int
    seed_mode: str  # run | paper
    template_hash: str
    compare: CompareRecord | None  # compare.py's verdict (CUDABench's judge)
    own_check: OwnCheckRecord | None  # ours
    judges_agree: bool | None
    program: ProgramRunRecord | dict[str, Any] | None
    data: RowDataRecord | None
    thread_order: ThreadOrderRecord | dict[str, Any] | None
    knockout: KnockoutRecord | None


class ItemResult(TypedDict):
    nodeid: str
    task: str
    title: str | None
    domain: str | None
    tier: str | None
    level: int
    sample: int
    model: str | None
    outcome: str | None  # one of OUTCOMES, set from the pytest report; error: the harness, task or model API broke
    stage_reached: str | None
    failed_stage: str | None  # a stage of STAGES or SET_STAGES, or "crash" (the worker died)
    message: str | None
    # Per stage: its ItemStages record (status, duration_s, message, the stage's own facts). Keyed by a stage name
    # the recorder holds in a variable, so typed by name only; ItemStages says what each stage's record holds.
    stages: dict[str, Any]
    compiled: bool
    correct: bool | None  # None: not judged
    performance_score: float | None
    # CUDABench's definition, with --cudabench-perf=ncu; always written, NotRequired for reports older than it
    ncu_performance_score: NotRequired[float | None]
    speedup: float | None
    runtime: str | None  # gpu | cpu, where the answer ran
    template_version: str | None
    prompt_hash: str | None
    generation: GenerationRecord | None
    source: str | None
    source_sha256: str | None
    error_kind: NotRequired[str | None]  # with outcome error: model (API), api (key refused), task, config or harness
    pytest_outcome: NotRequired[str]  # how pytest counted it: a harness error during the run is a pytest failure
    attempts: NotRequired[list[AttemptRecord]]  # with --cudabench-attempts > 1: every attempt
    passed_at_attempt: NotRequired[int | None]
    set: NotRequired[SetRecord]  # CUDABench-Set items: the row, both judges' verdicts, program and data facts
    refinement: NotRequired[RefinementRecord]  # with --cudabench-refine, after a pass: every round
    resumed_from: NotRequired[str]  # --cudabench-resume: the run that judged this item; its record, not run again
    worker: NotRequired[str]  # under xdist: the id of the worker that ran it (gw0, ...), a key of run.worker_machines


# --- the report (reporting/report.py builds it, reporting/report_files.load_report reads it) ----------------------

REPORT_SCHEMA = "pytest-cudabench/report/1"


class PassAtK(TypedDict):
    """Unbiased pass@k over problems (task, level) with >= 2 samples each; compile and correct map str(k) to it."""
    n_problems: int
    k_max: int
    compile: dict[str, float]
    correct: dict[str, float]


class BestOfK(TypedDict):
    """CUDABench's "Pass@k": the best of the first k samples of each problem."""
    k: int
    n_problems: int
    compile_rate: float
    correct_rate: float
    cudabench_score: float | None


# One group of items (reporting/aggregates.group_stats documents each key).
GroupStats = TypedDict("GroupStats", {
    "n_items": int, "n_skipped": int, "n_errors": int, "n_judged": int, "n_compiled": int, "n_correct": int,
    "compile_rate": float | None, "correct_rate": float | None, "n_measured": int,
    "mean_performance_score_correct": float | None, "mean_performance_score_all": float | None,
    "cudabench_score": float | None, "cudabench_score_ncu": float | None,
    "mean_ncu_performance_score_correct": float | None, "speedup": float | None,
    "fast_0": float | None, "fast_1": float | None, "fast_1.5": float | None,
    "pass_at_k": PassAtK | None, "best_of_k": BestOfK | None, "mean_performance_score": float | None})


class RefinementStats(TypedDict):
    """What refinement gained over a group (reporting/aggregates.refinement_stats)."""
    n_refined: int
    n_improved: int
    n_not_run: int
    gain: float | None
    initial_speedup: float | None
    final_speedup: float | None
    mean_score_gain: float | None
    candidates: int
    wrong_candidates: int


class ReportGroup(GroupStats):
    refinement: RefinementStats | None  # None without --cudabench-refine


class Aggregates(TypedDict):
    overall: ReportGroup
    by_level: dict[str, ReportGroup]
    by_domain: dict[str, ReportGroup]
    by_tier: dict[str, ReportGroup]


class Totals(TypedDict):
    passed: int
    failed: int
    skipped: int
    error: int
    collected: int  # the sum of the four
    errors_by_kind: dict[str, int]
    pytest: dict[str, int]  # the same items as pytest counted them: passed, failed, skipped, error


class ModelUsage(TypedDict):
    """run.usage[model]: what the run's answers took (reporting/aggregates.usage_totals documents each key)."""
    items: int
    requests: int
    cached: int
    tokens_in: int
    tokens_out: int
    latency_s: float
    cost_usd: float | None
    new_tokens_in: int
    new_tokens_out: int
    new_cost_usd: float | None
    prices: dict[str, float | None] | None
    failed: int
    http_requests: int
    rate_limited: int
    retried_errors: int
    malformed_200: int
    wait_s: float
    total_latency_s: float


class ResumedFrom(TypedDict):
    report: str
    run_id: str | None
    items_carried: int
    refused: str | None


class RunRecord(TypedDict):
    """The report's `run` (reporting/run_facts.run_record builds it). Keys added to schema 1 after its first reports
    are NotRequired: a reader of older reports uses `.get` on them; this version always writes them."""
    id: str
    started: str | None  # None: a merged report of runs that had none
    finished: str | None
    duration_s: float
    model: str
    seed: int | None  # None: a merged report of runs with different seeds (seeds lists them)
    levels: list[int]
    samples: int
    runtime: str
    arch: str
    cases: int | None
    template_version: str
    command: list[str]
    workers: int | None  # xdist workers; None without xdist
    shard: dict[str, Any] | None
    versions: dict[str, str]
    machine: MachineRecord
    gpu: dict[str, Any] | None
    peaks: PeaksRecord | None
    performance_measured: bool
    gpu_api: NotRequired[str]
    peaks_by_item: NotRequired[bool]
    worker_machines: NotRequired[dict[str, dict[str, Any]] | None]
    performance_definition: NotRequired[str]
    ncu_performance_definition: NotRequired[str | None]
    set_ncu_performance_definition: NotRequired[str | None]
    measurement: NotRequired[dict[str, Any]]
    usage: NotRequired[dict[str, ModelUsage]]
    collected_items: NotRequired[int]
    complete: NotRequired[bool]
    stopped: NotRequired[str | None]
    interrupted: NotRequired[bool]
    resumed_from: NotRequired[ResumedFrom | None]
    # merged reports (reporting/runs.merge_reports) only
    models: NotRequired[list[str]]
    seeds: NotRequired[list[int | None]]
    source_runs: NotRequired[list[str]]
    merged_duplicates: NotRequired[Any]
    shards: NotRequired[dict[str, Any] | None]


class CollectionError(TypedDict):
    path: str
    message: str


class Report(TypedDict):
    schema: str  # REPORT_SCHEMA
    run: RunRecord
    totals: Totals
    aggregates: Aggregates
    items: list[ItemResult]
    collection_errors: list[CollectionError]


class ItemIdentity(Protocol):
    """What a new record takes from the task it is for (tasks.loader.Task, a CUDABench-Set row's task)."""
    @property
    def id(self) -> str:
        """Stable key: the item record's `task`, and the key of replay files and generation caches."""
    @property
    def title(self) -> str | None: ...
    @property
    def domain(self) -> str | None: ...
    @property
    def tier(self) -> str | None: ...


def new_result(task: ItemIdentity, level: int, sample: int, model: str, nodeid: str = "") -> ItemResult:
    return _blank(nodeid=nodeid, task=task.id, title=task.title, domain=task.domain, tier=task.tier, level=level,
                  sample=sample, model=model)


def crashed_result(nodeid: str, task_path: str, level: int, sample: int, message: str) -> ItemResult:
    """An item whose xdist worker died: only what its node id tells is known. `task_path` is the task directory,
    or for a CUDABench-Set item `<file>::<task>::scale<k>`."""
    set_parts = task_path.split("::")
    domain: str | None
    if len(set_parts) == 3:
        task, domain = f"cudabench-set/{set_parts[1]}/{set_parts[2]}", "cudabench-set"
    else:
        parts = PurePosixPath(task_path).parts
        task, domain = "/".join(parts[-2:]), (parts[-2] if len(parts) >= 2 else None)
    result = _blank(nodeid=nodeid, task=task, title=None, domain=domain, tier=None, level=level, sample=sample,
                    model=None)
    result["outcome"], result["failed_stage"], result["message"] = "failed", "crash", message
    return result


def _blank(*, nodeid: str, task: str, title: str | None, domain: str | None, tier: str | None, level: int,
           sample: int, model: str | None) -> ItemResult:
    return {
        "nodeid": nodeid, "task": task, "title": title, "domain": domain, "tier": tier, "level": level,
        "sample": sample, "model": model, "outcome": None, "stage_reached": None, "failed_stage": None,
        "message": None, "stages": {}, "compiled": False, "correct": None, "performance_score": None,
        "ncu_performance_score": None, "speedup": None, "runtime": None, "template_version": TEMPLATE_VERSION,
        "prompt_hash": None, "generation": None, "source": None, "source_sha256": None,
    }


# --- the informative line of a message ----------------------------------------------------------------------------
# A failure message opens with where it happened ("wrong result in case 3 (n=4099):", "nvcc failed (exit 2) with 1
# error(s):") and puts what went wrong on the lines after it. A one-line summary (terminal, HTML, JUnit, the refine
# prompt's history) is that opening joined to the line that says what went wrong.

SUMMARY_LIMIT = 240
_COMPILER_ERROR = re.compile(r"^\S+\(\d+\): (?:catastrophic )?error\b|: error:|^error\b")
_NVCC_HEAD = re.compile(r"^nvcc failed \(exit -?\d+\)(?: with (?P<count>\d+) error\(s\))?:$")
# compare.compare_output's line: "c: 5 of 4099 element(s) differ; max abs error ...; first: at [3] expected 1 got 2"
_MISMATCH = re.compile(r"^(?P<arg>\S+): (?P<count>\d+ of \d+) element\(s\) differ\b.*?; first: at (?P<index>\[[^\]]*\]) "
                       r"expected (?P<expected>\S+) got (?P<got>[^;]+)")
# Words that say how to fix a failure: the full message keeps them, a summary has no room.
_ADVICE = (re.compile(r"; add one \(__syncwarp\(\) only orders the lanes of one warp\), or use an atomic"),
           re.compile(r"correct with each block's threads run in thread order between barriers, "))


def message_summary(message: str | None, limit: int = SUMMARY_LIMIT) -> str:
    """The informative line of an item's message, at most `limit` characters: the message's opening and, when it
    introduces details (ends with ":"), the detail that says what went wrong: nvcc's first error, the first
    differing element, else the first detail line. A one-line message is itself (a crash's signal and hint, a
    race with its kernel, thread and source lines); advice to the model is left to the full message."""
    lines = [line.rstrip() for line in (message or "").strip().splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0]
    if head.endswith(":") and len(lines) > 1:
        details = [line.strip() for line in lines[1:] if not line[:1].isspace() and not line.startswith("---")]
        nvcc = _NVCC_HEAD.match(head)
        if nvcc:
            first = next((line for line in details if _COMPILER_ERROR.search(line)), details[0] if details else "")
            count = int(nvcc["count"] or 0)
            head = f"nvcc: {first}" + (f" (first of {count} errors)" if count > 1 else "")
        else:
            detail = details[0] if details else ""
            mismatch = next((m for m in map(_MISMATCH.match, details) if m), None)
            if mismatch:
                detail = (f"{mismatch['arg']}{mismatch['index']} expected {mismatch['expected']} got "
                          f"{mismatch['got'].strip()} ({mismatch['count']} elements differ)")
            head = f"{head} {detail}".strip()
    for advice in _ADVICE:
        head = advice.sub("", head)
    head = re.sub(r"\s+", " ", head)
    return head if len(head) <= limit else head[:limit - 1].rstrip() + "…"
