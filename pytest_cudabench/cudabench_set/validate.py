"""`python -m pytest_cudabench validate-set PATH`: checks the rows of a CUDABench-Set file themselves.

Per row, first what gen.py's published data (paper seeds) shows, without running bench.cu:
- compare.py rejects an all-zero output, a constant output (the reference's mean) and a perturbed one (the
  reference with 1% of its values, at least one, moved well beyond the tolerance);
- gen.py's reference files have the sizes the row's spec gives its outputs, and none is constant (a degenerate
  output hides wrong answers).
Then, with its own bench.cu built and run as an answer would be (same build, sandbox and judges):
- reference: bench.cu passes its own compare.py on the published data and on data of another seed (run seeds; a
  reference that only passes the published data is fragile: races, tie orders);
- thread order (CPU runtime): on the published data it passes again with its blocks' threads in another order and
  shared-memory race detection on (orders.py);
- our check agrees with compare.py on the reference's outputs;
- the reference reacts to its inputs: its outputs on the two seeds' inputs differ (when those inputs do).
A row too large for the CPU runtime, one it cannot build, or a bench.cu past the CPU runtime's limit gets the data
checks only (the reason is shown); a row whose gen.py cannot run here is skipped with the reason. Exit code 1 when
any row has a defect.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import traceback
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from ..errors import CudabenchError, RowDataTimeout, StageFailure, StageSkip
from . import data as set_data
from . import judge, orders, program
from .rows import Row, load_rows

OTHER_SEED = 20260301
PERTURBED_SHARE = 0.01
CHECKS = ("ref_paper", "ref_run", "ref_order", "judges_agree", "rejects_zero", "rejects_constant", "rejects_perturbed",
          "reacts", "varied_output")


def _fake_outputs(row: Row, rowdata: set_data.RowData, kind: str, parent: Path) -> Path | None:
    """A directory whose data/ holds outputs of `kind` (zero, constant, perturbed) in each output's dtype and
    shape; None when an output has no usable reference to build from."""
    out = Path(tempfile.mkdtemp(prefix=f"cudabench-{kind}-", dir=parent))
    (out / "data").mkdir()
    atol = judge.compare_tolerance(row.compare_py)
    for t in row.outputs:
        count = int(np.prod(t.shape))
        ref_path = rowdata.reference_path(t.name)
        ref = np.fromfile(ref_path, dtype=t.dtype) if ref_path is not None else None
        if kind != "zero" and (ref is None or ref.size != count):
            shutil.rmtree(out)
            return None
        if kind == "zero":
            values = np.zeros(count, dtype=t.dtype)
        elif ref is None:
            raise AssertionError("unreachable: the reference was checked above")
        elif kind == "constant":
            values = np.full(count, np.asarray(np.nanmean(ref.astype(np.float64))).astype(t.dtype))
        else:
            values = ref.copy()
            rng = np.random.default_rng(0)
            where = rng.choice(count, size=max(1, int(count * PERTURBED_SHARE)), replace=False)
            if t.dtype.startswith("float"):
                scale = np.nanmax(np.abs(ref.astype(np.float64))) if count else 1.0
                values[where] = (values[where].astype(np.float64) + 100 * atol + 0.5 * (scale or 1.0)).astype(t.dtype)
            else:
                values[where] = values[where] + np.ones(1, dtype=t.dtype)
        values.tofile(out / "data" / f"{t.name}.bin")
    return out


def _new_record(row: Row) -> dict:
    return {"row": row.id, "task": row.task, "scale": row.scale, "line": row.line, **{c: None for c in CHECKS},
            "defects": [], "skipped": None, "program_skipped": None, "thread_order": None, "notes": []}


def validate_row(row: Row, runtime: str, cache_dir: Path, arch: str, timeout_s: float | None = None,
                 gen_timeout_s: float = set_data.GEN_TIMEOUT_S) -> dict:
    """{"row", "task", "scale", checks: True/False/None (not applicable or not run), "defects": [...], "skipped":
    reason (no data to check), "program_skipped": reason (data checks only), "thread_order": the order run}."""
    from ..execution.supervisor import child_environment

    record = _new_record(row)
    defects = record["defects"]
    if not row.outputs:
        defects.append("declares no outputs (compare.py reads files the spec does not name)")
    work = Path(tempfile.mkdtemp(prefix="cudabench-validate-"))
    env = child_environment(work)
    try:
        paper = set_data.generate(row, cache_dir, "paper", 0, env=env, timeout_s=gen_timeout_s)
        _data_checks(row, paper, record, env, work)
        try:
            program.check_fits(row, runtime)
            library, entry, _ = program.build(row.bench_cu, runtime, cache_dir, arch)
        except StageSkip as exc:
            record["program_skipped"] = exc.reason
            return record
        _program_checks(row, paper, library, entry, runtime, cache_dir, timeout_s or program.PROGRAM_TIMEOUT_S[runtime],
                        gen_timeout_s, record, env, work)
    except RowDataTimeout as exc:
        record["skipped"] = f"{exc} (raise --gen-timeout)"
    except StageSkip as exc:
        record["skipped"] = exc.reason
    except StageFailure as exc:
        defects.append(f"bench.cu: [{exc.stage}] {exc.message}")
    except CudabenchError as exc:
        defects.append(str(exc))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return record


def _data_checks(row: Row, rowdata: set_data.RowData, record: dict, env: dict[str, str], work: Path) -> None:
    """What gen.py's published data alone shows: reference files of the spec's sizes, a compare.py that rejects
    made-up outputs, a reference output that is not constant."""
    defects = record["defects"]
    for t in row.outputs:
        ref_path = rowdata.reference_path(t.name)
        if ref_path is None:
            defects.append(f"no file gen.py wrote is the reference of output {t.name}")
        elif ref_path.stat().st_size != t.nbytes:
            defects.append(f"output {t.describe()} is {t.nbytes} bytes, but gen.py's reference "
                           f"{ref_path.name} has {ref_path.stat().st_size}")
    # A constant answer to outputs of one value each (a loss, a sum) is the reference itself: not a test.
    kinds = ("zero", "constant", "perturbed") if any(int(np.prod(t.shape)) > 1 for t in row.outputs) \
        else ("zero", "perturbed")
    for kind in kinds:
        fake = _fake_outputs(row, rowdata, kind, work)
        if fake is None:
            continue
        rejected = not judge.run_compare(row, rowdata, fake, env=env).passed
        record[f"rejects_{kind}"] = rejected
        if not rejected:
            defects.append(f"compare.py accepts {'an all-zero' if kind == 'zero' else 'a ' + kind} output")
    varied = True
    for t in row.outputs:
        ref_path = rowdata.reference_path(t.name)
        if ref_path is not None and ref_path.stat().st_size == t.nbytes:
            ref = np.fromfile(ref_path, dtype=t.dtype)
            if ref.size > 1 and np.all(ref == ref.flat[0]):
                varied = False
                defects.append(f"gen.py's reference {ref_path.name} is constant ({ref.flat[0]!r}): "
                               "a wrong answer can match it")
    record["varied_output"] = varied


def _program_checks(row: Row, paper: set_data.RowData, library: Path, entry: str, runtime: str, cache_dir: Path,
                    timeout: float, gen_timeout_s: float, record: dict, env: dict[str, str], work: Path) -> None:
    """What running bench.cu shows: it passes its compare on both seeds' data and in another thread order, our
    check agrees, its outputs react to its inputs."""
    defects = record["defects"]
    runs = {}
    for mode, seed in (("paper", 0), ("run", OTHER_SEED)):
        try:
            rowdata = paper if mode == "paper" else set_data.generate(row, cache_dir, mode, seed, env=env,
                                                                       timeout_s=gen_timeout_s)
        except RowDataTimeout as exc:
            record["program_skipped"] = f"{exc} with seed {seed} (raise --gen-timeout)"
            return
        scratch = program.scratch_with_inputs(row, rowdata.directory, work)
        ran = program.run(library, entry, scratch, runtime, timeout, program.file_limit(row))
        if ran.timed_out and runtime == "cpu":  # the CPU runtime's speed, not the row's: a GPU judges it
            record["program_skipped"] = (f"bench.cu ran past the {timeout:.0f} s limit of the CPU runtime on "
                                         f"{mode}-seed data (run it on a GPU, or raise --timeout)")
            return
        try:
            program.verdict(ran, timeout, runtime)
        except StageFailure as exc:
            record[f"ref_{mode}"] = False
            defects.append(f"reference on {mode}-seed data: {exc.message}")
            continue
        verdict = judge.run_compare(row, rowdata, scratch, env=env)
        record[f"ref_{mode}"] = verdict.passed
        if not verdict.passed:
            defects.append(f"reference fails its own compare.py on {mode}-seed data ({verdict.message})")
        own = judge.own_check(row, rowdata, scratch)
        if mode == "paper":
            record["judges_agree"] = None if own["ok"] is None else own["ok"] == verdict.passed
            if record["judges_agree"] is False:
                record["notes"].append("our check disagrees with compare.py on the reference: "
                                       + judge.own_check_text(own))
            if verdict.passed:
                _order_check(row, rowdata, library, entry, runtime, timeout, ran, scratch, own["ok"], record, env,
                             work)
        runs[mode] = (program.output_bytes(row, scratch),
                      {t.name: rowdata.input_path(t.name).read_bytes() for t in row.inputs})
    if "paper" in runs and "run" in runs:
        (out_a, in_a), (out_b, in_b) = runs["paper"], runs["run"]
        if in_a == in_b:
            record["notes"].append("gen.py's inputs do not depend on the seed: reaction not tested")
        else:
            record["reacts"] = out_a != out_b
            if out_a == out_b:
                defects.append("the reference's outputs are identical for different inputs")


def _order_check(row: Row, rowdata: set_data.RowData, library: Path, entry: str, runtime: str, timeout: float,
                 forward: program.ProgramRun, scratch: Path, own_ok: bool | None, record: dict,
                 env: dict[str, str], work: Path) -> None:
    """The reference once more in another thread order with racecheck (orders.py)."""
    reason = orders.not_affordable(forward, timeout)
    done = orders.OrderRun("forward", 0, "not-run", reason) if reason else orders.run_in_other_order(
        row, library, entry, rowdata, scratch, own_ok, runtime, timeout, OTHER_SEED, work, env)
    record["thread_order"] = done.to_dict()
    if done.verdict == "failed":
        record["ref_order"] = False
        record["defects"].append(f"result depends on thread order: {done.message}")
    elif done.verdict == "passed":
        record["ref_order"] = True
    else:
        record["notes"].append(f"thread order: {done.message}")


def _mark(value) -> str:
    return "-" if value is None else ("ok" if value else "NO")


def verdict(record: dict) -> str:
    if record["skipped"]:
        return f"skipped: {record['skipped']}"
    parts = list(record["defects"])
    if record["program_skipped"]:
        parts.append(f"data checks only: {record['program_skipped']}")
    return "; ".join(parts) or "ok"


def table(records: list[dict]) -> list[str]:
    head = f"{'row':>4} {'task':32} {'sc':>2} " + " ".join(f"{c[:9]:>9}" for c in CHECKS) + "  verdict"
    lines = [head]
    for r in records:
        lines.append(f"{r['row']:>4} {r['task'][:32]:32} {r['scale']:>2} "
                     + " ".join(f"{_mark(r[c]):>9}" for c in CHECKS) + "  " + verdict(r))
    skipped = [r for r in records if r["skipped"]]
    defective = [r for r in records if not r["skipped"] and r["defects"]]
    data_only = [r for r in records if not r["skipped"] and not r["defects"] and r["program_skipped"]]
    clean = len(records) - len(skipped) - len(defective) - len(data_only)
    partly = sum(1 for r in defective if r["program_skipped"])
    lines.append(f"{len(records)} rows: {clean} without defects, {len(defective)} with defects"
                 + (f" ({partly} of them data checks only)" if partly else "")
                 + f", {len(data_only)} data checks only without defects (bench.cu not run), {len(skipped)} skipped")
    return lines


def _finished(row: Row, future: Future) -> dict:
    """The row's record; a bug of validate-set on one row is that row's (with its traceback), not the run's end."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - reported per row, the other rows still get checked
        traceback.print_exception(exc, file=sys.stderr)
        record = _new_record(row)
        record["skipped"] = (f"validate-set itself failed on this row ({type(exc).__name__}: {exc}); the traceback "
                             "is on stderr")
        return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_cudabench validate-set", description=__doc__.split("\n")[0])
    parser.add_argument("path", help="a CUDABench-Set .jsonl file")
    parser.add_argument("--scales", default=None, help="scales to check, e.g. 1 or 1,2 (default: all)")
    parser.add_argument("--tasks", default=None, help="task names to check, comma-separated (default: all)")
    parser.add_argument("--runtime", default="auto", choices=("auto", "gpu", "cpu"))
    parser.add_argument("--cache-dir", default=".cudabench_cache")
    parser.add_argument("--jobs", type=int, default=1, help="rows checked at once (default 1)")
    parser.add_argument("--timeout", type=float, default=None, help="program time limit in seconds")
    parser.add_argument("--gen-timeout", type=float, default=set_data.GEN_TIMEOUT_S,
                        help=f"gen.py time limit in seconds (default {set_data.GEN_TIMEOUT_S:.0f})")
    parser.add_argument("--max-data-mib", type=float, default=None,
                        help="skip rows whose inputs and outputs exceed this many MiB (default: no limit)")
    parser.add_argument("--drop-data", action="store_true",
                        help="delete each row's generated data once it is checked (bounds the disk a whole set needs)")
    parser.add_argument("--json", default=None, help="also write the records to this JSON file")
    args = parser.parse_args(argv)
    from ..execution.runner import choose_runtime
    from ..timing.gpus import gpu_arch

    try:
        rows = load_rows(args.path)
    except CudabenchError as exc:
        print(f"validate-set: {exc}", file=sys.stderr)
        return 2
    if args.scales:
        wanted = {int(s) for s in args.scales.split(",")}
        rows = [r for r in rows if r.scale in wanted]
    if args.tasks:
        names = set(args.tasks.split(","))
        rows = [r for r in rows if r.task in names or r.task_name in names]
    runtime = choose_runtime(args.runtime)
    arch = gpu_arch()
    cache = Path(args.cache_dir).resolve()
    records = []
    if args.max_data_mib is not None:
        limit = args.max_data_mib * 2**20
        for r in [r for r in rows if r.io_bytes > limit]:
            record = _new_record(r)
            record["skipped"] = (f"the row moves {r.io_bytes / 2**20:.0f} MiB of inputs and outputs, over "
                                 f"--max-data-mib={args.max_data_mib:g}")
            records.append(record)
            print(table(records[-1:])[1], flush=True)
        rows = [r for r in rows if r.io_bytes <= limit]

    def check(row: Row) -> dict:
        try:
            return validate_row(row, runtime, cache, arch, args.timeout, args.gen_timeout)
        finally:
            if args.drop_data:
                set_data.drop(row, cache)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(check, r): r for r in rows}
        for future in as_completed(futures):  # a line per row as it finishes: a long run shows its progress
            records.append(_finished(futures[future], future))
            print(table(records[-1:])[1], flush=True)
    records.sort(key=lambda r: r["line"])
    print()
    for line in table(records):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps({"file": args.path, "runtime": runtime, "rows": records}, indent=1))
    return 1 if any(r["defects"] for r in records) else 0
