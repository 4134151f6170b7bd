"""Aggregation over item records: rates, CUDABench-Score, pass@k and best-of-k per group, what refinement gained, and
the run's token and request usage per model.

Pure functions on item records (results.ItemResult, or any mapping with its keys); every result is JSON-serialisable
and typed in results.py (GroupStats, Aggregates, RefinementStats, ModelUsage).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from ..averages import geomean, mean
from ..results import Aggregates, BestOfK, GroupStats, ModelUsage, PassAtK, RefinementStats, ReportGroup

Item = Mapping[str, Any]  # an item record: results.ItemResult, or a hand-made one with the keys a function reads

# Only answers that were judged count in rates: a skip (unsupported here) and an error (the model API, the task or
# the harness broke, see results.ItemResult) say nothing about the answer. Both are counted apart.
NOT_JUDGED = ("skipped", "error")
PERFORMANCE_KEY = "performance_score"  # ours: analytic roofline
NCU_PERFORMANCE_KEY = "ncu_performance_score"  # CUDABench's: ncu counters (--cudabench-perf=ncu)
FAST_P = (0.0, 1.0, 1.5)


def judged_items(items: Iterable[Item]) -> list[Item]:
    return [it for it in items if it.get("outcome") not in NOT_JUDGED]


def credited(item: Item, key: str = PERFORMANCE_KEY) -> float:
    """1(compiled and functional) x Performance-Score, 0 when not measured."""
    ok = bool(item.get("compiled")) and item.get("correct") is True
    score = item.get(key)
    return float(score) if ok and score is not None else 0.0


def performance_measured(items: Iterable[Item]) -> bool:
    """Whether any item carries a Performance-Score, ours or CUDABench's (a set row on a GPU may have only the
    latter, where the work table does not cover its task)."""
    return any(it.get(PERFORMANCE_KEY) is not None or it.get(NCU_PERFORMANCE_KEY) is not None for it in items)


def cudabench_score(items: Iterable[Item], key: str = PERFORMANCE_KEY) -> float | None:
    """CUDABench-Score as a fraction (the paper prints it in %): mean over items of
    1(compiled and correct) x Performance-Score (`key`: ours or the ncu one), zeros included. Skipped items are left
    out. None ("not measured") when no item carries that score, e.g. on the CPU runtime; compile and correct
    rates stay computable then (see `aggregate`)."""
    judged = judged_items(items)
    if not judged or all(it.get(key) is None for it in judged):
        return None
    return sum(credited(it, key) for it in judged) / len(judged)


# ---------------------------------------------------------------- pass@k


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k), as the stable product
    1 - prod_{i=n-c+1}^{n} (1 - k / i). n samples, c of them passing."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def best_of_k(samples: Sequence[Item]) -> Item | None:
    """CUDABench's "Pass@3" choice among the given samples (pass the first k): a correct one is preferred, then the
    highest performance score (unmeasured counts as -inf), then a compiled one, then the earliest."""
    if not samples:
        return None

    def key(pair: tuple[int, Item]) -> tuple[bool, float, bool, int]:
        i, s = pair
        score = s.get("performance_score")
        return (s.get("correct") is True, -math.inf if score is None else float(score), bool(s.get("compiled")), -i)

    return max(enumerate(samples), key=key)[1]


def _pass_stats(judged: list[Item]) -> tuple[PassAtK | None, BestOfK | None]:
    """pass@k per stage and CUDABench best-of-k over problems = (task, level) with several samples."""
    problems: dict[tuple[Any, Any], list[Item]] = defaultdict(list)
    for it in judged:
        if it.get("sample") is not None:
            problems[(it.get("task"), it.get("level"))].append(it)
    if not problems:
        return None, None
    k_max = min(len(v) for v in problems.values())
    if k_max < 2:
        return None, None
    stages: dict[str, Callable[[Item], bool]] = {"compile": lambda it: bool(it.get("compiled")),
                                                 "correct": lambda it: it.get("correct") is True}
    per_stage: dict[str, dict[str, float]] = {}
    for stage, ok in stages.items():
        per_k = {}
        for k in range(1, k_max + 1):
            vals = [pass_at_k(len(v), sum(1 for it in v if ok(it)), k) for v in problems.values()]
            per_k[str(k)] = sum(vals) / len(vals)
        per_stage[stage] = per_k
    pass_k: PassAtK = {"n_problems": len(problems), "k_max": k_max, "compile": per_stage["compile"],
                       "correct": per_stage["correct"]}
    picks = (best_of_k(sorted(v, key=lambda it: it["sample"])[:k_max]) for v in problems.values())
    chosen = [c for c in picks if c is not None]  # every problem has samples: none is dropped
    best: BestOfK = {
        "k": k_max,
        "n_problems": len(chosen),
        "compile_rate": sum(1 for c in chosen if c.get("compiled")) / len(chosen),
        "correct_rate": sum(1 for c in chosen if c.get("correct") is True) / len(chosen),
        "cudabench_score": cudabench_score(chosen),
    }
    return pass_k, best


def fast_p_key(p: float) -> str:
    return f"fast_{p:g}"


def group_stats(items: Sequence[Item]) -> GroupStats:
    """One group's statistics; `aggregate` documents each key."""
    judged = judged_items(items)
    n = len(judged)
    correct = [it for it in judged if it.get("correct") is True]
    measured_correct = [float(it["performance_score"]) for it in correct if it.get("performance_score") is not None]
    any_measured = any(it.get("performance_score") is not None for it in judged)
    speedups = [float(it["speedup"]) for it in correct if it.get("speedup") is not None]
    any_speedup = any(it.get("speedup") is not None for it in judged)
    pass_k, best = _pass_stats(judged)
    out: dict[str, Any] = {
        "n_items": len(items),
        "n_skipped": sum(1 for it in items if it.get("outcome") == "skipped"),
        "n_errors": sum(1 for it in items if it.get("outcome") == "error"),
        "n_judged": n,
        "n_compiled": sum(1 for it in judged if it.get("compiled")),
        "n_correct": len(correct),
        "compile_rate": (sum(1 for it in judged if it.get("compiled")) / n) if n else None,
        "correct_rate": (len(correct) / n) if n else None,
        "n_measured": len(measured_correct),
        "mean_performance_score_correct": mean(measured_correct),
        "mean_performance_score_all": (sum(credited(it) for it in judged) / n) if n and any_measured else None,
        "cudabench_score": cudabench_score(judged),
        "cudabench_score_ncu": cudabench_score(judged, NCU_PERFORMANCE_KEY),
        "mean_ncu_performance_score_correct": mean(
            [float(it[NCU_PERFORMANCE_KEY]) for it in correct if it.get(NCU_PERFORMANCE_KEY) is not None]),
        "speedup": geomean(speedups),
    }
    for p in FAST_P:
        hits = sum(1 for it in correct if it.get("speedup") is not None and it["speedup"] > p)
        out[fast_p_key(p)] = (hits / n) if n and any_speedup else None
    out["pass_at_k"] = pass_k
    out["best_of_k"] = best
    out["mean_performance_score"] = out["mean_performance_score_correct"]
    return cast(GroupStats, out)  # fast_p keys are computed: GroupStats names each


