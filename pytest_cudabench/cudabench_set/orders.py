"""The thread-order run of a whole CUDABench-Set program (CPU runtime only).

A program that passed its judges in thread order (forward) runs once more on fresh copies of the same inputs, its
blocks' threads in another order between barriers (one of supervisor.ORDER_RUNS, picked by a seed derived from the run
seed and the row, so a run is reproducible) with shared-memory race detection on. It fails when the runtime finds a
race, when the program breaks (exit code, fault) only in that order, or when its outputs differ from the forward
run's and a judge rejects them (compare.py, or our check where it accepted the forward run). Equal outputs need no
judge; outputs that differ within the judges' tolerance (a float sum in another order) pass, noted.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import StageFailure
from ..execution.supervisor import ORDER_NAMES, ORDER_RUNS
from . import judge, program
from .data import RowData
from .rows import Row

# The second run is made when the forward run took at most this share of the time limit: racecheck instruments
# every shared-memory access (measured: 3-4x slower on a tiled matmul), and the order run must fit the same limit.
TIME_SHARE = 0.2


@dataclass
class OrderRun:
    order: str  # one of ORDER_RUNS, or "forward" when not run
    seed: int
    verdict: str  # "passed", "failed" (order-dependent), "not-run" (message says why), "inconclusive" (timed out),
    # "not-reached" (the forward run failed execute)
    message: str  # what happened, in words
    seconds: float | None = None
    racecheck: bool | None = None  # race detection was on (False: the build has no shared memory to check)
    race: bool = False
    program: dict | None = None  # the run's ProgramRun.to_dict()

    def to_dict(self) -> dict:
        return {"order": self.order, "seed": self.seed, "verdict": self.verdict, "message": self.message,
                "seconds": None if self.seconds is None else round(self.seconds, 3), "racecheck": self.racecheck,
                "race": self.race}


def pick_order(run_seed: int, row: Row) -> tuple[str, int]:
    """(order, shuffle seed) for this run seed and row: the same in every run with that seed."""
    digest = hashlib.sha256(f"thread-order:{run_seed}:{row.digest}".encode()).digest()
    seed = int.from_bytes(digest[:8], "little") >> 1
    return ORDER_RUNS[seed % len(ORDER_RUNS)], seed


def not_affordable(forward: program.ProgramRun, timeout_s: float) -> str | None:
    """Why the order run is not made after `forward` (None: it is)."""
    if forward.seconds > TIME_SHARE * timeout_s:
        return (f"not run: the forward run took {forward.seconds:.1f} s, over {TIME_SHARE:.0%} of the {timeout_s:.0f} s "
                "limit (a second run with racecheck would not fit)")
    return None


def run_in_other_order(row: Row, library: Path, entry: str, rowdata: RowData, forward_scratch: Path,
                       forward_own_ok: bool | None, runtime: str, timeout_s: float, run_seed: int,
                       parent: Path, env: dict[str, str]) -> OrderRun:
    """The order run after a forward run (in `forward_scratch`) that passed compare.py; never raises for what the
    program does. `forward_own_ok` is our check's verdict on the forward outputs."""
    order, seed = pick_order(run_seed, row)
    if runtime != "cpu":
        return OrderRun("forward", 0, "not-run", "not run: the GPU schedules its threads itself (race detection "
                        "there: compute-sanitizer)")
    scratch = program.scratch_with_inputs(row, rowdata.directory, parent)
    try:
        ran = program.run(library, entry, scratch, runtime, timeout_s, program.file_limit(row), thread_order=order,
                          order_seed=seed, racecheck=True)
        done = OrderRun(order, seed, "passed", "", ran.seconds, ran.racecheck, program=ran.to_dict())
        how = f"run {ORDER_NAMES[order]}" + (" with shared-memory race detection" if ran.racecheck else "")
        if ran.runtime_error and ran.runtime_error.startswith("shared-memory race"):
            done.verdict, done.race, done.message = "failed", True, f"{how}, the CPU runtime found a {ran.runtime_error}"
            return done
        if ran.timed_out:
            done.verdict, done.message = "inconclusive", (f"{how}, the program ran past the {timeout_s:.0f} s limit "
                                                          "(race detection slows it): not judged")
            return done
        try:
            program.verdict(ran, timeout_s, runtime)
        except StageFailure as exc:
            done.verdict, done.message = "failed", f"correct in thread order, but {how}: {exc.message}"
            return done
        if program.output_bytes(row, scratch) == program.output_bytes(row, forward_scratch):
            done.message = f"{how}: the same outputs as in thread order"
            return done
        verdict = judge.run_compare(row, rowdata, scratch, env=env)
        own = judge.own_check(row, rowdata, scratch)
        own_text = judge.own_check_text(own)
        if not verdict.passed or (forward_own_ok is True and own["ok"] is False):
            done.verdict = "failed"
            done.message = (f"correct with each block's threads run in thread order between barriers, wrong when "
                            f"{how}: {verdict.message if not verdict.passed else 'compare.py accepted it'}; our "
                            f"check: {own_text}")
        else:
            done.message = f"{how}: outputs differ from thread order's, within the judges' tolerance ({own_text})"
        return done
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
