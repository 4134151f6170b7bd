"""Two judges of a program's outputs.

CUDABench's: the row's compare.py, run in a trusted subprocess in a directory holding everything gen.py wrote plus
the program's outputs; any `F` in its stdout is a mismatch (their evaluator's rule), and a `T` is needed for a pass.
Ours: each output read in its own dtype and compared with gen.py's reference output: integers exactly, floats within
the tolerance compare.py names (its first atol/tol/tolerance/eps assignment, else 1e-5) plus a relative 1e-5.
The item's verdict is CUDABench's; a disagreement of the two is recorded and shown, never hidden.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..results import CompareRecord, OutputCheck, OwnCheckRecord
from .data import RowData
from .rows import Row

COMPARE_TIMEOUT_S = 600.0
DEFAULT_ATOL = 1e-5
RTOL = 1e-5
_TOLERANCE = re.compile(r"\b(?:atol|tol|tolerance|eps|epsilon)\w*\s*=\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)\b",
                        re.IGNORECASE)  # TOL = 1e-1 as well as atol=1e-5


@dataclass
class CompareVerdict:
    passed: bool
    stdout: str
    returncode: int | None
    message: str

    def to_dict(self) -> CompareRecord:
        return {"passed": self.passed, "stdout": self.stdout[-1500:], "returncode": self.returncode,
                "message": self.message}


def compare_tolerance(compare_py: str) -> float:
    match = _TOLERANCE.search(compare_py)
    return float(match.group(1)) if match else DEFAULT_ATOL


def run_compare(row: Row, data: RowData, outputs_dir: Path, env: dict[str, str] | None = None,
                timeout_s: float = COMPARE_TIMEOUT_S) -> CompareVerdict:
    """compare.py in a fresh directory: data/ links gen.py's files, then the program's outputs over them."""
    work = Path(tempfile.mkdtemp(prefix="cudabench-judge-"))
    try:
        (work / "data").mkdir()
        for path in (data.directory / "data").iterdir():
            os.symlink(path, work / "data" / path.name)
        inputs = {f"{t.name}.bin" for t in row.inputs}
        # Every file the program wrote, declared or not (a row's spec may miss an output compare.py reads).
        for produced in (outputs_dir / "data").iterdir():
            if produced.name in inputs or not produced.is_file():
                continue
            target = work / "data" / produced.name
            if target.is_symlink():
                target.unlink()
            os.symlink(produced, target)
        (work / "compare.py").write_text(row.compare_py)
        try:
            done = subprocess.run([sys.executable, "compare.py"], cwd=work, env=env, capture_output=True, text=True,
                                  timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return CompareVerdict(False, "", None, f"compare.py ran past {timeout_s:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    stdout = done.stdout
    if "F" in stdout:
        return CompareVerdict(False, stdout, done.returncode, "compare.py printed F")
    if "T" in stdout:
        return CompareVerdict(True, stdout, done.returncode, "compare.py printed T")
    error = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output"
    return CompareVerdict(False, stdout, done.returncode, f"compare.py printed neither T nor F ({error})")


def own_check(row: Row, data: RowData, outputs_dir: Path, atol: float | None = None) -> OwnCheckRecord:
    """Per output: {"ok": bool | None (unjudged), "message": str, ...}; "ok" overall is None when any output
    could not be judged (no reference file bound, or one of another size)."""
    atol = compare_tolerance(row.compare_py) if atol is None else atol
    results: dict[str, OutputCheck] = {}
    for t in row.outputs:
        produced = outputs_dir / "data" / f"{t.name}.bin"
        reference = data.reference_path(t.name)
        if not produced.is_file():
            results[t.name] = {"ok": False, "message": f"the program wrote no data/{t.name}.bin"}
            continue
        if produced.stat().st_size != t.nbytes:
            results[t.name] = {"ok": False, "message": f"data/{t.name}.bin has {produced.stat().st_size} bytes; "
                               f"{t.describe()} is {t.nbytes} bytes"}
            continue
        if reference is None or reference.stat().st_size != t.nbytes:
            why = "no reference file bound to it" if reference is None else \
                f"{reference.name} has {reference.stat().st_size} bytes, not {t.nbytes}"
            results[t.name] = {"ok": None, "message": f"not judged: {why}"}
            continue
        results[t.name] = compare_arrays(np.fromfile(produced, dtype=t.dtype), np.fromfile(reference, dtype=t.dtype),
                                         t.dtype, atol)
    oks = [r["ok"] for r in results.values()]
    overall = False if False in oks else (None if None in oks else True)
    return {"ok": overall, "atol": atol, "rtol": RTOL, "outputs": results}


def compare_arrays(got: np.ndarray, want: np.ndarray, dtype: str, atol: float) -> OutputCheck:
    if not dtype.startswith("float"):
        wrong = np.flatnonzero(got != want)
        if wrong.size == 0:
            return {"ok": True, "message": "exact"}
        i = int(wrong[0])
        return {"ok": False, "mismatches": int(wrong.size),
                "message": f"{wrong.size} of {got.size} values differ; first at flat index {i}: got {got[i]}, "
                           f"expected {want[i]}"}
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    both_nan = np.isnan(got64) & np.isnan(want64)
    error = np.where(both_nan, 0.0, np.abs(got64 - want64))
    error = np.where(np.isnan(error), np.inf, error)
    bad = error > atol + RTOL * np.abs(want64)
    worst = float(error.max()) if error.size else 0.0
    if not bad.any():
        return {"ok": True, "max_abs_error": worst, "message": f"within atol {atol:g}, max |error| {worst:.3g}"}
    i = int(np.flatnonzero(bad)[0])
    return {"ok": False, "mismatches": int(bad.sum()), "max_abs_error": worst,
            "message": f"{int(bad.sum())} of {got.size} values outside atol {atol:g} + rtol {RTOL:g}; first at flat "
                       f"index {i}: got {got[i]!r}, expected {want[i]!r}"}


def own_check_text(own: OwnCheckRecord) -> str:
    """Our check's verdict per output, in one line ("y: exact; z: max |diff| ..."), for messages and notes."""
    return "; ".join(f"{name}: {r['message']}" for name, r in own["outputs"].items())
