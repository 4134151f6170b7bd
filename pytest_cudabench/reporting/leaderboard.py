"""A leaderboard over many run reports: one row per model, rates with intervals, paired tests, an item matrix.

    python -m pytest_cudabench leaderboard R1.json R2.json ... [--json F] [--html F] [--markdown F] [--csv F]

How reports become rows. Reports combine by model name (shards, levels, extra samples of one model are one row);
one item (task, level, sample) given twice for a model must have the same verdict, else the command stops naming
both files. A model is compared with the others over the *common items*: those every model was judged on (skips
and errors are not judged: they say nothing about the answer); what was left out, and why, is listed.

The statistics (reporting/statistics.py): the correct rate's interval is Wilson's over items; pass@k, the scores
and every difference get a percentile bootstrap over *tasks* (items of one task are correlated), with the seed and
the number of resamples recorded; two models are compared with the exact McNemar test on the items only one of
them got right, Holm-adjusted over all pairs; score differences with a paired bootstrap over tasks, Holm-adjusted
as their own family. Runs that differ in seed, task set, runtime, GPU, harness or prompt version are not paired
comparisons: the `caveats` say so first.

JSON schema "pytest-cudabench/leaderboard/1" (documented in docs/reports.md).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NotRequired, TypedDict, TypeVar, overload

from ..errors import MergeError
from ..files import atomic_write
from ..results import ItemResult, Report, RunRecord, message_summary
from . import aggregates
from . import statistics as stats
from .report_files import LEADERBOARD_SCHEMA, item_key, load_report

VERDICT_FIELDS = ("outcome", "failed_stage", "compiled", "correct")
_TIER_ORDER = {"easy": 0, "medium": 1, "hard": 2}


# --- the document: schema LEADERBOARD_SCHEMA (docs/reports.md), in the JSON's key order -----------------------------

CI95 = list[float]  # [low, high] of a 95 % interval, rounded to 6 places


class Rates(TypedDict):
    """Rates of judged items; the scores are None where performance was not measured (or no items)."""

    n: int
    n_tasks: int
    compiled: int
    correct: int
    compile_rate: float | None
    correct_rate: float | None
    correct_ci95: CI95 | None
    cudabench_score: float | None
    cudabench_score_ci95: CI95 | None
    mean_performance_score: float | None
    mean_performance_score_ci95: CI95 | None


class JudgedRates(TypedDict):
    """A model row's `all_judged`: the rates over every item it was judged on, not only the common ones."""

    n: int
    compiled: int
    correct: int
    compile_rate: float | None
    correct_rate: float | None
    correct_ci95: CI95 | None


class PassAtK(TypedDict):
    """pass@k for k = 1 .. k_max, keyed by str(k), each with its bootstrap interval over tasks."""

    k_max: int
    n_problems: int
    values: dict[str, float | None]
    ci95: dict[str, CI95 | None]


class Usage(TypedDict):
    tokens_in: int
    tokens_out: int
    cost_usd: float | None


class ModelRow(Rates, Usage):
    """One model: what was given, its rates over the common items (Rates' keys), pass@k, usage, groups, rank."""

    model: str
    files: list[str]
    run_ids: list[str]
    seeds: list[int | None]
    items: int
    judged: int
    errors: int
    skipped: int
    performance_measured: bool
    pass_at_k: PassAtK | None
    all_judged: JudgedRates
    by_level: dict[str, Rates]
    by_domain: dict[str, Rates]
    by_tier: dict[str, Rates]
    rank: int  # 1 = first
    better_than: list[str]  # the models ranked below it that it beats significantly


class ScoreComparison(TypedDict):
    """CUDABench-Score of A against B (both measured): the paired bootstrap's interval and p-value."""

    a: float | None
    b: float | None
    difference: float | None
    difference_ci95: CI95 | None
    p_value: float | None
    p_holm: NotRequired[float]  # set by `pairs` where p_value is not None
    significant: NotRequired[bool]


class PairComparison(TypedDict):
    """A against B over the items both were judged on; [A, B] in the two-element lists."""

    common_items: int
    common_tasks: int
    correct: list[int]
    correct_rate: list[float | None]
    difference: float | None
    difference_ci95: CI95 | None
    discordant: list[int]  # [A only right, B only right]
    p_value: float
    score: ScoreComparison | None


class Pair(PairComparison):
    """A pair of the board (a ranked above b), Holm-adjusted over all pairs."""

    a: str
    b: str
    p_holm: float
    significant: bool


class MatrixCell(TypedDict):
    status: str  # pass, fail, skip, error
    failed_stage: str | None
    message: str
    file: str  # the report the item came from


class MatrixRow(TypedDict):
    key: str
    task: str
    level: int
    sample: int
    domain: str | None
    tier: str | None
    common: bool
    cells: dict[str, MatrixCell | None]  # per model; None where absent


class Matrix(TypedDict):
    models: list[str]
    rows: list[MatrixRow]