def aggregate(items: Sequence[Item], group_by: str | None = None) -> dict[str, GroupStats]:
    """Summary statistics per group of judged answers; plain builtins only.

    `items`: dicts with keys task, domain, tier, level, sample, outcome ("passed"|"failed"|"skipped"|"error"),
    compiled (bool), correct (bool|None; None = not judged, counted as not correct), performance_score
    (float|None), speedup (float|None; reference time / our time).
    `group_by`: an item key ("level", "domain", "tier", ...) or None for one group named "all".
    Returns {str(group value): stats}, sorted by key (items lacking the key go to "None"). Stats keys:
      n_items            all items in the group, skipped included
      n_skipped          outcome == "skipped" (e.g. unsupported on the CPU runtime); left out of everything below
      n_errors           outcome == "error" (model API, task or harness broke, not the answer); left out likewise
      n_judged, n_compiled, n_correct
      compile_rate       n_compiled / n_judged (None when nothing judged)
      correct_rate       n_correct / n_judged
      n_measured         correct items with a performance score
      mean_performance_score_correct  mean score over correct, measured items (None when none)
      mean_performance_score_all      mean over judged items, zero for incorrect or unmeasured ones (None when no
                         item was measured); equals cudabench_score unless a failed item carries a score
      cudabench_score    CUDABench-Score as a fraction (None = not measured), on our roofline Performance-Score
      cudabench_score_ncu  the same on CUDABench's own ncu Performance-Score (--cudabench-perf=ncu; else None)
      mean_ncu_performance_score_correct  mean ncu score over correct, profiled items (None when none)
      speedup            geometric mean speedup over correct items with a speedup (None when none)
      fast_0, fast_1, fast_1.5   KernelBench fast_p: fraction of judged items that are correct and faster than
                         p x the reference (speedup > p); None when no speedup was measured
      pass_at_k          None, or when every (task, level) has >= 2 samples: {"n_problems", "k_max",
                         "compile": {"1": .., ..., str(k_max): ..}, "correct": {...}}: unbiased pass@k averaged
                         over problems; k_max = fewest samples of any problem
      best_of_k          None, or CUDABench's "Pass@k" over the first k_max samples (by `sample`) of each problem:
                         {"k", "n_problems", "compile_rate", "correct_rate", "cudabench_score"}
      mean_performance_score  = mean_performance_score_correct: the figure people read first (both other
                         definitions stay beside it)
    Every item of a rate counts once, so with several samples per problem the plain rates are expected pass@1.
    """
    if group_by is None:
        return {"all": group_stats(list(items))}  # also for no items at all
    groups: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        groups[str(it.get(group_by))].append(it)
    return {key: group_stats(groups[key]) for key in sorted(groups)}


