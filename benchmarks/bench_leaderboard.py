"""Leaderboard speed: building the board (rates, cluster bootstraps over tasks, every pair) and rendering its page.

Synthetic reports of M models over T tasks x 3 levels (a distinct answer per item, so the page highlights up to
its limit and no cache helps), half of them passed with a Performance-Score so every bootstrap runs; timed
end to end as `leaderboard` would: build_leaderboard, then the HTML page.

Targets for 10 models x 150 tasks (4500 items, 45 pairs): build < 5 s, page < 5 s. Exits 1 if a target is missed.

    python benchmarks/bench_leaderboard.py [--models 10] [--tasks 150]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

from pytest_cudabench.reporting.leaderboard import build_leaderboard
from pytest_cudabench.reporting.leaderboard_html import render
from pytest_cudabench.reporting.report import build_report

TARGETS_S = {"build": 5.0, "page": 5.0}


def item(model: str, task: str, level: int, passed: bool, rng: random.Random) -> dict[str, Any]:
    source = f"// {model} {task} level {level}\n" + "__global__ void k(float* x) { x[threadIdx.x] = 1.0f; }\n" * 30
    return {
        "nodeid": f"task_suite/{task}::level{level}[sample0]", "task": task, "title": task, "level": level,
        "sample": 0, "domain": task.split("/")[0], "tier": "easy", "model": model,
        "outcome": "passed" if passed else "failed", "failed_stage": None if passed else "execute",
        "message": None if passed else "wrong result in case 2 (n=4099): y[17] = 3.5, expected 2.5",
        "compiled": True, "correct": passed, "performance_score": rng.random() if passed else None,
        "source": source, "generation": {"tokens_in": 900, "tokens_out": 400, "cost_usd": 0.002},
    }


def reports(models: int, tasks: int) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(1)
    names = [f"domain{i % 15}/task{i}" for i in range(tasks)]
    found = []
    for m in range(models):
        skill = 0.3 + 0.5 * m / max(1, models - 1)
        items = [item(f"model-{m}", task, level, rng.random() < skill, rng) for task in names for level in (1, 2, 3)]
        run = {"id": f"run-{m}", "model": f"model-{m}", "seed": 1, "versions": {"pytest_cudabench": "0"}}
        found.append((f"model-{m}.json", build_report(run, items, [])))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=150)
    args = parser.parse_args()
    given = reports(args.models, args.tasks)
    start = time.perf_counter()
    board, models = build_leaderboard(given)
    built = time.perf_counter() - start
    start = time.perf_counter()
    page = render(board, models)
    rendered = time.perf_counter() - start
    print(f"{args.models} models x {args.tasks} tasks x 3 levels ({len(board['pairs'])} pairs): build {built:.2f} s "
          f"(target < {TARGETS_S['build']} s), page {rendered:.2f} s (target < {TARGETS_S['page']} s), "
          f"{len(page) / 1e6:.1f} MB")
    missed = (built > TARGETS_S["build"]) or (rendered > TARGETS_S["page"])
    if missed:
        print("target missed", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
