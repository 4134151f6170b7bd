"""`python -m pytest_cudabench doctor`: one table of what this machine can do for the benchmark, and what to install.

Each check is a `Check` row (name, status, what was found, what to do). Statuses: "ok"; "missing" (a part the
benchmark needs here, or that a feature needs, is absent: the row says what to install); "warn" (present but
limited); "skip" (not applicable on this machine, with the reason). The CPU-runtime smoke run compiles and runs one
tiny task end to end; on a machine with a usable GPU, the GPU runtime runs three tasks, each timed twice, and the
row gives both Performance-Scores and their spread (how repeatable timing is here). The GPU parts are imported only
when a GPU is usable. Exit status: 0 when the benchmark can run here (nvcc, g++ and the CPU-runtime smoke run, or
the GPU run), 1 otherwise.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import ConfigError, CudabenchError, StageSkip

SMOKE_TASK = "basics/vector_add"
GPU_TASKS = ("basics/vector_add", "linalg/sgemm", "ai/softmax")
LANDLOCK_CREATE_RULESET = 444  # syscall number (x86-64 and aarch64)
LANDLOCK_CREATE_RULESET_VERSION = 1  # flag: return the ABI version


@dataclass
class Check:
    name: str
    status: str  # ok | missing | warn | skip
    detail: str
    fix: str = ""


def _run(command: list[str], timeout: float = 30) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def check_nvcc() -> list[Check]:
    from .execution.cpu_runtime import find_cuda_include
    from .source.compiler import find_nvcc, nvcc_version

    rows = []
    try:
        nvcc = find_nvcc()
        rows.append(Check("nvcc", "ok", f"{nvcc} ({nvcc_version(str(nvcc))})"))
    except ConfigError as exc:
        rows.append(Check("nvcc", "missing", "not found", str(exc).split(": ", 1)[-1]))
    include = find_cuda_include()
    if include is None:
        rows.append(Check("CUDA headers", "missing", "no include directory with cuda_runtime.h",
                          "install a CUDA toolkit (CUDA_HOME) or pip install nvidia-cuda-runtime"))
    else:
        rows.append(Check("CUDA headers", "ok", str(include)))
    return rows


def check_gxx() -> Check:
    compiler = shutil.which("g++")
    if compiler is None:
        return Check("g++", "missing", "not on PATH", "install g++ (the CPU runtime builds answers with it)")
    out = _run([compiler, "--version"]) or ""
    return Check("g++", "ok", f"{compiler} ({out.splitlines()[0] if out else 'version unknown'})")


def check_gpu() -> tuple[Check, bool]:
    """The driver and GPU, by NVML (pynvml), else nvidia-smi, else the driver's NVML library by ctypes."""
    from .timing.gpus import detect_cuda_devices, gpu_info

    info = gpu_info()
    if info:
        count = detect_cuda_devices()
        return Check("driver / GPU", "ok", f"{info['name']} (compute {info.get('compute_capability')}), driver "
                     f"{info.get('driver')}, {count} visible device(s), by NVML"), True
    out = _run(["nvidia-smi", "--query-gpu=name,driver_version,compute_cap", "--format=csv,noheader"]) \
        if shutil.which("nvidia-smi") else None
    if out and out.strip():
        first = out.strip().splitlines()[0]
        return Check("driver / GPU", "ok", f"{first} by nvidia-smi ({len(out.strip().splitlines())} device(s))",
                     "pip install nvidia-ml-py for clock and throttle readings"), True
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
        return Check("driver / GPU", "warn", "the driver's NVML library loads but reports no GPU",
                     "check that a GPU is visible here (CUDA_VISIBLE_DEVICES, container --gpus)"), False
    except OSError:
        pass
    return Check("driver / GPU", "skip", "no NVIDIA driver or GPU: answers run on the CPU runtime, performance is "
                 "not measured", "on a GPU machine: the NVIDIA driver"), False


def check_pycuda(gpu: bool) -> Check:
    try:
        import pycuda  # noqa: F401

        return Check("pycuda", "ok", f"{getattr(pycuda, 'VERSION_TEXT', 'installed')}")
    except ImportError:
        status = "missing" if gpu else "skip"
        return Check("pycuda", status, "not installed" + ("" if gpu else " (needed only with a GPU)"),
                     "pip install 'pytest-cudabench[gpu]'")


