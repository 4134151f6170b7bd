"""The compile stage: nvcc builds the answer into a shared library, with a timeout and a cache.

The cache key covers the source, the flags and nvcc's version, so a rerun skips unchanged builds and a toolkit
upgrade rebuilds everything. nvcc runs in a fresh scratch directory under the system temp dir holding only the
answer (never inside the project, whose files a relative path would reach), with an allowlisted environment and
stdin closed; only the library and the verdict are published into the cache. Its output keeps only diagnostics
about the answer's own lines (compiler_output).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import parse_arch
from ..errors import ConfigError, StageFailure
from ..files import atomic_write
from . import build_handover
from .compiler_output import own_diagnostics
from .static_check import reads_files_when_assembled
from .toolkit import find_nvcc

# Without a device: A100's sm_80 (bf16, cp.async), a common baseline that CUDA 12 and 13 both target and that runs
# on any later GPU through its PTX. With one, answers compile for its own architecture (timing.gpus.gpu_arch).
DEFAULT_ARCH = "sm_80"
SOURCE_NAME = "answer.cu"
LIBRARY_NAME = "libanswer.so"
BASE_FLAGS = ("-O3", "-std=c++17", "-shared", "-Xcompiler", "-fPIC", "-cudart", "shared",
              "-Xlinker", "-z,defs", "-lineinfo", "--keep",  # --keep: the host source as the assembler gets it
              # CUB/Thrust headers pull in NVTX, whose injection loader imports dlopen/dlsym: without this an
              # unused `#include <cub/cub.cuh>` would be rejected as dynamic loading.
              "-DCCCL_DISABLE_NVTX", "-DNVTX_DISABLE")
# What a compiler may see of the parent's environment; everything else (secrets, CPATH, NVCC_APPEND_FLAGS, ...)
# stays out. HOME and TMPDIR point at the scratch dir.
COMPILER_ENV = ("PATH", "CUDA_HOME", "CUDA_PATH", "LD_LIBRARY_PATH")


@dataclass(frozen=True)
class CompileResult:
    library: str  # path of the shared library
    log: str  # compiler output (warnings)
    command: list[str]
    duration_s: float
    cached: bool
    key: str

    def to_dict(self) -> dict:
        return asdict(self)


@functools.cache
def nvcc_version(nvcc: str) -> str:
    out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=60)
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    return lines[-1] if lines else "unknown"


def nvcc_flags(arch: str, extra: tuple[str, ...] = ()) -> list[str]:
    parse_arch("--cudabench-arch", arch)
    return [*BASE_FLAGS, f"-arch={arch}", *extra]


def check_arch(arch: str, cache_dir: Path, timeout_s: float = 120.0) -> None:
    """nvcc accepts `-arch=arch`, found by compiling an empty kernel for it once per nvcc version and value (the
    verdict is cached under `cache_dir`/arch). ConfigError naming the value and nvcc's message if it does not:
    otherwise every answer of the run would fail to compile, counted as the model's fault. Nothing to check without
    nvcc (the compile stage says it is missing)."""
    try:
        nvcc = str(find_nvcc())
    except ConfigError:
        return
    key = hashlib.sha256(json.dumps([arch, nvcc_version(nvcc)]).encode()).hexdigest()[:24]
    verdict_path = Path(cache_dir) / "arch" / f"{key}.json"
    try:
        verdict = json.loads(verdict_path.read_text())
    except (OSError, ValueError):
        verdict = None
    if not isinstance(verdict, dict):
        scratch = Path(tempfile.mkdtemp(prefix="cudabench-arch-"))
        try:
            (scratch / "probe.cu").write_text("__global__ void probe() {}\n")
            try:
                proc = subprocess.run([nvcc, f"-arch={arch}", "-c", "probe.cu", "-o", "probe.o"], cwd=scratch,
                                      capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL,
                                      env=compiler_environment(scratch))
            except subprocess.TimeoutExpired:
                return  # says nothing about the value: the compile stage judges
            lines = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
            verdict = {"ok": proc.returncode == 0, "message": "; ".join(lines[:3])}
            atomic_write(verdict_path, json.dumps(verdict))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if not verdict.get("ok"):
        raise ConfigError(f"--cudabench-arch={arch}: nvcc ({nvcc_version(nvcc)}) rejects this architecture: "
                          f"{verdict.get('message') or 'no message'}; choose one it supports (nvcc "
                          "--list-gpu-arch lists them), e.g. sm_80 or sm_90")


def compiler_environment(scratch: Path) -> dict[str, str]:
    """The whole environment of nvcc or g++: PATH and the toolkit location from ours, the rest fixed."""
    env = {k: os.environ[k] for k in COMPILER_ENV if os.environ.get(k)}
    env.update(HOME=str(scratch), TMPDIR=str(scratch), LANG="C", LC_ALL="C")
    env.setdefault("PATH", os.defpath)
    return env


def compile_key(source: str, arch: str, extra_flags: tuple[str, ...] = ()) -> str:
    """The cache key of a build: the source, the flags and nvcc's version."""
    nvcc = str(find_nvcc())
    return hashlib.sha256(json.dumps([source, nvcc_flags(arch, extra_flags), nvcc_version(nvcc)]).encode()
                          ).hexdigest()[:24]