# ---------------------------------------------------------------- refinement


def refinement_stats(items: Sequence[Item]) -> RefinementStats | None:
    """What refinement gained over a group: items refined (rounds ran) and improved (a later round kept), the
    geometric means of the gain (first answer's time / kept one's) and of the speedups before and after, the mean
    Performance-Score gain, candidates asked and wrong ones (never kept). None when no item was refined or tried."""
    records = [item["refinement"] for item in items if isinstance(item.get("refinement"), dict)]
    if not records:
        return None
    refined = [r for r in records if r.get("status") in ("done", "stopped")]
    score_gains = [r["final_performance_score"] - r["initial_performance_score"] for r in refined
                   if r.get("final_performance_score") is not None and r.get("initial_performance_score") is not None]
    return {
        "n_refined": len(refined), "n_improved": sum(1 for r in refined if (r.get("kept_round") or 0) > 0),
        "n_not_run": sum(1 for r in records if r.get("status") == "not-run"),
        "gain": geomean(r.get("gain") for r in refined),
        "initial_speedup": geomean(r.get("initial_speedup") for r in refined),
        "final_speedup": geomean(r.get("final_speedup") for r in refined),
        "mean_score_gain": mean(score_gains),
        "candidates": sum(len(rnd.get("candidates") or []) for r in refined for rnd in (r.get("rounds") or [])[1:]),
        "wrong_candidates": sum(r.get("wrong_candidates") or 0 for r in refined),
    }


_TIER_ORDER = {"easy": 0, "medium": 1, "hard": 2}


def aggregates(items: Sequence[Item]) -> Aggregates:
    """The report's `aggregates`: `aggregate` over all items and grouped by level, domain and tier (tiers in their
    own order, easy to hard), each group with its refinement_stats."""
    def with_refinement(stats: GroupStats, members: Sequence[Item]) -> ReportGroup:
        return cast(ReportGroup, {**stats, "refinement": refinement_stats(members)})

    by: dict[str, dict[str, ReportGroup]] = {}
    for key in ("level", "domain", "tier"):
        groups = aggregate(items, key)
        members: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            members[str(item.get(key))].append(item)
        order = (lambda name: (_TIER_ORDER.get(name, len(_TIER_ORDER)), name)) if key == "tier" else None
        by[key] = {name: with_refinement(groups[name], members[name]) for name in sorted(groups, key=order)}
    return {"overall": with_refinement(aggregate(items)["all"], items), "by_level": by["level"],
            "by_domain": by["domain"], "by_tier": by["tier"]}