def _profiling_admin_only() -> bool | None:
    try:
        text = Path("/proc/driver/nvidia/params").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("RmProfilingAdminOnly:"):
            return line.split(":", 1)[1].strip() == "1"
    return None


def check_cuda_tools(gpu: bool) -> list[Check]:
    from .source.compiler import find_cuda_tool

    rows = []
    ncu = find_cuda_tool("ncu")
    if ncu is None:
        rows.append(Check("ncu", "missing" if gpu else "skip", "not found" + ("" if gpu else " (GPU only)"),
                          "Nsight Compute from the CUDA toolkit, for --cudabench-perf=ncu"))
    else:
        admin_only = _profiling_admin_only()
        if admin_only and os.geteuid() != 0:
            rows.append(Check("ncu", "warn", f"{ncu}; GPU counters are restricted to admin users",
                              "run as root, or load the driver with NVreg_RestrictProfilingToAdminUsers=0"))
        else:
            permission = "counters readable" if admin_only is False or os.geteuid() == 0 else "counter access unknown"
            rows.append(Check("ncu", "ok", f"{ncu} ({permission})"))
    sanitizer = find_cuda_tool("compute-sanitizer")
    if sanitizer is None:
        rows.append(Check("compute-sanitizer", "missing" if gpu else "skip",
                          "not found" + ("" if gpu else " (GPU only; the CPU runtime uses AddressSanitizer)"),
                          "the CUDA toolkit's compute-sanitizer, for --cudabench-sanitize on a GPU"))
    else:
        rows.append(Check("compute-sanitizer", "ok", sanitizer))
    return rows


def check_seccomp() -> Check:
    from .execution.sandbox import seccomp_available

    if seccomp_available():
        return Check("seccomp", "ok", "the answer's child gets a syscall filter (no processes, files, sockets)")
    return Check("seccomp", "warn", f"not available on {platform.system()} {platform.machine()}: answers run under "
                 "resource limits only", "run the benchmark on Linux x86-64 for the syscall filter")


