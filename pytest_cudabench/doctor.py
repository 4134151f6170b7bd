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
import importlib.metadata
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import GPU_APIS, Settings
from .errors import ConfigError, CudabenchError, StageSkip
from .execution.runner import gpu_unusable_reason
from .execution.sandbox import seccomp_available
from .generation.models import ReferenceModel
from .generation.prompts import first_request
from .pipeline import Evaluation
from .source.compiler import nvcc_version
from .source.toolkit import find_cuda_include, find_cuda_tool, find_nvcc
from .tasks.loader import load_task
from .timing.gpu_api import (
    INSTALL,
    AnswerRuntime,
    bindings_driver_mismatch,
    cuda_version_text,
    installed_gpu_apis,
    open_gpu_api,
    why_not,
)
from .timing.gpus import detect_cuda_devices, gpu_info

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


def check_gpu_api(gpu: bool) -> Check:
    """The GPU API the GPU runtime would use (and why not the other); with a GPU, started once on it."""
    installed = installed_gpu_apis()
    if not installed:
        return Check("GPU API", "missing" if gpu else "skip",
                     "neither cuda-bindings nor pycuda is installed" + ("" if gpu else " (needed only with a GPU)"),
                     INSTALL["cuda-bindings"])
    chosen = installed[0]
    others = "; ".join(why_not(name, installed, chosen) for name in GPU_APIS[1:] if name != chosen)
    detail = f"{chosen} {_distribution_version(chosen)} (auto takes cuda-bindings first; {others})"
    if not gpu:
        return Check("GPU API", "ok", detail)
    try:
        api = open_gpu_api(chosen)
    except CudabenchError as exc:
        return Check("GPU API", "missing", f"{detail}; it cannot start: {exc}", "see the cause above")
    try:
        detail += f"; started on {api.device_name()}"
        hint = bindings_driver_mismatch(_distribution_version(chosen), api.driver_version()) \
            if chosen == "cuda-bindings" else ""
    finally:
        api.close()
    return Check("GPU API", "warn" if hint else "ok", detail, hint)


def _distribution_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def driver_cuda_version() -> tuple[int | None, str]:
    """The CUDA version the driver supports (12040 = 12.4) and where it was read: the driver's own report through
    the CUDA runtime (cudaDriverGetVersion, 0 without a driver), else nvidia-smi's header."""
    try:
        driver, _runtime = AnswerRuntime.load().versions()
        if driver:
            return driver, "cudaDriverGetVersion"
    except CudabenchError:
        pass
    out = _run(["nvidia-smi"]) if shutil.which("nvidia-smi") else None
    found = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", out or "")
    if found:
        return int(found[1]) * 1000 + int(found[2]) * 10, "nvidia-smi"
    return None, ""


def toolkit_cuda_version() -> int | None:
    """nvcc's CUDA version (13000 = 13.0), or None without nvcc."""
    try:
        text = nvcc_version(str(find_nvcc()))
    except (ConfigError, OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"cuda_(\d+)\.(\d+)", text) or re.search(r"release (\d+)\.(\d+)", text)
    return int(found[1]) * 1000 + int(found[2]) * 10 if found else None


def compare_driver_toolkit(driver: int | None, toolkit: int | None, source: str = "") -> Check:
    """Whether answers nvcc builds can start on this driver: a toolkit of a newer CUDA major version than the
    driver's cannot (cudaErrorInsufficientDriver); a newer minor one runs by minor-version compatibility."""
    v = cuda_version_text  # short, for the messages below
    name = "driver / toolkit"
    if toolkit is None:
        return Check(name, "skip", "no nvcc: nothing to compare with the driver")
    if driver is None:
        return Check(name, "skip", f"nvcc is CUDA {v(toolkit)}; no NVIDIA driver to compare it with")
    found = f"driver supports CUDA {v(driver)} ({source or 'driver'}), nvcc is CUDA {v(toolkit)}"
    pip_nvcc = f"nvidia-cuda-nvcc-cu{driver // 1000}" if driver // 1000 < 13 else "nvidia-cuda-nvcc"
    older = (f"update the NVIDIA driver to one for CUDA {v(toolkit)} or newer, or build with a toolkit no newer "
             f"than CUDA {v(driver)} (CUDA_HOME, or pip install '{pip_nvcc}')")
    if toolkit // 1000 > driver // 1000:
        return Check(name, "missing", f"{found}: answers built by this nvcc cannot start on this driver "
                     "(cudaErrorInsufficientDriver)", older)
    if toolkit > driver:
        return Check(name, "warn", f"{found}: runs by minor-version compatibility (no PTX JIT of newer features)",
                     older)
    return Check(name, "ok", found)


