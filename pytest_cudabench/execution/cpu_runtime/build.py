"""Compiling an answer for the CPU runtime: rewrite, then g++ against cuda_shim.h into a shared library."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ...errors import CpuBuildError, CpuRuntimeUnsupported
from ...files import publish_file
from ...source.compiler import compiler_environment
from ...source.compiler_output import own_diagnostics
from ...source.static_check import without_unused_library_includes
from ...source.toolkit import find_cuda_include
from .rewrite import SOURCE_NAME, defines_main, rewrite_source, unsupported_features, uses_shared_memory

__all__ = ["CpuBuildError", "CpuRuntimeUnsupported", "build_cpu_library", "build_cpu_program", "runtime_version",
           "SHIM_HEADER"]

RUNTIME_DIR = Path(__file__).parent
SHIM_HEADER = RUNTIME_DIR / "cuda_shim.h"  # the umbrella of the headers in cuda_shim/

# CUDA headers whose real content is replaced by the shim (which g++ force-includes first).
_STUB_HEADERS = (
    "device_launch_parameters.h", "device_functions.h", "device_atomic_functions.h",
    "sm_20_atomic_functions.h", "sm_32_atomic_functions.h", "sm_35_atomic_functions.h", "sm_60_atomic_functions.h",
    "sm_20_intrinsics.h", "sm_30_intrinsics.h", "sm_32_intrinsics.h", "sm_35_intrinsics.h", "sm_61_intrinsics.h",
    "math_functions.h", "device_double_functions.h", "cuda_device_runtime_api.h",
    "cooperative_groups.h", "cooperative_groups/reduce.h", "cooperative_groups/scan.h", "texture_indirect_functions.h",
)


def build_cpu_library(source: str, out_path: Path, *, sanitize: bool = False, timeout_s: float = 120.0,
                      arch: str | None = None) -> Path:
    """Build ``source`` (a CUDA answer defining ``extern "C" void solve(...)``) into the shared library ``out_path``.
    ``arch`` (nvcc's, e.g. sm_90) sets the launch limits the runtime enforces (shared memory per block).

    Raises CpuRuntimeUnsupported before compiling when the answer uses a feature the runtime cannot run, and
    CpuBuildError when g++ fails (its log refers to the original source lines)."""
    source = without_unused_library_includes(source)  # an unused #include <cub/cub.cuh> need not stop the run
    return _build(rewrite_source(source, SOURCE_NAME), source, Path(out_path), shared=True, sanitize=sanitize,
                  racecheck=uses_shared_memory(source), timeout_s=timeout_s, arch=arch)


def build_cpu_program(source: str, out_path: Path, *, as_library: bool = False, timeout_s: float = 120.0,
                      arch: str | None = None) -> Path:
    """Build a complete CUDA program (its own ``main()``, host code, file I/O) into ``out_path``.

    ``as_library=False``: an executable, run with the data directory as its cwd. ``as_library=True``: a shared
    library whose ``main`` is exported as ``extern "C" int cudabench_program_main(int, char**)`` (returning 0 when
    the program's main falls off its end), for a sandboxed child that dlopens it; it also exports the harness
    interface of cuda_shim.h. Raises CpuRuntimeUnsupported / CpuBuildError as build_cpu_library does."""
    source = without_unused_library_includes(source)
    _refuse_unsupported(source)
    if not defines_main(source):
        raise CpuBuildError("the program defines no main() at namespace scope: a CUDABench program must be complete")
    rewritten = rewrite_source(source, SOURCE_NAME, program_main=as_library)
    # racecheck hooks only where a harness can switch them on (a library); an executable would only pay for them
    return _build(rewritten, source, Path(out_path), shared=as_library, sanitize=False,
                  racecheck=as_library and uses_shared_memory(source), timeout_s=timeout_s, arch=arch)


def runtime_version(root: Path | None = None) -> str:
    """A digest of every file of the runtime's folder (``root``, default this one): the umbrella header and its
    parts in cuda_shim/, the source pass and the compiler flags. Part of the CPU build cache's key, so that a change
    to any of them builds again."""
    root = RUNTIME_DIR if root is None else root
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.relative_to(root).parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")  # a renamed part counts as a change too
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _missing_runtime_functions(log: str, include: Path) -> list[str]:
    """Functions of the CUDA runtime API (declared by the toolkit's cuda_runtime_api.h) that the link could not find:
    the shim lacks them, which is the runtime's limit, not the answer's error."""
    names = sorted(set(re.findall(r"undefined reference to [`'](cuda\w+)", log)))
    if not names:
        return []
    try:
        api = (include / "cuda_runtime_api.h").read_text(errors="replace")
    except OSError:
        return []
    return [n for n in names if re.search(rf"\b{n}\s*\(", api)]


def _refuse_unsupported(source: str) -> None:
    features = unsupported_features(source)
    if features:
        raise CpuRuntimeUnsupported(", ".join(features))


def sm_number(arch: str | None) -> int | None:
    """The compute capability digits of an nvcc architecture (sm_90a -> 90, compute_80 -> 80); None if it has none."""
    found = re.fullmatch(r"(?:sm|compute)_(\d+)[a-z]?", arch or "")
    return int(found[1]) if found else None


def _build(rewritten: str, source: str, out_path: Path, *, shared: bool, sanitize: bool, racecheck: bool,
           timeout_s: float, arch: str | None = None) -> Path:
    """g++ ``rewritten`` (the rewrite of ``source``) against the shim: a shared library or an executable."""
    _refuse_unsupported(source)
    include = find_cuda_include()
    if include is None:
        raise CpuBuildError("the CPU runtime needs the CUDA toolkit headers (cuda_runtime.h, vector_types.h, "
                            "cuda_fp16.h): set CUDA_HOME, put nvcc on PATH or pip install nvidia-cuda-runtime")
    gxx = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("g++")
    if gxx is None:
        raise CpuBuildError("the CPU runtime needs g++ on PATH")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cudabench-cpu-") as tmp:
        tmpdir = Path(tmp)
        stubs = tmpdir / "stubs"
        stubs.mkdir()
        for name in _STUB_HEADERS:
            (stubs / name).parent.mkdir(parents=True, exist_ok=True)
            (stubs / name).write_text("/* provided by the cudabench CPU runtime (cuda_shim.h) */\n")
        src = tmpdir / "solution.cpp"
        src.write_text(rewritten)
        tmp_out = tmpdir / ("lib.so" if shared else "program")
        obj = tmpdir / "solution.o"
        compile_cmd = [gxx, "-std=c++17", "-O2", "-pthread", "-fno-strict-aliasing", "-w",
                       "-I", str(stubs), "-I", str(include), "-include", str(SHIM_HEADER), "-x", "c++", str(src)]
        if shared:
            compile_cmd.append("-fPIC")
        if sm_number(arch) is not None:  # the launch limits of the target architecture (cuda_shim.h)
            compile_cmd.append(f"-DCUDABENCH_SM={sm_number(arch)}")
        if sanitize:
            compile_cmd += ["-fsanitize=address", "-fno-omit-frame-pointer"]
        elif racecheck:
            # racecheck: g++ calls the shim's __tsan_* hooks at every memory access (no ThreadSanitizer runtime is
            # linked; the calls make kernels ~2x slower, so only answers with shared memory get them); line tables
            # let the harness name the lines of a hazard
            compile_cmd += ["-fsanitize=thread", "--param=tsan-instrument-func-entry-exit=0", "-g1"]
        link_cmd = [gxx, *(["-shared"] if shared else []), "-pthread", *(["-fsanitize=address"] if sanitize else []),
                    str(obj), "-o", str(tmp_out), "-Wl,-z,defs", "-Wl,--wrap=__assert_fail", "-lm"]
        log = ""
        for cmd in ([*compile_cmd, "-c", "-o", str(obj)], link_cmd):
            try:
                # A scratch dir under the system temp dir, an allowlisted environment, no stdin (as for nvcc).
                proc = subprocess.run(cmd, cwd=tmpdir, capture_output=True, text=True, timeout=timeout_s,
                                      stdin=subprocess.DEVNULL, env=compiler_environment(tmpdir))
            except subprocess.TimeoutExpired:
                raise CpuBuildError(f"g++ did not finish within {timeout_s:g} s") from None
            # Only diagnostics about the answer's lines: a header's (the shim's included) would echo its lines.
            log += own_diagnostics(proc.stdout + proc.stderr, SOURCE_NAME, str(tmpdir))
            if proc.returncode != 0:
                missing = _missing_runtime_functions(log, include)
                if missing:
                    raise CpuRuntimeUnsupported(f"CUDA runtime function {', '.join(missing)} (not in the CPU runtime)")
                first = next((ln for ln in log.splitlines() if "error" in ln), "see the log")
                raise CpuBuildError(f"g++ could not build the answer for the CPU runtime: {first.strip()}", log)
        publish_file(tmp_out, out_path)
    return out_path