def landlock_abi() -> int | None:
    """The kernel's Landlock ABI version (landlock_create_ruleset(NULL, 0, VERSION)), or None without Landlock."""
    if platform.system() != "Linux":
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    version = libc.syscall(ctypes.c_long(LANDLOCK_CREATE_RULESET), ctypes.c_void_p(None), ctypes.c_size_t(0),
                           ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return int(version) if version > 0 else None


def check_landlock() -> Check:
    abi = landlock_abi()
    if abi is None:
        return Check("Landlock", "warn", "not available (kernel older than 5.13, or disabled by the LSM list)",
                     "a kernel with Landlock enabled would allow file-system confinement")
    return Check("Landlock", "ok", f"ABI {abi}")


def _reference_evaluation(task, runtime: str, cache_dir: Path, seed: int):
    from .config import Settings
    from .generation.models import GenerationRequest, ReferenceModel
    from .generation.prompts import messages, prompt_hash
    from .pipeline import Evaluation

    settings = Settings(model="reference", seed=seed, cache_dir=str(cache_dir), runtime=runtime, rootdir=".",
                        cases=2)
    evaluation = Evaluation(task, 1, 0, settings)
    msgs = messages(task, 1)
    answer = ReferenceModel().generate(GenerationRequest(task, 1, 0, msgs, prompt_hash(msgs))).content
    evaluation.run(answer)
    return evaluation.result


def find_suite(explicit: str | None) -> Path | None:
    candidates = [Path(explicit)] if explicit else [Path("task_suite"), Path(__file__).resolve().parent.parent /
                                                    "task_suite"]
    return next((c for c in candidates if (c / SMOKE_TASK / "task.toml").is_file()), None)


def check_cpu_smoke(suite: Path | None, cache_dir: Path) -> Check:
    from .tasks.loader import load_task

    if suite is None:
        return Check("CPU-runtime run", "skip", f"no task suite with {SMOKE_TASK} here", "pass --suite PATH")
    start = time.perf_counter()
    try:
        result = _reference_evaluation(load_task(suite / SMOKE_TASK, suite), "cpu", cache_dir, seed=1)
    except (CudabenchError, OSError) as exc:
        return Check("CPU-runtime run", "missing", f"{SMOKE_TASK} failed: {exc}",
                     "fix the rows above (nvcc, CUDA headers, g++) and rerun")
    cases = len((result["stages"].get("execute") or {}).get("cases") or [])
    return Check("CPU-runtime run", "ok", f"{SMOKE_TASK}: compiled, {cases} case(s) correct on the CPU runtime in "
                 f"{time.perf_counter() - start:.1f} s")


def check_gpu_run(suite: Path | None, cache_dir: Path, gpu: bool) -> Check:
    if not gpu:
        return Check("GPU-runtime run", "skip", "no usable GPU: timing and Performance-Scores need one")
    from .execution.runner import gpu_usable
    from .tasks.loader import load_task

    if not gpu_usable():
        return Check("GPU-runtime run", "skip", "a GPU is visible but pycuda is missing", "pip install "
                     "'pytest-cudabench[gpu]'")
    if suite is None:
        return Check("GPU-runtime run", "skip", "no task suite here", "pass --suite PATH")
    parts, spreads = [], []
    try:
        for task_id in GPU_TASKS:
            task = load_task(suite / task_id, suite)
            scores = [_reference_evaluation(task, "gpu", cache_dir, seed=1 + k)["performance_score"] for k in range(2)]
            if None in scores:
                parts.append(f"{task_id}: not scored (no peak figures for this GPU)")
                continue
            spread = abs(scores[0] - scores[1]) / max(1e-12, (scores[0] + scores[1]) / 2)
            spreads.append(spread)
            parts.append(f"{task_id}: {scores[0]:.3f} / {scores[1]:.3f} ({spread:.1%})")
    except StageSkip as exc:
        return Check("GPU-runtime run", "skip", str(exc))
    except (CudabenchError, OSError) as exc:
        return Check("GPU-runtime run", "missing", f"failed: {exc}", "fix the rows above and rerun")
    worst = max(spreads, default=0.0)
    status = "ok" if worst <= 0.10 else "warn"
    fix = "" if status == "ok" else "timings vary: an idle GPU, fixed clocks (nvidia-smi -lgc) make scores steadier"
    return Check("GPU-runtime run", status, "Performance-Score twice each: " + "; ".join(parts), fix)


def run_checks(suite: Path | None, cache_dir: Path, run_tasks: bool = True) -> list[Check]:
    rows = check_nvcc()
    rows.append(check_gxx())
    gpu_row, gpu = check_gpu()
    rows.append(gpu_row)
    rows.append(check_pycuda(gpu))
    rows += check_cuda_tools(gpu)
    rows.append(check_seccomp())
    rows.append(check_landlock())
    if run_tasks:
        rows.append(check_cpu_smoke(suite, cache_dir))
        rows.append(check_gpu_run(suite, cache_dir, gpu))
    else:
        rows.append(Check("CPU-runtime run", "skip", "--no-run"))
        rows.append(Check("GPU-runtime run", "skip", "--no-run"))
    return rows


def usable(rows: list[Check]) -> bool:
    by_name = {r.name: r for r in rows}
    runs = [by_name.get("CPU-runtime run"), by_name.get("GPU-runtime run")]
    if any(r is not None and r.status in ("ok", "warn") for r in runs):
        return True
    return all(by_name[n].status == "ok" for n in ("nvcc", "CUDA headers", "g++") if n in by_name) and \
        all(r is None or r.status == "skip" for r in runs)


def table(rows: list[Check]) -> list[str]:
    width = max(len(r.name) for r in rows)
    lines = [f"{'check':<{width}}  {'status':<7}  found"]
    for r in rows:
        lines.append(f"{r.name:<{width}}  {r.status:<7}  {r.detail}")
        if r.fix and r.status != "ok":
            lines.append(f"{'':<{width}}  {'':<7}  -> {r.fix}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_cudabench doctor",
                                     description="What this machine can do for the benchmark, and what to install.")
    parser.add_argument("--suite", default=None, help=f"task suite holding {SMOKE_TASK} (default: ./task_suite)")
    parser.add_argument("--no-run", action="store_true", help="only look; do not compile or run a task")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cudabench-doctor-") as scratch:
        rows = run_checks(find_suite(args.suite), Path(scratch), run_tasks=not args.no_run)
    ok = usable(rows)
    if args.json:
        print(json.dumps({"usable": ok, "checks": [asdict(r) for r in rows]}, indent=1))
    else:
        print("\n".join(table(rows)))
        print("\nthe benchmark can run here" if ok else "\nthe benchmark cannot run here yet: see the -> lines")
    sys.stdout.flush()
    return 0 if ok else 1