def _profiling_admin_only() -> bool | None:
    """The driver's NVreg_RestrictProfilingToAdminUsers, as /proc/driver/nvidia/params shows it; None without."""
    try:
        text = Path("/proc/driver/nvidia/params").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("RmProfilingAdminOnly:"):
            return line.split(":", 1)[1].strip() == "1"
    return None


CAP_SYS_ADMIN = 21  # capability bit (linux/capability.h)


def has_capability(bit: int, status_text: str | None = None) -> bool | None:
    """Whether this process holds a capability (its CapEff mask in /proc/self/status), or None where unknown."""
    if status_text is None:
        try:
            status_text = Path("/proc/self/status").read_text()
        except OSError:
            return None
    found = re.search(r"^CapEff:\s*([0-9a-fA-F]+)", status_text, re.MULTILINE)
    return bool(int(found[1], 16) >> bit & 1) if found else None


def ncu_counter_access(admin_only: bool | None, cap_sys_admin: bool | None) -> tuple[str, str, str]:
    """(status, what was found, what to do) of GPU counter access for ncu. With the driver's profiling restricted
    to admin users, the driver asks for CAP_SYS_ADMIN, which root in a container usually lacks."""
    fix = ("load the driver with NVreg_RestrictProfilingToAdminUsers=0, or run with CAP_SYS_ADMIN (a container: "
           "--cap-add SYS_ADMIN)")
    if admin_only is False:
        return "ok", "counters readable by every user (RmProfilingAdminOnly: 0)", ""
    if cap_sys_admin:
        return "ok", "counters readable: this process holds CAP_SYS_ADMIN", ""
    if admin_only:
        return ("warn", "GPU counters are restricted to admin users and this process lacks CAP_SYS_ADMIN (ncu "
                "would fail with ERR_NVGPUCTRPERM, as root in a container without it does)", fix)
    return "warn", "counter access unknown (no /proc/driver/nvidia/params) and no CAP_SYS_ADMIN", fix


def check_cuda_tools(gpu: bool) -> list[Check]:
    rows = []
    ncu = find_cuda_tool("ncu")
    if ncu is None:
        rows.append(Check("ncu", "missing" if gpu else "skip", "not found" + ("" if gpu else " (GPU only)"),
                          "Nsight Compute from the CUDA toolkit, for --cudabench-perf=ncu"))
    else:
        status, found, fix = ncu_counter_access(_profiling_admin_only(), has_capability(CAP_SYS_ADMIN))
        if not gpu:
            status, fix = "ok", ""  # nothing to profile here: counter access matters only with a GPU
        rows.append(Check("ncu", status, f"{ncu}; {found}", fix))
    sanitizer = find_cuda_tool("compute-sanitizer")
    if sanitizer is None:
        rows.append(Check("compute-sanitizer", "missing" if gpu else "skip",
                          "not found" + ("" if gpu else " (GPU only; the CPU runtime uses AddressSanitizer)"),
                          "the CUDA toolkit's compute-sanitizer, for --cudabench-sanitize on a GPU"))
    else:
        rows.append(Check("compute-sanitizer", "ok", sanitizer))
    return rows


def check_seccomp() -> Check:
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
    settings = Settings(model="reference", seed=seed, cache_dir=str(cache_dir), runtime=runtime, rootdir=".",
                        cases=2)
    evaluation = Evaluation(task, 1, 0, settings)
    answer = ReferenceModel().generate(first_request(task, 1)).content
    evaluation.run(answer)
    return evaluation.result


def find_suite(explicit: str | None) -> Path | None:
    candidates = [Path(explicit)] if explicit else [Path("task_suite"), Path(__file__).resolve().parent.parent /
                                                    "task_suite"]
    return next((c for c in candidates if (c / SMOKE_TASK / "task.toml").is_file()), None)


def check_cpu_smoke(suite: Path | None, cache_dir: Path) -> Check:
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

    reason = gpu_unusable_reason()
    if reason:
        return Check("GPU-runtime run", "skip", f"a GPU is visible but the GPU runtime cannot run: {reason}",
                     "fix the rows above")
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
    rows.append(check_gpu_api(gpu))
    rows.append(compare_driver_toolkit(*_driver_and_toolkit()))
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


def _driver_and_toolkit() -> tuple[int | None, int | None, str]:
    driver, source = driver_cuda_version()
    return driver, toolkit_cuda_version(), source


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