class LeftOut(TypedDict):
    """Per model, the items outside the common ones by what they were for it, with the commonest reasons."""

    judged: int
    skipped: int
    errors: int
    absent: int
    reasons: list[str]


class Source(TypedDict):
    file: str
    run_id: str | None
    model: str | None
    seed: int | None
    items: int


class Bootstrap(TypedDict):
    unit: str
    resamples: int
    seed: int
    confidence: float
    interval: str
    used_for: str


class Methods(TypedDict):
    correct_ci95: str
    bootstrap: Bootstrap
    pairs: str
    multiple_comparisons: str
    alpha: float


class Leaderboard(TypedDict):
    schema: str
    sources: list[Source]
    caveats: list[str]
    common_items: int
    all_items: int
    left_out: dict[str, LeftOut]
    methods: Methods
    models: list[ModelRow]
    pairs: list[Pair]
    matrix: Matrix


@overload
def status(item: ItemResult) -> str: ...


@overload
def status(item: ItemResult | None) -> str | None: ...


def status(item: ItemResult | None) -> str | None:
    """pass, fail, skip or error (an item without outcome did not finish: an error); None where absent."""
    if item is None:
        return None
    return {"passed": "pass", "failed": "fail", "skipped": "skip"}.get(str(item["outcome"]), "error")


def judged(item: ItemResult | None) -> bool:
    return status(item) in ("pass", "fail")


def is_correct(item: ItemResult) -> bool:
    return item["correct"] is True


def _task(item: Mapping[str, Any]) -> str:
    return str(item.get("task") or item_key(item))


def _sort_key(item: ItemResult) -> tuple[Any, ...]:
    return (str(item["task"]), item["level"] or 0, item["sample"] or 0)


class _ItemPair(TypedDict):
    """The items of A and B for one key, clustered by their task for the paired bootstrap."""

    task: str
    pair: tuple[ItemResult, ItemResult]


Clustered = TypeVar("Clustered", bound=Mapping[str, Any])  # an item, or anything with its task


