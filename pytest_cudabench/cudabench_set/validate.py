"""`python -m pytest_cudabench validate-set PATH`: checks the rows of a CUDABench-Set file themselves.

Per row, with its own bench.cu built and run as an answer would be (same build, sandbox and judges):
- reference: bench.cu passes its own compare.py on gen.py's published data (paper seeds) and on data of another
  seed (run seeds; a reference that only passes the published data is fragile: races, tie orders);
- our check agrees with compare.py on the reference's outputs;
- compare.py rejects an all-zero output, a constant output (the reference's mean) and a perturbed one (the
  reference with 1% of its values, at least one, moved well beyond the tolerance);
- the reference reacts to its inputs: its outputs on the two seeds' inputs differ (when those inputs do);
- no reference output is constant (a degenerate output hides wrong answers).
Rows too large for the CPU runtime are skipped with the reason. Exit code 1 when any row has a defect.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from ..errors import CudabenchError, StageFailure, StageSkip
from . import data as set_data
from . import judge, program
from .rows import Row, load_rows

OTHER_SEED = 20260301
PERTURBED_SHARE = 0.01
CHECKS = ("ref_paper", "ref_run", "judges_agree", "rejects_zero", "rejects_constant", "rejects_perturbed",
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


def _outputs(row: Row, scratch: Path) -> dict[str, bytes]:
    return {t.name: (scratch / "data" / f"{t.name}.bin").read_bytes() for t in row.outputs
            if (scratch / "data" / f"{t.name}.bin").is_file()}


def validate_row(row: Row, runtime: str, cache_dir: Path, arch: str, timeout_s: float | None = None) -> dict:
    """{"row", "task", "scale", checks: True/False/None (not applicable), "defects": [...], "skipped": reason}."""
    from ..execution.runner import child_environment

    record: dict = {"row": row.id, "task": row.task, "scale": row.scale, "line": row.line,
                    **{c: None for c in CHECKS}, "defects": [], "skipped": None, "notes": []}
    defects = record["defects"]
    if not row.outputs:
        defects.append("declares no outputs (compare.py reads files the spec does not name)")
    work = Path(tempfile.mkdtemp(prefix="cudabench-validate-"))
    try:
        program.check_fits(row, runtime)
        library, entry, _ = program.build(row.bench_cu, runtime, cache_dir, arch)
        timeout = timeout_s or program.PROGRAM_TIMEOUT_S[runtime]
        env = child_environment(work)
        runs = {}
        for mode, seed in (("paper", 0), ("run", OTHER_SEED)):
            rowdata = set_data.generate(row, cache_dir, mode, seed, env=env)
            scratch = program.scratch_with_inputs(row, rowdata.directory, work)
            ran = program.run(library, entry, scratch, runtime, timeout, program.file_limit(row))
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
                    record["notes"].append("our check disagrees with compare.py on the reference: " + "; ".join(
                        f"{n}: {r['message']}" for n, r in own["outputs"].items()))
            runs[mode] = (rowdata, _outputs(row, scratch),
                          {t.name: rowdata.input_path(t.name).read_bytes() for t in row.inputs})
        if "paper" in runs:
            rowdata = runs["paper"][0]
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
        if "paper" in runs and "run" in runs:
            (_, out_a, in_a), (_, out_b, in_b) = runs["paper"], runs["run"]
            if in_a == in_b:
                record["notes"].append("gen.py's inputs do not depend on the seed: reaction not tested")
            else:
                record["reacts"] = out_a != out_b
                if out_a == out_b:
                    defects.append("the reference's outputs are identical for different inputs")
    except StageSkip as exc:
        record["skipped"] = exc.reason
    except StageFailure as exc:
        defects.append(f"bench.cu: [{exc.stage}] {exc.message}")
    except CudabenchError as exc:
        defects.append(str(exc))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return record


def _mark(value) -> str:
    return "-" if value is None else ("ok" if value else "NO")


def table(records: list[dict]) -> list[str]:
    head = f"{'row':>4} {'task':32} {'sc':>2} " + " ".join(f"{c[:9]:>9}" for c in CHECKS) + "  verdict"
    lines = [head]
    for r in records:
        verdict = f"skipped: {r['skipped']}" if r["skipped"] else ("; ".join(r["defects"]) or "ok")
        lines.append(f"{r['row']:>4} {r['task'][:32]:32} {r['scale']:>2} "
                     + " ".join(f"{_mark(r[c]):>9}" for c in CHECKS) + "  " + verdict)
    checked = [r for r in records if not r["skipped"]]
    lines.append(f"{len(records)} rows: {sum(1 for r in checked if not r['defects'])} without defects, "
                 f"{sum(1 for r in checked if r['defects'])} with defects, {len(records) - len(checked)} skipped")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_cudabench validate-set", description=__doc__.split("\n")[0])
    parser.add_argument("path", help="a CUDABench-Set .jsonl file")
    parser.add_argument("--scales", default=None, help="scales to check, e.g. 1 or 1,2 (default: all)")
    parser.add_argument("--tasks", default=None, help="task names to check, comma-separated (default: all)")
    parser.add_argument("--runtime", default="auto", choices=("auto", "gpu", "cpu"))
    parser.add_argument("--cache-dir", default=".cudabench_cache")
    parser.add_argument("--jobs", type=int, default=1, help="rows checked at once (default 1)")
    parser.add_argument("--timeout", type=float, default=None, help="program time limit in seconds")
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
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(validate_row, r, runtime, cache, arch, args.timeout) for r in rows]
        for future in as_completed(futures):  # a line per row as it finishes: a long run shows its progress
            records.append(future.result())
            print(table(records[-1:])[1], flush=True)
    records.sort(key=lambda r: r["line"])
    print()
    for line in table(records):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps({"file": args.path, "runtime": runtime, "rows": records}, indent=1))
    return 1 if any(r["defects"] for r in records) else 0
