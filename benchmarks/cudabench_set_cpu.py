"""CUDABench-Set reference programs on the CPU runtime: how many of the set's tasks run here.

For each task of the set (a CUDABench-Set .jsonl, read from the path given; nothing of it is copied anywhere but a
temporary directory), its smallest-scale row is run as CUDABench's evaluator does: gen.py with the work dir as cwd
(writes data/), bench.cu built with build_cpu_program (g++ against the shim, an executable), ./kernel with a 60 s
limit and exit code 0 required, then compare.py, whose stdout must contain T and no F. Each task is counted as
pass, fail (with its stage and reason) or unsupported (the feature the CPU runtime refuses), and the failures are
grouped by reason at the end.

    python benchmarks/cudabench_set_cpu.py PATH/CUDABench-Set.jsonl [--jobs 2] [--tasks NAME ...] [--json OUT]
        [--keep DIR]
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pytest_cudabench.execution.cpu_runtime import (  # noqa: E402
    CpuBuildError,
    CpuRuntimeUnsupported,
    build_cpu_program,
)

RUN_LIMIT_S = 60.0  # CUDABench's own limit for ./kernel
GEN_LIMIT_S = 600.0


def row_size(row: dict) -> int:
    """Elements over the row's inputs and outputs (its scale)."""
    total = 0
    for spec in row.get("inputs", []) + row.get("outputs", []):
        try:
            shape = ast.literal_eval(spec["shape"])
        except (ValueError, SyntaxError):
            continue
        shape = shape if isinstance(shape, tuple) else (shape,)
        total += math.prod(int(d) for d in shape)
    return total


def smallest_rows(path: Path) -> list[dict]:
    """One row per task: the one with the fewest elements, in the order the tasks first appear."""
    best: dict[str, dict] = {}
    with path.open() as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            name = row["task_name"]
            if name not in best or row_size(row) < row_size(best[name]):
                best[name] = row
    return list(best.values())


def _tail(text: str, n: int = 300) -> str:
    text = " ".join(text.split())
    return text[-n:]


def _last_line(text: str) -> str:
    """The last non-empty line (a Python traceback's exception)."""
    return next((ln.strip() for ln in reversed(text.splitlines()) if ln.strip()), "")[:300]


def judge(row: dict, workdir: Path) -> dict:
    """Run one row in ``workdir``; a record with task, verdict (pass/fail/unsupported), stage, reason, seconds."""
    rec = {"task": row["task_name"], "id": row["id"], "elements": row_size(row)}
    t0 = time.monotonic()

    def done(verdict: str, stage: str, reason: str = "") -> dict:
        rec.update(verdict=verdict, stage=stage, reason=reason, seconds=round(time.monotonic() - t0, 2))
        return rec

    (workdir / "data").mkdir(parents=True, exist_ok=True)
    for name in ("gen.py", "compare.py", "bench.cu"):
        (workdir / name).write_text(row[name])
    try:
        gen = subprocess.run([sys.executable, "gen.py"], cwd=workdir, capture_output=True, text=True,
                             timeout=GEN_LIMIT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return done("fail", "gen", f"gen.py ran past {GEN_LIMIT_S:g} s")
    if gen.returncode != 0:
        return done("fail", "gen", f"gen.py exit {gen.returncode}: {_last_line(gen.stderr)}")
    try:
        build_cpu_program(row["bench.cu"], workdir / "kernel")
    except CpuRuntimeUnsupported as exc:
        return done("unsupported", "build", exc.feature)
    except CpuBuildError as exc:
        return done("fail", "build", str(exc))
    t_run = time.monotonic()
    try:
        run = subprocess.run(["./kernel"], cwd=workdir, capture_output=True, text=True, timeout=RUN_LIMIT_S,
                             stdin=subprocess.DEVNULL, errors="replace")
    except subprocess.TimeoutExpired:
        return done("fail", "run", f"./kernel ran past {RUN_LIMIT_S:g} s")
    rec["run_seconds"] = round(time.monotonic() - t_run, 2)
    if run.returncode != 0:
        return done("fail", "run", f"exit {run.returncode}: {_tail(run.stdout + run.stderr)}")
    try:
        cmp = subprocess.run([sys.executable, "compare.py"], cwd=workdir, capture_output=True, text=True,
                             timeout=GEN_LIMIT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return done("fail", "compare", "compare.py timed out")
    if "F" in cmp.stdout or "T" not in cmp.stdout or cmp.returncode != 0:
        return done("fail", "compare", f"compare printed {_tail(cmp.stdout, 120)!r} {_last_line(cmp.stderr)}")
    return done("pass", "compare")


def failure_kind(rec: dict) -> str:
    """A short class of a failure's reason, for grouping."""
    reason = rec["reason"]
    if rec["stage"] == "run":
        return "ran past the limit (too slow for the CPU runtime)" if "ran past" in reason else reason.split(":")[0]
    if rec["stage"] == "compare":
        return "wrong output"
    return reason[:100]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path, help="a CUDABench-Set .jsonl")
    ap.add_argument("--jobs", type=int, default=2, help="tasks run side by side (default 2)")
    ap.add_argument("--tasks", nargs="*", help="only these task names")
    ap.add_argument("--json", type=Path, help="write the per-task records here")
    ap.add_argument("--keep", type=Path, help="keep each task's work dir under this directory")
    args = ap.parse_args(argv)

    rows = smallest_rows(args.path)
    if args.tasks:
        rows = [r for r in rows if r["task_name"] in set(args.tasks)]

    def one(row: dict) -> dict:
        if args.keep:
            wd = args.keep / row["task_name"]
            shutil.rmtree(wd, ignore_errors=True)
            rec = judge(row, wd)
        else:
            with tempfile.TemporaryDirectory(prefix="cudabench-set-") as tmp:
                rec = judge(row, Path(tmp))
        print(f"{rec['verdict']:11s} {rec['task']:40s} {rec['seconds']:7.1f}s  {rec['stage']}: {rec['reason'][:160]}",
              flush=True)
        return rec

    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        records = list(pool.map(one, rows))
    counts = collections.Counter(r["verdict"] for r in records)
    print(f"\n{len(records)} tasks: {counts['pass']} pass, {counts['fail']} fail, {counts['unsupported']} unsupported")
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for r in records:
        if r["verdict"] == "unsupported":
            groups[f"unsupported: {r['reason']}"].append(r["task"])
        elif r["verdict"] == "fail":
            groups[f"fail at {r['stage']}: {failure_kind(r)}"].append(r["task"])
    for key, tasks in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(tasks):3d}  {key}: {', '.join(sorted(tasks))}")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