# ---------------------------------------------------------------- usage


def _item_generations(item: Item) -> list[Mapping[str, Any]]:
    """The answers an item cost: its "generation", or with refinement every round's candidates (the first answer
    is round 0; the item's own "generation" is then the kept one's, already among them)."""
    rounds = (item.get("refinement") or {}).get("rounds") or []
    found = [c["generation"] for r in rounds for c in r.get("candidates") or [] if isinstance(c.get("generation"), dict)]
    generation = item.get("generation")
    return found or ([generation] if isinstance(generation, dict) else [])


REQUEST_STATS = ("http_requests", "rate_limited", "retried_errors", "malformed_200")


def usage_totals(items: Sequence[Item], prices: dict[str, float | None] | None = None) -> dict[str, ModelUsage]:
    """Per model, sums of the items' "generation" fields (and their refinement candidates'): items, requests
    (answers not from cache), cached, tokens in/out, latency and cost. `new_*` count only the answers generated in
    this run (what was spent now). Cost is None for a model without prices; `prices` (USD per million tokens in and
    out, those the costs were computed with) is recorded as given.

    What this run's requests took, retries included, over answers and failed generations alike: http_requests,
    rate_limited (429), retried_errors (5xx, timeouts, connection errors, malformed 200 bodies), malformed_200
    (usually billed: not in the cost), wait_s (waiting before retries), total_latency_s; failed: generations that
    failed."""
    totals: dict[str, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        generations = _item_generations(item)
        failure = (item.get("stages") or {}).get("generate") or {}
        failed_stats = failure.get("requests") if failure.get("status") == "error" else None
        if not generations and not failed_stats:
            continue
        name = str(item.get("model") or (generations[0].get("model") if generations else None) or "unknown")
        t = totals.setdefault(name, {"items": 0, "requests": 0, "cached": 0, "tokens_in": 0, "tokens_out": 0,
                                     "latency_s": 0.0, "cost_usd": None, "new_tokens_in": 0, "new_tokens_out": 0,
                                     "new_cost_usd": None, "prices": prices, "failed": 0,
                                     **{key: 0 for key in REQUEST_STATS}, "wait_s": 0.0, "total_latency_s": 0.0})
        if failed_stats:
            t["failed"] += 1
            _add_request_stats(t, failed_stats)
        if not generations:
            continue
        t["items"] += 1
        for generation in generations:
            cached = bool(generation.get("cached"))
            t["cached" if cached else "requests"] += 1
            for key in ("tokens_in", "tokens_out"):
                value = generation.get(key)
                if isinstance(value, (int, float)):
                    t[key] += int(value)
                    if not cached:
                        t[f"new_{key}"] += int(value)
            if isinstance(generation.get("latency_s"), (int, float)):
                t["latency_s"] = round(t["latency_s"] + generation["latency_s"], 6)
            if not cached:
                _add_request_stats(t, generation)
            cost = generation.get("cost_usd")
            if isinstance(cost, (int, float)):
                t["cost_usd"] = round((t["cost_usd"] or 0.0) + cost, 8)
                if not cached:
                    t["new_cost_usd"] = round((t["new_cost_usd"] or 0.0) + cost, 8)
    return cast(dict[str, ModelUsage], totals)  # each built with every ModelUsage key above


def _add_request_stats(totals: dict[str, Any], stats: Mapping[str, Any]) -> None:
    for key in REQUEST_STATS:
        if isinstance(stats.get(key), int):
            totals[key] += stats[key]
    for key in ("wait_s", "total_latency_s"):
        if isinstance(stats.get(key), (int, float)):
            totals[key] = round(totals[key] + stats[key], 6)
