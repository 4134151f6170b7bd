"""A row's data: its gen.py run in a trusted subprocess (never inside an answer's sandbox), once per row and seed.

Seeds: `paper` runs gen.py as published (their fixed seeds: an exact reproduction). `run` (the default) puts the
run's seed into gen.py's seeding calls (numpy, torch, random), so an answer that memorised the published outputs
fails. The data lives in the cache under the row's digest and the seed; generation happens in a temporary
directory renamed into place under a file lock, so xdist workers and the levels of one row share one copy.

The files gen.py writes that are not inputs are the reference outputs; each is bound to an output by name (or by
the order gen.py names them) and kept apart from what the answer program may read.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import RowDataError, RowDataTimeout, StageSkip
from ..results import RowDataRecord
from .rows import Row

SEED_MODES = ("run", "paper")
GEN_TIMEOUT_S = 1800.0
# Seeding calls of gen.py whose argument the run seed replaces.
_SEED_CALL = re.compile(r"(?<![\w.])(?P<call>(?:np|numpy)\.random\.(?:seed|default_rng|RandomState)"
                        r"|torch\.(?:cuda\.)?manual_seed(?:_all)?|random\.seed)\s*\((?P<arg>[^()]*)\)")
_DATA_FILE = re.compile(r"data/(\w+)\.bin")
# gen.py's errors that mean it wants torch on a GPU (a few rows generate on "cuda:0").
_NEEDS_CUDA = ("Torch not compiled with CUDA enabled", "Found no NVIDIA driver", "No CUDA GPUs are available")


@dataclass(frozen=True)
class RowData:
    directory: Path  # holds data/ as gen.py left it
    references: dict[str, str]  # output name -> file name in data/
    seed_mode: str
    seed: int | None
    seed_calls: int  # seeding calls replaced (run mode)
    generated: bool  # False: found in the cache

    def input_path(self, name: str) -> Path:
        return self.directory / "data" / f"{name}.bin"

    def reference_path(self, output: str) -> Path | None:
        name = self.references.get(output)
        return self.directory / "data" / name if name else None

    def to_dict(self) -> RowDataRecord:
        return {"seed_mode": self.seed_mode, "seed": self.seed, "seed_calls_replaced": self.seed_calls,
                "generated": self.generated, "references": self.references}


def inject_seed(gen_py: str, seed: int) -> tuple[str, int]:
    """gen.py with every seeding call given `seed`; and how many calls were changed."""
    value = seed % (1 << 31)  # np.random.seed needs < 2**32; torch and random accept any
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        count += 1
        return f"{match.group('call')}({value})"
    return _SEED_CALL.sub(replace, gen_py), count


def bind_references(row: Row, written: list[str]) -> dict[str, str]:
    """Output name -> reference file (among the non-input files gen.py wrote)."""
    inputs = {f"{t.name}.bin" for t in row.inputs}
    candidates = [f for f in written if f not in inputs]
    outputs = [t.name for t in row.outputs]
    bound: dict[str, str] = {}
    for name in outputs:  # a file under the output's own name
        if f"{name}.bin" in candidates:
            bound[name] = f"{name}.bin"
    left = [f for f in candidates if f not in bound.values()]
    unbound = [n for n in outputs if n not in bound]
    if len(left) == len(unbound) == 1:
        bound[unbound[0]] = left[0]
        return bound
    named = [f"{m}.bin" for m in dict.fromkeys(_DATA_FILE.findall(row.gen_py)) if f"{m}.bin" in left]
    if len(named) == len(unbound) and len(left) == len(unbound):  # gen.py names the references in output order
        return {**bound, **dict(zip(unbound, named, strict=True))}
    for name in unbound:
        close = difflib.get_close_matches(f"{name}.bin", left, n=1, cutoff=0.3)
        if close:
            bound[name] = close[0]
            left.remove(close[0])
    return bound


def drop(row: Row, cache_dir: Path) -> None:
    """Removes every cached data set of `row` (all seeds): a check over a whole set need not keep 60 GB."""
    root = cache_dir / "cudabench-set" / "data"
    for path in root.glob(f"{row.digest}-*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def generate(row: Row, cache_dir: Path, seed_mode: str, seed: int, env: dict[str, str] | None = None,
             timeout_s: float = GEN_TIMEOUT_S) -> RowData:
    """The row's data for this seed mode, generated unless already in the cache."""
    if seed_mode not in SEED_MODES:
        raise ValueError(seed_mode)
    source, calls = (row.gen_py, 0) if seed_mode == "paper" else inject_seed(row.gen_py, seed)
    tag = "paper" if seed_mode == "paper" else f"seed{seed}"
    root = cache_dir / "cudabench-set" / "data"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{row.digest}-{tag}"
    lock_path = root / f"{final.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = final / "manifest.json"
        if manifest.is_file():
            record = json.loads(manifest.read_text())
            return RowData(final, record["references"], seed_mode, None if seed_mode == "paper" else seed, calls, False)
        work = root / f"{final.name}.tmp{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        (work / "data").mkdir(parents=True)
        (work / "gen.py").write_text(source)
        start = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "gen.py"], cwd=work, env=env, capture_output=True, text=True,
                                  timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            shutil.rmtree(work, ignore_errors=True)
            raise RowDataTimeout(f"{row.path}:{row.line}: gen.py ran past {timeout_s:.0f} s") from None
        if done.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            if any(sign in done.stderr for sign in _NEEDS_CUDA):
                raise StageSkip("data", "the row's gen.py computes its data with torch on a CUDA GPU; this machine's "
                                "torch has none (run it on a GPU with a CUDA build of torch)")
            raise RowDataError(f"{row.path}:{row.line}: gen.py exited with {done.returncode}: "
                               f"{done.stderr.strip()[-1500:]}")
        written = sorted(p.name for p in (work / "data").iterdir() if p.is_file())
        for t in row.inputs:
            path = work / "data" / f"{t.name}.bin"
            if not path.is_file() or path.stat().st_size != t.nbytes:
                got = path.stat().st_size if path.is_file() else None
                shutil.rmtree(work, ignore_errors=True)
                raise RowDataError(f"{row.path}:{row.line}: gen.py wrote data/{t.name}.bin with "
                                   f"{'no file' if got is None else f'{got} bytes'}; its spec ({t.describe()}) needs "
                                   f"{t.nbytes} bytes")
        references = bind_references(row, written)
        os.unlink(work / "gen.py")
        (work / "manifest.json").write_text(json.dumps({
            "row": row.id, "task": row.task, "seed_mode": seed_mode, "seed_calls_replaced": calls,
            "references": references, "gen_seconds": round(time.perf_counter() - start, 3)}))
        os.replace(work, final)
        return RowData(final, references, seed_mode, None if seed_mode == "paper" else seed, calls, True)
