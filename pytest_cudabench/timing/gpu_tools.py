"""CUDA toolkit programs that run the answer's child process under them: compute-sanitizer (`--cudabench-sanitize`
on the GPU) and Nsight Compute (`--cudabench-perf=ncu`, CUDABench's own Performance-Score).

Both inject a library into the child and talk to it, so the child runs them without its seccomp filter (resource
limits stay); the answer has already passed the execute stage in the full sandbox by then, and its outputs are
checked again after the profiled call.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import scoring

SANITIZER_EXIT_CODE = 86
SANITIZER_PREFIX = "========="
SANITIZER_PRINT_LIMIT = 10


def sanitizer_command(tool: str, log_path: Path) -> list[str]:
    """memcheck over the child; every error goes to `log_path`, and an error sets the exit code."""
    return [tool, "--tool", "memcheck", "--error-exitcode", str(SANITIZER_EXIT_CODE), "--print-limit",
            str(SANITIZER_PRINT_LIMIT), "--log-file", str(log_path)]


_SANITIZER_ERROR = re.compile(r"^(Invalid |Misaligned |Out-of-range |Program hit |Malloc/Free error|Error:|"
                              r"Barrier error|Race reported)")
_SANITIZER_DETAIL = re.compile(r"^(at |by thread |Address |Access at )")


def sanitizer_findings(log: str) -> str | None:
    """The first error of a compute-sanitizer log, with its kernel, source line, thread and address, and the error
    count; None when the log reports no error.

        ========= Invalid __global__ write of size 4 bytes
        =========     at scale(float*, int)+0x70 in /tmp/answer.cu:12
        =========     by thread (255,0,0) in block (3,0,0)
        =========     Address 0x7f0a00000400 is out of bounds
        ...
        ========= ERROR SUMMARY: 1 error
    """
    lines = [line[len(SANITIZER_PREFIX):].strip() for line in log.splitlines() if line.startswith(SANITIZER_PREFIX)]
    summary = next((re.search(r"ERROR SUMMARY: (\d+) error", line) for line in lines
                    if "ERROR SUMMARY" in line), None)
    first = next((i for i, line in enumerate(lines) if _SANITIZER_ERROR.match(line)), None)
    if first is None:
        return None if summary is None or summary.group(1) == "0" else f"compute-sanitizer: {lines[-1]}"
    details = []
    for line in lines[first + 1:]:
        if not _SANITIZER_DETAIL.match(line):
            break
        details.append(line)
    count = f" ({summary.group(1)} error(s) in all)" if summary else ""
    return f"compute-sanitizer: {lines[first]}" + "".join(f"; {d}" for d in details) + count


def ncu_command(tool: str, log_path: Path, whole_program: bool = False) -> list[str]:
    """CUDABench's counters, in base units, for the kernels between the child's profiler start and stop, or, for a
    `whole_program` (CUDABench-Set), for every kernel it launches, as CUDABench's own evaluator profiles."""
    return [tool, "--csv", "--print-units", "base", "--metrics", ",".join(scoring.ncu_metric_names()),
            "--profile-from-start", "on" if whole_program else "off", "--target-processes", "all",
            "--log-file", str(log_path)]


NCU_PERMISSION_HINT = ("ncu cannot read GPU performance counters (ERR_NVGPUCTRPERM): allow profiling for all users "
                       "(NVreg_RestrictProfilingToAdminUsers=0) or run as root")


def ncu_failure(log: str) -> str | None:
    """ncu's own error, when the profiler (not the answer) failed: its first ==ERROR== line."""
    if "ERR_NVGPUCTRPERM" in log:
        return NCU_PERMISSION_HINT
    line = next((line for line in log.splitlines() if line.startswith("==ERROR==")), None)
    return f"ncu failed: {line[len('==ERROR=='):].strip()}" if line else None


def ncu_scale_score(log: str) -> dict[str, Any]:
    """CUDABench's score of one profiled call from ncu's CSV log. Raises ValueError with the reason when the log
    holds no usable measurement."""
    problem = ncu_failure(log)
    if problem:
        raise ValueError(problem)
    launches = scoring.parse_ncu_csv(log)
    if not launches:
        last = next((line for line in reversed(log.splitlines()) if line.strip()), "empty log")
        raise ValueError(f"ncu profiled no kernel launch ({last.strip()[:200]})")
    chosen = scoring.ncu_score_from_launches(launches)
    if chosen is None:
        raise ValueError("ncu did not report every metric CUDABench's score needs "
                         f"({', '.join(scoring.NCU_REQUIRED)})")
    return chosen
