"""The CUDA toolkit locator: where nvcc, the toolkit's other programs, its headers and its runtime library are.

Every lookup searches the same toolkits in one order (toolkit_roots):
1. CUDA_HOME, then CUDA_PATH (a toolkit the user names);
2. the toolkit of the nvcc on PATH (the tool itself on PATH first, for a program such as ncu);
3. the pip wheels (nvidia-cuda-nvcc, nvidia-cuda-runtime, and CUDA 13's nvidia/cu13 layout) on sys.path;
4. /usr/local/cuda, the installers' default.
The compile stage's nvcc, the CPU runtime's headers, the child's libcudart and the sanitizer or profiler therefore
come from one toolkit wherever one is named.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import sys
from pathlib import Path

from ..errors import ConfigError

WHEEL_ROOTS = ("cuda_nvcc", "cuda_runtime", "cu13")  # sys.path/nvidia/<root>: the toolkit's pip wheels
CUDART_NAMES = ("libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0")


def toolkit_roots() -> list[Path]:
    """The candidate toolkit directories (each may hold bin/, include/, lib64/), in the module's order."""
    roots = [Path(os.environ[var]) for var in ("CUDA_HOME", "CUDA_PATH") if os.environ.get(var)]
    nvcc = shutil.which("nvcc")
    if nvcc:  # the real toolkit behind a symlinked nvcc first, then the directory of the link
        roots += [Path(nvcc).resolve().parent.parent, Path(nvcc).parent.parent]
    for entry in sys.path:
        roots += [Path(entry or ".") / "nvidia" / name for name in WHEEL_ROOTS]
    roots.append(Path("/usr/local/cuda"))
    return list(dict.fromkeys(roots))


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_nvcc() -> Path:
    """nvcc of the first toolkit that has one. Raises ConfigError when there is none."""
    found = next((c for c in (root / "bin" / "nvcc" for root in toolkit_roots()) if _executable(c)), None)
    if found is None:
        raise ConfigError("nvcc not found: set CUDA_HOME to a CUDA toolkit, put nvcc on PATH, or "
                          "`pip install pytest-cudabench[nvcc]` for the nvidia-cuda-nvcc wheel")
    return found


def find_cuda_tool(name: str) -> str | None:
    """A toolkit program (`ncu`, `compute-sanitizer`): bin/`name` of each toolkit in order, the program on PATH
    taking the place of PATH's toolkit. None when no toolkit here has it (the nvcc wheel ships neither)."""
    named = [Path(os.environ[var]) for var in ("CUDA_HOME", "CUDA_PATH") if os.environ.get(var)]
    on_path = shutil.which(name)
    candidates = [root / "bin" / name for root in named] + ([Path(on_path)] if on_path else [])
    candidates += [root / "bin" / name for root in toolkit_roots() if root not in named]
    return next((str(c) for c in candidates if _executable(c)), None)


def find_cuda_include() -> Path | None:
    """The include directory of the first toolkit with the runtime's headers (cuda_runtime.h, vector_types.h)."""
    for root in toolkit_roots():
        include = root / "include"
        if (include / "cuda_runtime.h").is_file() and (include / "vector_types.h").is_file():
            return include
    return None


def cudart_candidates() -> list[str]:
    """The CUDA runtime libraries to try, in order: each toolkit's lib64/ and lib/, then what the loader finds by
    name. The kernel child loads the first that loads, so an answer's `libcudart.so.N` dependency binds to the
    toolkit whose nvcc compiled it (no rpath, no LD_LIBRARY_PATH needed)."""
    out = [str(root / lib / name) for root in toolkit_roots() for lib in ("lib64", "lib") for name in CUDART_NAMES]
    found = ctypes.util.find_library("cudart")
    return out + ([found] if found else []) + list(CUDART_NAMES)
