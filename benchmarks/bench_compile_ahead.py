"""Compile-ahead: one worker over the same fresh items, with and without `--cudabench-compile-ahead`.

Each repetition runs pytest twice on the same items (the reference model, level 1 of 15 small tasks, so 15 distinct
answers and 15 fresh nvcc builds, plus the CPU runtime's g++ builds), once with compile-ahead off (`=0`) and once at
its default, each with a fresh cache directory of its own, back to back (the order alternates between
repetitions, so a load that changes during a repetition favours neither). Prints the wall times, their ratio
(with / without) and, from each report's stage durations, the share of the run the items spent executing and timing
(on a GPU: the GPU's busy fraction).

Target on the CPU runtime: with compile-ahead at most 0.85x the time without. Exits 1 if the median ratio misses it.

    python benchmarks/bench_compile_ahead.py [--reps 1] [--runtime cpu|gpu] [--xdist] [--tasks a/b,c/d]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TASKS = ("basics/vector_add", "basics/reverse", "basics/matrix_copy", "ai/relu", "ai/sigmoid", "ai/silu", "ai/gelu",
         "linalg/axpy", "linalg/sdot", "linalg/transpose", "reduction/sum", "analytics/histogram", "bits/popcount",
         "vision/rgb_to_gray", "signal/decimate")
TARGET = 0.85


def run_once(workdir: Path, label: str, compile_ahead: str, args: argparse.Namespace) -> dict:
    """One pytest run in `workdir` with a fresh cache; its wall time and its report's stage durations."""
    cache, reports = workdir / f"cache-{label}", workdir / f"reports-{label}"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(reports, ignore_errors=True)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cudabench-model=reference",
               "--cudabench-seed=1", "--cudabench-levels=1", f"--cudabench-runtime={args.runtime}",
               f"--cudabench-cache-dir={cache}", f"--cudabench-report-dir={reports}",
               *([f"--cudabench-compile-ahead={compile_ahead}"] if compile_ahead else []),  # "": the default
               *(["-n", "1"] if args.xdist else ["-p", "no:xdist"]),
               *(f"task_suite/{task}" for task in args.tasks)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    report_files = sorted(reports.glob("*.json"))
    if proc.returncode not in (0, 1) or not report_files:
        sys.exit(f"{label}: pytest failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    report = json.loads(report_files[0].read_text())
    busy = sum(item["stages"].get(stage, {}).get("duration_s") or 0.0
               for item in report["items"] for stage in ("execute", "time"))
    compile_s = sum(item["stages"].get("compile", {}).get("duration_s") or 0.0 for item in report["items"])
    verdicts = {item["nodeid"]: (item["outcome"], item["failed_stage"]) for item in report["items"]}
    return {"wall_s": wall, "run_s": report["run"]["duration_s"], "busy_s": busy, "compile_s": compile_s,
            "verdicts": verdicts, "runtimes": {item.get("runtime") for item in report["items"]}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--runtime", default="cpu", choices=("cpu", "gpu", "auto"))
    parser.add_argument("--xdist", action="store_true", help="run the items on one xdist worker (-n 1)")
    parser.add_argument("--compile-ahead", default="", help="the value of the 'with' run (default: the default)")
    parser.add_argument("--tasks", type=lambda text: tuple(text.split(",")), default=TASKS)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cudabench-bench-ahead-"))
    try:
        suite = workdir / "task_suite"
        suite.mkdir()
        shutil.copy(REPO / "task_suite" / "README.md", suite / "README.md")
        for task in args.tasks:
            shutil.copytree(REPO / "task_suite" / task, suite / task)
        with_value = args.compile_ahead or "auto"
        print(f"{len(args.tasks)} items (level 1, reference model), runtime {args.runtime}, one worker "
              f"({'xdist -n 1' if args.xdist else 'no xdist'}), {os.cpu_count()} CPUs; compile-ahead {with_value} "
              "vs 0, fresh caches")
        ratios = []
        for rep in range(args.reps):
            order = [("without", "0"), ("with", args.compile_ahead)]
            if rep % 2:
                order.reverse()
            runs = {label: run_once(workdir, label, value, args) for label, value in order}
            if runs["with"]["verdicts"] != runs["without"]["verdicts"]:
                print("verdicts differ with and without compile-ahead:", runs["with"]["verdicts"],
                      runs["without"]["verdicts"])
                return 1
            ratio = runs["with"]["wall_s"] / runs["without"]["wall_s"]
            ratios.append(ratio)
            for label in ("without", "with"):
                r = runs[label]
                kind = "GPU busy" if "gpu" in r["runtimes"] else "execute+time share"
                print(f"rep {rep + 1} {label:>7}: {r['wall_s']:6.1f} s wall (run {r['run_s']:.1f} s), compile stages "
                      f"{r['compile_s']:5.1f} s, {kind} {r['busy_s'] / r['run_s']:.0%}")
            print(f"rep {rep + 1} ratio with/without: {ratio:.2f}")
        median = statistics.median(ratios)
        print(f"ratio with/without compile-ahead: {', '.join(f'{r:.2f}' for r in ratios)} (median {median:.2f}; "
              f"target <= {TARGET})")
        return 0 if median <= TARGET else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
