"""The knockout run: is the work done by kernels at all?

A text-to-CUDA answer whose outputs do not depend on any kernel is not a CUDA solution, however it uses the API
(copy the inputs to the host, compute there, launch an empty kernel, copy back). The CPU runtime can turn every
kernel launch into a no-op that succeeds (cudabench_cpu_knockout); the answer runs once more that way, on one case.
If its outputs still pass the judges, the work was done on the host and the item fails. A legitimate mixed answer
(block partials summed on the host) gets wrong outputs without its kernels, and passes.

Cost: one more child and one call, kernels skipped. On the GPU runtime the CPU runtime's build of the answer is
made (and cached) for this run; where the CPU runtime cannot build the answer, the run is recorded as not run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import StageFailure, StageSkip
from ..results import message_summary
from ..tasks import inputs
from ..tasks.loader import Task
from . import runner, supervisor

HOST_WORK = "the outputs do not depend on any kernel: the work is done on the host"
KNOCKOUT_TIMEOUT_S = 20.0  # without its kernels an answer may wait for a result that never comes


def knockout_case(cases: list[inputs.Case]) -> inputs.Case:
    """The largest correctness case: an answer may legitimately do a tiny case on the host, never the largest."""
    judged = [c for c in cases if c.scale is None and not c.probe] or cases
    return max(judged, key=lambda c: sum(a.nbytes for a in c.arrays.values()))


def check_kernel_answer(stage_record: dict[str, Any], task: Task, source: str, library: Path, runtime: str,
                        cases: list[inputs.Case], cache_dir: Path, timeout_s: float, arch: str | None = None,
                        sanitize: bool = False) -> None:
    """Runs the answer (which passed `cases`) once more with every kernel launch a no-op, on one case, and records
    that run as stage_record["knockout"]: verdict "kernels-needed" (the outputs failed without kernels: good),
    "not-run" (with the reason) or "host-work", for which it raises StageFailure('execute'). `library` is the one
    the cases ran; on a GPU, or for an AddressSanitizer build, the plain CPU-runtime build is used instead."""
    case = knockout_case(cases)
    record: dict[str, Any] = {"case": case.index, "sizes": case.sizes}
    stage_record["knockout"] = record
    if runtime != "cpu" or sanitize:
        try:
            library = supervisor.build_for_runtime("cpu", source, library, cache_dir, False, arch)
        except StageFailure as exc:
            record.update(verdict="not-run", message=f"the CPU runtime cannot build this answer: {exc.message}")
            return
        except StageSkip as exc:
            record.update(verdict="not-run", message=f"the CPU runtime cannot run this answer: {exc.reason}")
            return
    try:
        runner.run_cases(task, library, "cpu", [case], timeout_s=min(timeout_s, KNOCKOUT_TIMEOUT_S), knockout=True)
    except StageFailure as exc:
        record.update(verdict="kernels-needed", message=f"without its kernels: {message_summary(exc.message)}")
        return
    except StageSkip as exc:
        record.update(verdict="not-run", message=exc.reason)
        return
    record.update(verdict="host-work", message="the outputs passed with every kernel launch a no-op")
    raise StageFailure("execute", f"{HOST_WORK} (with every kernel launch turned into a no-op, the outputs still "
                       f"passed in case {case.index} ({case.describe()}))")
