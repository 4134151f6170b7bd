"""`python -m pytest_cudabench validate [PATH...]`: proves tasks, explaining every problem.

Per task: it loads; the reference gives outputs that vary with the data, react to every input, and that a constant,
zero or input-echo answer cannot match; scales span the benchmark's range; prompts follow the levels' rules; the
roofline formulas reproduce the author's hand count and the byte count agrees with the buffers; and the task's own
solution.cu passes the whole pipeline (compile with nvcc, run on the CPU runtime).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import Settings
from .errors import CudabenchError, StageFailure, StageSkip, TaskError
from .generation.models import ReferenceModel
from .generation.prompts import first_request
from .pipeline import Evaluation
from .tasks import compare, inputs
from .tasks.loader import Task, find_suite_root, find_task_dirs, load_task
from .tasks.table import bench_bytes, format_bytes

TOLERANCE_MARGIN = 0.5  # a solution using more of its tolerance than this on the CPU runtime is warned about
MIN_BENCH_BYTES = 512  # "about 1 KB" at the smallest scale
MAX_SMALLEST_BENCH_BYTES = 64 << 10
MIN_LARGEST_BENCH_BYTES = 256 << 20  # "about 1 GB" at the largest
MAX_BENCH_BYTES = 3 << 30
HARDWARE_WORDS = ("shared memory", "__shared__", "__syncthreads", "warp", "thread block", "threadidx", "blockidx",
                  "coalesc", "blockdim", "register")


@dataclass
class TaskReport:
    path: str
    task: Task | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_scales(task: Task, report: TaskReport) -> None:
    totals = bench_bytes(task)
    if totals != sorted(totals):
        report.errors.append(f"[sizes.bench] scales must grow: data sizes are {_sizes(totals)}")
    if totals[0] < MIN_BENCH_BYTES or totals[0] > MAX_SMALLEST_BENCH_BYTES:
        report.warnings.append(f"[sizes.bench] the smallest scale moves {format_bytes(totals[0])}; "
                               "aim for about 1 KB")
    if totals[-1] < MIN_LARGEST_BENCH_BYTES:
        report.errors.append(f"[sizes.bench] the largest scale moves only {format_bytes(totals[-1])}; "
                             "aim for about 1 GB")
    if totals[-1] > MAX_BENCH_BYTES:
        report.errors.append(f"[sizes.bench] the largest scale needs {format_bytes(totals[-1])}, more than a GPU "
                             "benchmark should allocate")
    for scale in task.sizes.bench:
        sizes = task.sizes.complete(scale)
        declared = task.roofline.dram_bytes.evaluate(sizes)
        counted = task.buffer_bytes(sizes)
        if declared > 0 and abs(declared - counted) / counted > 0.01:
            report.warnings.append(f"[roofline] bytes = {task.roofline.dram_bytes.text} gives "
                                   f"{format_bytes(declared)} at {scale}, the buffers hold {format_bytes(counted)}; "
                                   "explain the difference")
            break


def check_hand_counts(task: Task, report: TaskReport) -> None:
    """The roofline formulas must reproduce the FLOPs and bytes the author counted by hand."""
    roofline = task.roofline
    if not roofline.hand_counts:
        report.errors.append("[roofline] no hand_count: count the FLOPs and bytes of one small size by hand, "
                             "e.g. [[roofline.hand_count]] sizes = { n = 3 }, flops = 6, bytes = 36, with a comment "
                             "saying what you counted")
    for i, count in enumerate(roofline.hand_counts):
        sizes = task.sizes.complete(count.sizes)
        flops, dram = roofline.work(sizes)
        for key, formula, declared, counted in (("flops", roofline.flops, flops, count.flops),
                                                ("bytes", roofline.dram_bytes, dram, count.dram_bytes)):
            if not math.isclose(declared, counted, rel_tol=1e-9, abs_tol=1e-9):
                report.errors.append(f"[roofline.hand_count[{i}]] {key} = {formula.text} gives {declared:g} at "
                                     f"{count.sizes}, the hand count says {counted:g}; fix the formula or the count")


def check_prompts(task: Task, report: TaskReport) -> None:
    words3 = len(task.prompts[3].split())
    if words3 > 16:
        report.errors.append(f"[prompts] level3 is concept retrieval (the name only); it has {words3} words")
    level2 = task.prompts[2].lower()
    leaked = [w for w in HARDWARE_WORDS if w in level2]
    if leaked:
        report.errors.append(f"[prompts] level2 must not give hardware guidance; it mentions {', '.join(leaked)}")
    level1 = task.prompts[1].lower()
    if not any(w in level1 for w in HARDWARE_WORDS + ("thread", "block", "grid", "kernel")):
        report.warnings.append("[prompts] level1 should give CUDA guidance (thread mapping, memory hierarchy)")
    if len(level1.split()) <= len(level2.split()):
        report.warnings.append("[prompts] level1 should be more detailed than level2")


def check_sizes(task: Task, report: TaskReport) -> None:
    ragged = any(high % 32 for _low, high in task.sizes.test_ranges.values())
    if not ragged:
        report.warnings.append("[sizes.test] every range ends on a multiple of 32; ragged tails catch bugs")
    lows = {name: low for name, (low, _high) in task.sizes.test_ranges.items()}
    if not any(any(case.get(name) == low for name, low in lows.items()) for case in task.sizes.cases):
        report.warnings.append(f"[sizes.cases] no fixed case at the low end of a test range ({lows}); n = 1 and "
                               "sizes that do not fill a block catch bounds bugs")


def check_reference(task: Task, report: TaskReport, seed: int = 1234) -> None:
    """Outputs vary, react to every input, and a degenerate answer cannot pass."""
    sizes = max((task.sizes.complete(c) for c in task.sizes.cases), key=task.buffer_bytes,
                default=None) or task.sizes.complete({k: v[1] for k, v in task.sizes.test_ranges.items()})
    base = inputs.make_case(task, sizes, inputs.task_rng(task, seed, "validate-a"))
    other = inputs.make_case(task, sizes, inputs.task_rng(task, seed, "validate-b"))
    expected = inputs.expect(task, base)
    expected_other = inputs.expect(task, other)
    for arg in task.outputs:
        if np.array_equal(expected[arg.name], expected_other[arg.name]):
            report.errors.append(f"[reference] output `{arg.name}` is the same for two different inputs")
        values = expected[arg.name]
        if values.size > 1 and np.all(values == values.flat[0]):
            report.errors.append(f"[reference] output `{arg.name}` is constant ({values.flat[0]})")
    for arg in task.inputs:
        probe = inputs.Case(index=0, sizes=dict(sizes), arrays=dict(base.arrays), scalars=dict(base.scalars))
        probe.arrays[arg.name] = other.arrays[arg.name]
        try:
            changed = inputs.expect(task, probe)
        except TaskError:
            continue  # coupled inputs (e.g. CSR offsets and indices) cannot be swapped one at a time
        if all(np.array_equal(changed[o.name], expected[o.name]) for o in task.outputs):
            report.errors.append(f"[reference] changing input `{arg.name}` does not change any output")
    inputs.input_work(task, base)  # a task's work() must run on its inputs and give sane numbers
    context = {**inputs.reference_kwargs(task, base), **sizes}
    for label, fake in _degenerate_answers(task, base).items():
        if compare.compare_outputs(task, expected, fake, context) is None:
            report.errors.append(f"[reference] a {label} answer passes the comparison; make outputs vary more")


def _degenerate_answers(task: Task, case: inputs.Case) -> dict[str, dict[str, np.ndarray]]:
    answers: dict[str, dict[str, np.ndarray]] = {"zero": {}}
    for arg in task.outputs:
        answers["zero"][arg.name] = np.zeros_like(case.expected[arg.name])
    if all(case.expected[a.name].size > 1 for a in task.outputs):  # a one-value output is its own mean
        answers["constant"] = {}
        for arg in task.outputs:
            expected = case.expected[arg.name]
            finite = expected[np.isfinite(expected)] if arg.dtype.is_float else expected
            fill = np.mean(finite.astype(np.float64)) if finite.size else 0
            answers["constant"][arg.name] = np.full_like(expected, fill)
    echo: dict[str, np.ndarray] = {}
    for arg in task.outputs:
        source = next((i for i in task.inputs if i.role == "input" and case.arrays[i.name].shape ==
                       case.expected[arg.name].shape), None)
        if source is None:
            break
        echo[arg.name] = case.arrays[source.name].astype(arg.dtype.numpy)
    else:
        answers["input-echo"] = echo
    return answers


def check_solution(task: Task, report: TaskReport, cache_dir: Path, seed: int) -> None:
    settings = Settings(model="reference", seed=seed, cache_dir=str(cache_dir), runtime="cpu", rootdir=".")
    evaluation = Evaluation(task, 1, 0, settings)
    answer = ReferenceModel().generate(first_request(task, 1)).content
    try:
        evaluation.run(answer)
        cases = evaluation.result["stages"].get("execute", {}).get("cases") or []
        used = max((c["tolerance_used"] for c in cases if c.get("tolerance_used") is not None), default=None)
        if used is not None and used > TOLERANCE_MARGIN:
            report.warnings.append(
                f"[tolerance] solution.cu needs {used:.0%} of the tolerance on the CPU runtime; a GPU (fused "
                "multiply-adds, other summation orders) may need more: widen it, with the reason in a comment")
    except StageFailure as exc:
        report.errors.append(f"[solution.cu] fails stage '{exc.stage}': {exc.message}")
    except StageSkip as exc:
        report.errors.append(f"[solution.cu] cannot be proven here: {exc.reason}")


def validate_task(path: Path, *, run_solution: bool = True, cache_dir: Path = Path(".cudabench_cache"),
                  seed: int = 1234) -> TaskReport:
    report = TaskReport(path=str(path))
    try:
        task = load_task(path, find_suite_root(path))
    except TaskError as exc:
        report.errors.append(str(exc))
        return report
    report.task = task
    for check in (check_scales, check_hand_counts, check_prompts, check_sizes):
        check(task, report)
    try:
        check_reference(task, report, seed)
        if run_solution and not report.errors:
            check_solution(task, report, cache_dir, seed)
    except CudabenchError as exc:
        report.errors.append(str(exc))
    return report


def _sizes(values: list[int]) -> str:
    return ", ".join(format_bytes(v) for v in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_cudabench validate",
                                     description="Check tasks: format, reference, scales, prompts, solution.")
    parser.add_argument("paths", nargs="*", default=["task_suite"], help="task directories or suites")
    parser.add_argument("--no-run", action="store_true", help="skip compiling and running solution.cu")
    parser.add_argument("--cache-dir", default=".cudabench_cache")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only tasks with problems")
    args = parser.parse_args(argv)
    dirs = [d for p in args.paths for d in find_task_dirs(Path(p))]
    if not dirs:
        print(f"no task directories under {', '.join(args.paths)}", file=sys.stderr)
        return 2
    failed = 0
    for path in dirs:
        report = validate_task(path, run_solution=not args.no_run, cache_dir=Path(args.cache_dir), seed=args.seed)
        failed += not report.ok
        if report.ok and not report.warnings and args.quiet:
            continue
        status = "ok" if report.ok else "FAILED"
        print(f"{status:6} {path}")
        for line in report.errors:
            print(f"  error: {line}")
        for line in report.warnings:
            print(f"  warning: {line}")
    print(f"{len(dirs) - failed} of {len(dirs)} task(s) valid")
    return 1 if failed else 0