def _by_task(items: Iterable[Clustered], value: Callable[[Clustered], float | None]) -> list[list[float]]:
    """Values per task (the bootstrap's clusters); an item whose value is None is left out of its task."""
    clusters: dict[str, list[float]] = defaultdict(list)
    for item in items:
        values = clusters[_task(item)]  # a task whose items have no value is still a cluster (drawn, adds nothing)
        v = value(item)
        if v is not None:
            values.append(float(v))
    return list(clusters.values())


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _interval(value: tuple[float, float] | None) -> CI95 | None:
    return None if value is None else [round(value[0], 6), round(value[1], 6)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


# --- combining reports by model -------------------------------------------------------------------------------------

@dataclass
class ModelRuns:
    """What was given for one model: its files, their run blocks, and its items by key (each from one file)."""

    name: str
    files: list[str] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    items: dict[str, ItemResult] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    duplicates: int = 0

    def add_file(self, path: str, run: RunRecord) -> None:
        if path not in self.files:
            self.files.append(path)
            self.runs.append(run)

    def judged_items(self) -> dict[str, ItemResult]:
        return {key: item for key, item in self.items.items() if judged(item)}

    @property
    def performance_measured(self) -> bool:
        return aggregates.performance_measured(self.judged_items().values())


def model_of(item: ItemResult, run: RunRecord) -> str:
    """The run's model; in a report that holds several (an old `merge --force`), the item's own."""
    if len(run.get("models") or []) > 1:
        return str(item["model"] or run["model"])
    return str(run["model"])


def _verdict_text(item: ItemResult) -> str:
    stage = f" at {item['failed_stage']}" if item["failed_stage"] else ""
    return f"{item['outcome']}{stage}"


def combine_by_model(reports: Sequence[tuple[str, Report]]) -> dict[str, ModelRuns]:
    """Reports (path, report) grouped by model, in the order models first appear. The same item twice for a model
    is kept once when its verdicts agree (counted in `duplicates`); when they differ, MergeError names both files."""
    models: dict[str, ModelRuns] = {}
    for path, report in reports:
        run = report.get("run") or {}
        if not report.get("items"):
            models.setdefault(str(run["model"]), ModelRuns(str(run["model"]))).add_file(path, run)
        for item in report.get("items") or []:
            name = model_of(item, run)
            model = models.setdefault(name, ModelRuns(name))
            model.add_file(path, run)
            key = item_key(item)
            earlier = model.items.get(key)
            if earlier is None:
                model.items[key] = item
                model.origin[key] = path
                continue
            if any(earlier.get(f) != item.get(f) for f in VERDICT_FIELDS):
                raise MergeError(
                    f"{key} of model {name} has two different results: {_verdict_text(earlier)} in "
                    f"{model.origin[key]} and {_verdict_text(item)} in {path}; give each item of a model once (leave "
                    "one file out, or `merge` the runs first: it keeps the later run's item)")
            model.duplicates += 1
    return models


# --- what was compared ----------------------------------------------------------------------------------------------

def common_keys(models: Sequence[ModelRuns]) -> set[str]:
    """The items every model was judged on."""
    sets = [set(m.judged_items()) for m in models]
    return set.intersection(*sets) if sets else set()


def left_out(models: Sequence[ModelRuns], common: set[str]) -> dict[str, LeftOut]:
    """Per model, how many items outside the common ones it has, by what they were for it (judged there but not by
    every model, skipped, error, absent), with the most frequent skip and error reasons."""
    union = set().union(*(m.items for m in models)) if models else set()
    result: dict[str, LeftOut] = {}
    for model in models:
        counts: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        for key in sorted(union - common):  # key order breaks ties of reasons alike in every process
            item = model.items.get(key)
            state = status(item)
            counts[{"pass": "judged", "fail": "judged", None: "absent"}.get(state, state or "absent")] += 1
            if item is not None and state in ("skip", "error"):
                reasons[(str(item["message"] or "no message").strip().splitlines() or ["no message"])[0][:120]] += 1
        result[model.name] = {"judged": counts["judged"], "skipped": counts["skip"], "errors": counts["error"],
                              "absent": counts["absent"], "reasons": [r for r, _ in reasons.most_common(3)]}
    return result


def _run_value(run: RunRecord, name: str) -> Any:
    if name == "harness version":
        return run["versions"].get("pytest_cudabench")
    if name == "GPU":
        return run["gpu"].get("name") if run["gpu"] else "none"
    return {"seed": run["seed"], "prompt template": run["template_version"], "arch": run["arch"],
            "cases": run["cases"]}[name]


CAVEAT_FIELDS = {
    "seed": "the {between} saw different random inputs, so their items are not paired on inputs (McNemar and the "
            "paired bootstraps assume they are)",
    "GPU": "Performance-Scores are each relative to their own GPU's roof",
    "harness version": "the harness judged them with different code",
    "prompt template": "the {between} asked with different prompts",
    "arch": "the answers were compiled for different architectures",
    "cases": "the answers were judged on different numbers of cases",
}


def _text(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


def caveats(models: Sequence[ModelRuns], common: set[str], between: str = "models") -> list[str]:
    """What makes the comparison of `models` (`between` names them: models, runs) less than paired and like for
    like, most serious first."""
    found = []
    for name, consequence in CAVEAT_FIELDS.items():
        per_model = {m.name: list(dict.fromkeys(_run_value(run, name) for run in m.runs)) for m in models}
        for model, values in per_model.items():
            if len(values) > 1:
                found.append(f"the runs of {model} differ in {name} ({_text(values)})")
        grouped: dict[str, list[str]] = defaultdict(list)  # value(s) -> the models that have them
        for model, values in per_model.items():
            grouped[_text(values)].append(model)
        if len(grouped) > 1 and any(v != [None] for v in per_model.values()):
            found.append(f"{name} differs between {between} "
                         f"({'; '.join(f'{value}: {_text(names)}' for value, names in grouped.items())}): "
                         + consequence.format(between=between))
    runtimes = {m.name: sorted({str(i["runtime"]) for i in m.judged_items().values() if i["runtime"]})
                for m in models}
    if len({tuple(v) for v in runtimes.values()}) > 1:
        each = "; ".join(f"{m}: {_text(v) or 'none'}" for m, v in runtimes.items())
        found.append(f"runtime differs between {between} ({each}): items judged on the CPU runtime and on a GPU are "
                     "not the same test")
    measured = [m.name for m in models if m.performance_measured]
    if measured and len(measured) < len(models):
        found.append(f"performance was measured for {_text(measured)} only: scores are compared only between "
                     f"{between} that have them")
    union = set().union(*(m.items for m in models)) if models else set()
    if len(models) > 1 and not common:
        found.append(f"no item was judged for every one of the {between}: there is nothing to compare them on "
                     "(each one's rates over its own items are in its run report)")
    elif len({frozenset(m.judged_items()) for m in models}) > 1:
        found.append(f"the {between} were not all judged on the same items: {len(common)} of {len(union)} items "
                     "are common to all, and the rates and tests of the comparison use those")
    for runs in models:
        for path, run in zip(runs.files, runs.runs, strict=True):
            if run.get("interrupted") or run.get("complete") is False or run.get("stopped"):
                why = f" ({run['stopped']})" if run.get("stopped") else ""
                found.append(f"{path}: run {run['id']} of {runs.name} ended early{why}: the items it did not run "
                             "are absent")
        if runs.duplicates:
            found.append(f"{runs.name}: {runs.duplicates} item(s) given twice with the same verdict, counted once")
    return found


# --- per model ------------------------------------------------------------------------------------------------------

def _credited(item: ItemResult) -> float:
    """1(compiled and correct) x Performance-Score, 0 where not measured (as in the CUDABench-Score)."""
    return aggregates.cudabench_score([item]) or 0.0


def _performance(item: ItemResult) -> float | None:
    score = item["performance_score"]
    return float(score) if is_correct(item) and isinstance(score, (int, float)) else None


def rates(items: Sequence[ItemResult], measured: bool, seed: int, resamples: int) -> Rates:
    """Compile and correct rates of judged items with the correct rate's Wilson interval; where performance was
    measured, the CUDABench-Score and the mean Performance-Score (of correct, measured items) with bootstrap
    intervals over tasks; None ("not measured") otherwise."""
    n = len(items)
    compiled = sum(1 for i in items if i["compiled"])
    correct = sum(1 for i in items if is_correct(i))
    out: Rates = {
        "n": n, "n_tasks": len({_task(i) for i in items}), "compiled": compiled, "correct": correct,
        "compile_rate": _round(compiled / n) if n else None, "correct_rate": _round(correct / n) if n else None,
        "correct_ci95": _interval(stats.wilson_interval(correct, n)),
        "cudabench_score": None, "cudabench_score_ci95": None,
        "mean_performance_score": None, "mean_performance_score_ci95": None,
    }
    if measured and n:
        credited = _by_task(items, _credited)
        out["cudabench_score"] = _round(_mean([v for c in credited for v in c]))
        out["cudabench_score_ci95"] = _interval(stats.bootstrap_interval(credited, seed, resamples))
        performance = _by_task(items, _performance)
        out["mean_performance_score"] = _round(_mean([v for c in performance for v in c]))
        out["mean_performance_score_ci95"] = _interval(stats.bootstrap_interval(performance, seed, resamples))
    return out


def pass_at_k(items: Sequence[ItemResult], seed: int, resamples: int) -> PassAtK | None:
    """Unbiased pass@k (aggregates.pass_at_k) per problem (task, level), averaged over problems, for k = 1 up to the
    fewest samples of any problem, each with a bootstrap interval over tasks. None without items."""
    problems: dict[tuple[str, Any], list[ItemResult]] = defaultdict(list)
    for item in items:
        problems[(_task(item), item["level"])].append(item)
    if not problems:
        return None
    k_max = min(len(v) for v in problems.values())
    values: dict[str, float | None] = {}
    intervals: dict[str, CI95 | None] = {}
    for k in range(1, k_max + 1):
        clusters: dict[str, list[float]] = defaultdict(list)
        for (task, _level), samples in problems.items():
            clusters[task].append(aggregates.pass_at_k(len(samples), sum(1 for s in samples if is_correct(s)), k))
        values[str(k)] = _round(_mean([v for c in clusters.values() for v in c]))
        intervals[str(k)] = _interval(stats.bootstrap_interval(list(clusters.values()), seed, resamples))
    return {"k_max": k_max, "n_problems": len(problems), "values": values, "ci95": intervals}


def _group_order(key: str) -> Callable[[str], Any]:
    if key == "tier":
        return lambda name: (_TIER_ORDER.get(name, len(_TIER_ORDER)), name)
    if key == "level":
        return lambda name: (len(name), name)
    return lambda name: name


def usage(items: Iterable[ItemResult]) -> Usage:
    """Tokens and cost of every answer of the model (not only the common items): what the run cost."""
    tokens_in = tokens_out = 0
    cost: float | None = None
    for item in items:
        generation: Mapping[str, Any] = item["generation"] if isinstance(item["generation"], dict) else {}
        tokens_in += int(generation.get("tokens_in") or 0)
        tokens_out += int(generation.get("tokens_out") or 0)
        if isinstance(generation.get("cost_usd"), (int, float)):
            cost = (cost or 0.0) + float(generation["cost_usd"])
    return {"tokens_in": tokens_in, "tokens_out": tokens_out, "cost_usd": _round(cost)}


def _groups(compared: Sequence[ItemResult], key: str, measured: bool, seed: int, resamples: int) -> dict[str, Rates]:
    """Rates per value of `key` (level, domain, tier), in that key's order."""
    groups: dict[str, list[ItemResult]] = defaultdict(list)
    for item in compared:
        groups[str({"level": item["level"], "domain": item["domain"], "tier": item["tier"]}[key])].append(item)
    return {name: rates(groups[name], measured, seed, resamples) for name in sorted(groups, key=_group_order(key))}


def model_row(model: ModelRuns, common: set[str], seed: int, resamples: int) -> ModelRow:
    """The row without its rank (0) and better_than ([]): build_leaderboard sets them once all rows are ranked."""
    items = list(model.items.values())
    outcomes = Counter(status(i) for i in items)
    judged_items = model.judged_items()
    compared = [judged_items[k] for k in sorted(common)]
    measured = model.performance_measured
    all_judged = rates(list(judged_items.values()), False, seed, resamples)
    return {
        "model": model.name, "files": model.files, "run_ids": [r.get("id") for r in model.runs],
        "seeds": list(dict.fromkeys(r.get("seed") for r in model.runs)),
        "items": len(items), "judged": len(judged_items), "errors": outcomes["error"], "skipped": outcomes["skip"],
        "performance_measured": measured,
        **rates(compared, measured, seed, resamples),
        "pass_at_k": pass_at_k(compared, seed, resamples),
        **usage(items),
        "all_judged": {"n": all_judged["n"], "compiled": all_judged["compiled"], "correct": all_judged["correct"],
                       "compile_rate": all_judged["compile_rate"], "correct_rate": all_judged["correct_rate"],
                       "correct_ci95": all_judged["correct_ci95"]},
        "by_level": _groups(compared, "level", measured, seed, resamples),
        "by_domain": _groups(compared, "domain", measured, seed, resamples),
        "by_tier": _groups(compared, "tier", measured, seed, resamples),
        "rank": 0, "better_than": [],
    }


# --- pairs ----------------------------------------------------------------------------------------------------------

def paired_comparison(items_a: dict[str, ItemResult], items_b: dict[str, ItemResult],
                      seed: int = stats.BOOTSTRAP_SEED, resamples: int = stats.BOOTSTRAP_RESAMPLES) -> PairComparison:
    """A against B over the items both were judged on (by key): correct counts and rates, the difference A - B
    with a paired bootstrap interval over tasks, the discordant counts [A only, B only] and the exact McNemar
    p-value; where both have Performance-Scores, the same for the CUDABench-Score (`score`, bootstrap p-value)."""
    common = sorted(k for k in items_a if judged(items_a[k]) and judged(items_b.get(k)))
    a = [items_a[k] for k in common]
    b = [items_b[k] for k in common]
    correct_a, correct_b = sum(map(is_correct, a)), sum(map(is_correct, b))
    only_a = sum(1 for x, y in zip(a, b, strict=True) if is_correct(x) and not is_correct(y))
    only_b = sum(1 for x, y in zip(a, b, strict=True) if is_correct(y) and not is_correct(x))
    pairs = [_ItemPair(task=x["task"] or k, pair=(x, y)) for k, x, y in zip(common, a, b, strict=True)]

    def differences(value: Callable[[ItemResult], float]) -> list[list[float]]:
        return _by_task(pairs, lambda p: value(p["pair"][0]) - value(p["pair"][1]))

    n = len(common)
    result: PairComparison = {
        "common_items": n, "common_tasks": len({_task(x) for x in a}),
        "correct": [correct_a, correct_b],
        "correct_rate": [_round(correct_a / n) if n else None, _round(correct_b / n) if n else None],
        "difference": _round((correct_a - correct_b) / n) if n else None,
        "difference_ci95": _interval(stats.bootstrap_interval(differences(lambda i: float(is_correct(i))), seed,
                                                              resamples)),
        "discordant": [only_a, only_b],
        "p_value": stats.mcnemar_exact(only_a, only_b),
        "score": None,
    }
    if aggregates.performance_measured(a) and aggregates.performance_measured(b):
        means = stats.bootstrap_means(differences(_credited), seed, resamples)
        score_a, score_b = _mean([_credited(x) for x in a]), _mean([_credited(y) for y in b])
        result["score"] = {
            "a": _round(score_a), "b": _round(score_b),
            "difference": _round(score_a - score_b) if score_a is not None and score_b is not None else None,
            "difference_ci95": _interval(stats.percentile_interval(means)),
            "p_value": stats.bootstrap_p_value(means),
        }
    return result


def pairs(models: Sequence[ModelRuns], order: Sequence[str], seed: int, resamples: int) -> list[Pair]:
    """Every pair in leaderboard order (a ranked above b), Holm-adjusted over all pairs: correctness as one family,
    CUDABench-Score differences (where both were measured) as another."""
    by_name = {m.name: m for m in models}
    compared = [(name_a, name_b, paired_comparison(by_name[name_a].items, by_name[name_b].items, seed, resamples))
                for i, name_a in enumerate(order) for name_b in order[i + 1:]]
    found: list[Pair] = [{"a": name_a, "b": name_b, **comparison, "p_holm": adjusted,
                          "significant": adjusted <= stats.ALPHA}
                         for (name_a, name_b, comparison), adjusted
                         in zip(compared, stats.holm([c["p_value"] for _, _, c in compared]), strict=True)]
    scored = [(score, score["p_value"]) for p in found if (score := p["score"]) and score["p_value"] is not None]
    for (score, _), adjusted in zip(scored, stats.holm([p_value for _, p_value in scored]), strict=True):
        score["p_holm"] = adjusted
        score["significant"] = adjusted <= stats.ALPHA
    return found


# --- the item matrix ------------------------------------------------------------------------------------------------

def item_matrix(models: Sequence[ModelRuns], common: set[str]) -> Matrix:
    """Rows task x level x sample, a cell per model: status (pass, fail, skip, error; null where absent), the
    failed stage, the message's first line and the report file the item came from."""
    union: dict[str, ItemResult] = {}
    for model in models:
        for key, item in model.items.items():
            union.setdefault(key, item)
    rows: list[MatrixRow] = []
    for key in sorted(union, key=lambda k: _sort_key(union[k])):
        item = union[key]
        cells: dict[str, MatrixCell | None] = {}
        for model in models:
            own = model.items.get(key)
            cells[model.name] = None if own is None else {
                "status": status(own), "failed_stage": own["failed_stage"],
                "message": message_summary(own["message"]), "file": model.origin[key]}
        rows.append({"key": key, "task": item["task"], "level": item["level"], "sample": item["sample"],
                     "domain": item["domain"], "tier": item["tier"], "common": key in common, "cells": cells})
    return {"models": [m.name for m in models], "rows": rows}


# --- the whole board ------------------------------------------------------------------------------------------------

def build_leaderboard(reports: Sequence[tuple[str, Report]], seed: int = stats.BOOTSTRAP_SEED,
                      resamples: int = stats.BOOTSTRAP_RESAMPLES) -> tuple[Leaderboard, dict[str, ModelRuns]]:
    """The leaderboard document (schema LEADERBOARD_SCHEMA) of reports (path, report), and the models it was built
    from (their items carry the sources the HTML page shows)."""
    models = combine_by_model(reports)
    runs = list(models.values())
    common = common_keys(runs)
    rows = [model_row(m, common, seed, resamples) for m in runs]
    rows.sort(key=lambda r: (-(r["correct_rate"] or 0.0), -(r["cudabench_score"] or 0.0), r["model"]))
    order = [r["model"] for r in rows]
    found_pairs = pairs(runs, order, seed, resamples)
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
        row["better_than"] = [p["b"] for p in found_pairs if p["a"] == row["model"] and p["significant"]
                              and p["discordant"][0] > p["discordant"][1]]
    ordered = [models[name] for name in order]
    union = set().union(*(m.items for m in runs)) if runs else set()
    board: Leaderboard = {
        "schema": LEADERBOARD_SCHEMA,
        "sources": [{"file": path, "run_id": (report.get("run") or {}).get("id"),
                     "model": (report.get("run") or {}).get("model"), "seed": (report.get("run") or {}).get("seed"),
                     "items": len(report.get("items") or [])} for path, report in reports],
        "caveats": caveats(ordered, common),
        "common_items": len(common),
        "all_items": len(union),
        "left_out": left_out(ordered, common),
        "methods": {
            "correct_ci95": "Wilson score interval over the common items (95 %)",
            "bootstrap": {"unit": "task", "resamples": resamples, "seed": seed, "confidence": stats.CONFIDENCE,
                          "interval": "percentile",
                          "used_for": "pass@k, CUDABench-Score, mean Performance-Score, differences of pairs"},
            "pairs": "exact McNemar on correctness over the items both models were judged on (two-sided; it takes "
                     "items as independent, so read it beside the difference's paired bootstrap interval over "
                     "tasks); paired bootstrap over tasks for CUDABench-Score differences",
            "multiple_comparisons": "Holm over all pairs (correctness and scores each a family)",
            "alpha": stats.ALPHA,
        },
        "models": rows,
        "pairs": found_pairs,
        "matrix": item_matrix(ordered, common),
    }
    return board, {name: models[name] for name in order}


# --- text: terminal, markdown, CSV ------------------------------------------------------------------------------------

def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def pct_interval(value: Sequence[float] | None) -> str:
    return "" if not value else f"[{100 * value[0]:.1f}, {100 * value[1]:.1f}]"


def score_text(value: float | None, interval: Sequence[float] | None = None) -> str:
    if value is None:
        return "not measured"
    return f"{value:.3f}" + (f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "")


def p_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2g}" if value >= 0.001 else f"{value:.1e}"


def _k_values(row: ModelRow) -> tuple[str, str, str]:
    """pass@1, pass@k_max with its interval, and the column's label; "-" and "pass@k" with one sample."""
    pk = row["pass_at_k"]
    if pk is None:
        return pct(None), "-", "pass@k"
    k_max = pk["k_max"]
    at_k = f"{pct(pk['values'][str(k_max)])} {pct_interval(pk['ci95'][str(k_max)])}" if k_max > 1 else "-"
    return pct(pk["values"]["1"]), at_k, f"pass@{k_max}" if k_max > 1 else "pass@k"


def _cost(row: ModelRow) -> str:
    return "-" if row["cost_usd"] is None else f"${row['cost_usd']:.4f}"


def table_rows(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """The leaderboard table as header and cells (for the terminal and markdown)."""
    ranks = {r["model"]: r["rank"] for r in board["models"]}
    k_label = next((_k_values(r)[2] for r in board["models"] if r["pass_at_k"] and r["pass_at_k"]["k_max"] > 1),
                   "pass@k")
    several = k_label != "pass@k"  # with one sample per item pass@1 is the correct rate: no columns for it
    header = ["#", "model", "judged", "errors", "skips", "compiled", "correct [95% CI]",
              *(["pass@1", k_label] if several else []), "CUDABench-Score [95% CI]", "perf-score", "tokens", "cost",
              "better than"]
    cells = []
    for row in board["models"]:
        pass_1, pass_k, _ = _k_values(row)
        cells.append([
            str(row["rank"]), row["model"], f"{row['judged']}/{row['items']}", str(row["errors"]), str(row["skipped"]),
            pct(row["compile_rate"]), f"{pct(row['correct_rate'])} {pct_interval(row['correct_ci95'])}".strip(),
            *([pass_1, pass_k] if several else []), score_text(row["cudabench_score"], row["cudabench_score_ci95"]),
            score_text(row["mean_performance_score"]), str(row["tokens_in"] + row["tokens_out"]), _cost(row),
            " ".join(f"#{ranks[m]}" for m in row["better_than"]) or "-",
        ])
    return header, cells


def paper_rows(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """The CUDABench paper's shape: models x levels, each cell compiled / correct / CUDABench-Score."""
    levels = sorted({lv for r in board["models"] for lv in r["by_level"]}, key=lambda v: (len(v), v))
    header = ["model"] + [f"level {lv}: compiled / correct / score" for lv in levels]
    cells = []
    for row in board["models"]:
        line = [row["model"]]
        for lv in levels:
            g = row["by_level"].get(lv)
            line.append("-" if g is None else f"{pct(g['compile_rate'])} / {pct(g['correct_rate'])} / "
                                              f"{score_text(g['cudabench_score'])}")
        cells.append(line)
    return header, cells


def by_group(row: ModelRow, key: str) -> dict[str, Rates]:
    """The row's rates by `key`: level, domain or tier."""
    return {"level": row["by_level"], "domain": row["by_domain"], "tier": row["by_tier"]}[key]


def group_rows(board: Leaderboard, key: str) -> tuple[list[str], list[list[str]]]:
    """Correct rate with its interval per group (rows) and model (columns), n per cell."""
    names: list[str] = []
    for row in board["models"]:
        names += [n for n in by_group(row, key) if n not in names]
    names.sort(key=_group_order(key))
    header = [key] + [r["model"] for r in board["models"]]
    cells = []
    for name in names:
        line = [f"level {name}" if key == "level" else name]
        for row in board["models"]:
            g = by_group(row, key).get(name)
            line.append("-" if g is None else f"{pct(g['correct_rate'])} {pct_interval(g['correct_ci95'])} "
                                              f"n={g['n']}")
        cells.append(line)
    return header, cells


def pair_rows(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    header = ["A", "B", "common", "A only", "B only", "correct A-B [95% CI]", "McNemar p", "p (Holm)", "",
              "score A-B [95% CI]", "p (Holm)"]
    cells = []
    for p in board["pairs"]:
        ci = p["difference_ci95"]
        score = p["score"]
        cells.append([
            p["a"], p["b"], str(p["common_items"]), str(p["discordant"][0]), str(p["discordant"][1]),
            (f"{100 * p['difference']:+.1f}pp" + (f" [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]" if ci else ""))
            if p["difference"] is not None else "-",
            p_text(p["p_value"]), p_text(p["p_holm"]), "*" if p["significant"] else "",
            "not measured" if not score else f"{score['difference']:+.3f}" + (
                f" [{score['difference_ci95'][0]:+.3f}, {score['difference_ci95'][1]:+.3f}]"
                if score["difference_ci95"] else ""),
            "-" if not score or "p_holm" not in score else
            p_text(score["p_holm"]) + (" *" if score.get("significant") else ""),
        ])
    return header, cells


def text_table(header: list[str], cells: list[list[str]], numeric_from: int = 2) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *cells, strict=True)]

    def line(values: list[str]) -> str:
        return "  ".join(str(v).rjust(w) if i >= numeric_from else str(v).ljust(w)
                         for i, (v, w) in enumerate(zip(values, widths, strict=True))).rstrip()

    return [line(header)] + [line(c) for c in cells]


def left_out_lines(board: Leaderboard) -> list[str]:
    lines = [f"compared over {board['common_items']} common items (judged for every model) of {board['all_items']}"]
    for model, counts in board["left_out"].items():
        parts = [f"{count} {label}" for count, label in ((counts["judged"], "judged here but not by every model"),
                                                         (counts["skipped"], "skipped"), (counts["errors"], "errors"),
                                                         (counts["absent"], "absent")) if count]
        if parts:
            reasons = f" (e.g. {'; '.join(counts['reasons'])})" if counts["reasons"] else ""
            lines.append(f"  left out for {model}: {', '.join(parts)}{reasons}")
    return lines


def methods_line(board: Leaderboard) -> str:
    b = board["methods"]["bootstrap"]
    return (f"intervals 95 %: correct rate Wilson over items; pass@k, scores and differences bootstrap over tasks "
            f"({b['resamples']} resamples, seed {b['seed']}); pairs: exact McNemar, Holm-adjusted; * = significant "
            f"at {board['methods']['alpha']}")


def leaderboard_lines(board: Leaderboard) -> list[str]:
    """What `leaderboard` prints: caveats first, then the table, the paper's view, by domain and tier, the pairs."""
    lines = [f"leaderboard of {len(board['models'])} model(s) from {len(board['sources'])} report(s)"]
    if board["caveats"]:
        lines.append("caveats:")
        lines += [f"  ! {c}" for c in board["caveats"]]
    lines += left_out_lines(board) + [""]
    lines += text_table(*table_rows(board))
    lines += ["", "by level (the CUDABench paper's table):"] + text_table(*paper_rows(board), numeric_from=1)
    for key in ("domain", "tier"):
        lines += ["", f"correct rate by {key}:"] + text_table(*group_rows(board, key), numeric_from=1)
    if board["pairs"]:
        lines += ["", "pairs (over the items both were judged on):"] + text_table(*pair_rows(board))
    lines += ["", methods_line(board)]
    return lines


def markdown(board: Leaderboard) -> str:
    def table(header: list[str], cells: list[list[str]]) -> list[str]:
        def row(values: list[str]) -> str:
            return "| " + " | ".join(str(v).replace("|", "\\|") for v in values) + " |"

        return [row(header), "|" + "---|" * len(header)] + [row(c) for c in cells]

    out = ["# Leaderboard", ""]
    if board["caveats"]:
        out += ["**Caveats**", ""] + [f"- {c}" for c in board["caveats"]] + [""]
    out += left_out_lines(board)[:1] + [""] + table(*table_rows(board))
    out += ["", "## By level", ""] + table(*paper_rows(board))
    for key in ("domain", "tier"):
        out += ["", f"## Correct rate by {key}", ""] + table(*group_rows(board, key))
    if board["pairs"]:
        out += ["", "## Pairs", ""] + table(*pair_rows(board))
    out += ["", methods_line(board), ""]
    return "\n".join(out)


def cell_text(cell: MatrixCell | None) -> str:
    """A matrix cell as one word: pass, fail:<stage>, skip, error:<stage>; empty where absent."""
    if cell is None:
        return ""
    stage = cell["failed_stage"]
    return f"{cell['status']}:{stage}" if stage and cell["status"] in ("fail", "error") else cell["status"]


def matrix_csv(board: Leaderboard) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    models = board["matrix"]["models"]
    writer.writerow(["task", "level", "sample", "domain", "tier", "common", *models])
    for row in board["matrix"]["rows"]:
        writer.writerow([row["task"], row["level"], row["sample"], row["domain"], row["tier"],
                         "yes" if row["common"] else "no", *(cell_text(row["cells"][m]) for m in models)])
    return out.getvalue()


# --- command line ---------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 written, 2 for input that cannot make a leaderboard (unreadable, not a report, conflicts)."""
    parser = argparse.ArgumentParser(
        prog="python -m pytest_cudabench leaderboard",
        description="Compare models over JSON run reports: a row per model (reports of one model combine), rates "
                    "with 95% intervals, paired tests with Holm's correction, an item matrix.")
    parser.add_argument("reports", nargs="+", help="JSON run reports (any number, of any models)")
    parser.add_argument("--json", metavar="PATH", help=f"write the leaderboard as JSON ({LEADERBOARD_SCHEMA})")
    parser.add_argument("--html", metavar="PATH", help="write the self-contained HTML page")
    parser.add_argument("--markdown", metavar="PATH", help="write the tables as markdown")
    parser.add_argument("--csv", metavar="PATH", help="write the task x level x model matrix as CSV")
    parser.add_argument("--seed", type=int, default=stats.BOOTSTRAP_SEED,
                        help=f"seed of the bootstrap over tasks (default {stats.BOOTSTRAP_SEED}; recorded)")
    parser.add_argument("--resamples", type=int, default=stats.BOOTSTRAP_RESAMPLES,
                        help=f"bootstrap resamples (default {stats.BOOTSTRAP_RESAMPLES})")
    args = parser.parse_args(argv)
    if args.resamples < 100:
        parser.error("--resamples must be at least 100")
    try:
        reports = [(path, load_report(path)) for path in args.reports]
        board, models = build_leaderboard(reports, args.seed, args.resamples)
    except ValueError as exc:  # ReportFileError, MergeError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(leaderboard_lines(board)))
    if args.json:
        print(f"JSON: {atomic_write(Path(args.json), json.dumps(board, indent=1))}")
    if args.markdown:
        print(f"markdown: {atomic_write(Path(args.markdown), markdown(board))}")
    if args.csv:
        print(f"CSV: {atomic_write(Path(args.csv), matrix_csv(board))}")
    if args.html:
        # local import: leaderboard_html imports this module (a cycle at import time)
        from .leaderboard_html import render

        print(f"HTML: {atomic_write(Path(args.html), render(board, models))}")
    return 0