def has_cached_verdict(cache_dir: Path, key: str) -> bool:
    """Whether the build of `key` left a verdict in the cache (a timeout leaves none: it is retried)."""
    return (Path(cache_dir) / "compile" / key / "result.json").is_file()


# nvcc processes started by this process (cache hits do not count): tests see builds are not duplicated
nvcc_runs = 0


def compile_library(source: str, *, cache_dir: Path, arch: str = DEFAULT_ARCH, extra_flags: tuple[str, ...] = (),
                    timeout_s: float = 180.0) -> CompileResult:
    """Compiles `source` to a shared library; raises StageFailure('compile') with the compiler's errors.
    A build compile-ahead ran for this very key is handed over as if it ran here (compile_ahead.py)."""
    global nvcc_runs
    nvcc = str(find_nvcc())
    flags = nvcc_flags(arch, extra_flags)
    key = compile_key(source, arch, extra_flags)
    ahead = build_handover.take(key)
    if isinstance(ahead, (CompileResult, StageFailure)):
        if isinstance(ahead, StageFailure):
            raise StageFailure(ahead.stage, ahead.message, ahead.details)
        return ahead
    entry = Path(cache_dir) / "compile" / key
    meta_path = entry / "result.json"
    if meta_path.is_file() and (entry / LIBRARY_NAME).is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("ok"):
            return CompileResult(library=str(entry / LIBRARY_NAME), log=meta["log"], command=meta["command"],
                                 duration_s=meta["duration_s"], cached=True, key=key)
        raise StageFailure("compile", meta["message"], meta["log"])

    entry.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="cudabench-nvcc-"))  # the system temp dir, outside the project
    try:
        (scratch / SOURCE_NAME).write_text(source)
        command = [nvcc, *flags, "-o", LIBRARY_NAME, SOURCE_NAME]
        start = time.perf_counter()
        definite = True
        nvcc_runs += 1
        try:
            proc = subprocess.run(command, cwd=scratch, capture_output=True, text=True, timeout=timeout_s,
                                  stdin=subprocess.DEVNULL, env=compiler_environment(scratch))
            log = own_diagnostics((proc.stdout + proc.stderr).strip(), SOURCE_NAME, str(scratch))
            ok = proc.returncode == 0
            message = "" if ok else summarize_errors(log, proc.returncode)
            if ok:
                ok, message = _host_source_verdict(scratch)
        except subprocess.TimeoutExpired:
            ok, log, message = False, "", f"nvcc did not finish within {timeout_s:.0f} s"
            definite = False
        duration = time.perf_counter() - start
        # A timeout may be the machine's load, not the answer: cache only definite verdicts.
        if definite:
            meta = {"ok": ok, "log": log, "message": message, "command": command, "duration_s": duration}
            staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=entry.parent))
            if ok:
                shutil.copy2(scratch / LIBRARY_NAME, staging / LIBRARY_NAME)
            (staging / "result.json").write_text(json.dumps(meta))
            _publish(staging, entry)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not ok:
        raise StageFailure("compile", message, log)
    return CompileResult(library=str(entry / LIBRARY_NAME), log=log, command=command, duration_s=duration,
                         cached=False, key=key)


def _host_source_verdict(scratch: Path) -> tuple[bool, str]:
    """The static check's file-access rule applied to the host code after macro expansion (nvcc's kept
    preprocessed sources), which no lexical check of the answer can fully see (token pasting, stringizing)."""
    kept = sorted(scratch.glob("*.ii"))
    if not kept:
        return False, ("nvcc kept no preprocessed host source (*.ii) to check; this toolkit's --keep output is "
                       "not understood: report it to the pytest-cudabench maintainers")
    if any(reads_files_when_assembled(path.read_text(errors="replace")) for path in kept):
        return False, ("the answer's host code, once preprocessed, holds an assembler file directive "
                       "(.incbin/.include), which reads a file at compile time; not allowed in an answer")
    return True, ""


def _publish(work: Path, entry: Path) -> None:
    """Moves a finished build into place atomically; a concurrent identical build may have won the race."""
    try:
        os.replace(work, entry)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)


_ERROR_LINE = re.compile(r"^(?P<file>[^\s(]+)\((?P<line>\d+)\): (?P<kind>error|catastrophic error)", re.MULTILINE)


def summarize_errors(log: str, returncode: int) -> str:
    """The first compiler errors, with line numbers, as a short message."""
    errors = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if _ERROR_LINE.match(line) or ": error:" in line or line.startswith("error"):
            errors.append(line.strip())
            # nvcc prints the offending source line and a caret after the message
            errors.extend(s.rstrip() for s in lines[i + 1:i + 3] if s.startswith(" "))
        if len(errors) >= 12:
            break
    count = sum(1 for line in lines if _ERROR_LINE.match(line) or ": error:" in line)
    head = f"nvcc failed (exit {returncode}) with {count} error(s)" if count else f"nvcc failed (exit {returncode})"
    body = "\n".join(errors) if errors else "\n".join(lines[-15:])
    return f"{head}:\n{body}"


