"""Whole CUDA programs (own main(), host code, file I/O under data/) built by build_cpu_program and really run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pytest_cudabench.execution.cpu_runtime import (
    CpuBuildError,
    CpuRuntimeUnsupported,
    build_cpu_program,
    find_cuda_include,
)

PROGRAMS = Path(__file__).parent / "programs"

pytestmark = pytest.mark.skipif(find_cuda_include() is None, reason="CUDA toolkit headers not found")


def run_program(exe: Path, workdir: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe)], cwd=workdir, capture_output=True, text=True, timeout=timeout)


def run_library(lib: Path, workdir: Path, argv: tuple[str, ...] = ("prog",)) -> subprocess.CompletedProcess:
    """dlopen the library in a fresh Python process (as the sandboxed child does) and call its program main."""
    script = (
        "import ctypes, sys\n"
        f"lib = ctypes.CDLL({str(lib)!r})\n"
        f"argv = {list(argv)!r}\n"
        "arr = (ctypes.c_char_p * (len(argv) + 1))(*[a.encode() for a in argv], None)\n"
        "sys.exit(lib.cudabench_program_main(len(argv), arr))\n"
    )
    return subprocess.run([sys.executable, "-c", script], cwd=workdir, capture_output=True, text=True, timeout=60)


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "data").mkdir()
    return tmp_path


@pytest.mark.parametrize("as_library", [False, True], ids=["executable", "library"])
def test_program_reads_input_runs_kernel_writes_output(workdir, tmp_path_factory, as_library):
    x = np.random.default_rng(1).standard_normal(1000).astype(np.float32)
    x.tofile(workdir / "data" / "x.bin")
    out = tmp_path_factory.mktemp("build") / ("prog.so" if as_library else "prog")
    built = build_cpu_program((PROGRAMS / "scale_io.cu").read_text(), out, as_library=as_library)
    proc = (run_library if as_library else run_program)(built, workdir)
    assert proc.returncode == 0, proc.stderr
    assert "done" in proc.stdout
    np.testing.assert_array_equal(np.fromfile(workdir / "data" / "y.bin", np.float32), 2 * x + 1)


def test_library_main_that_falls_off_its_end_returns_zero_and_argv_is_passed(workdir, tmp_path):
    src = (
        "#include <cstdio>\n"
        "__global__ void k(int* p) { p[threadIdx.x] = threadIdx.x; }\n"
        "int main(int argc, char** argv) {\n"
        "    int* d; cudaMalloc(&d, 32 * sizeof(int)); k<<<1, 32>>>(d);\n"
        "    int h[32]; cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);\n"
        '    printf("%s %d %d\\n", argv[argc - 1], argc, h[31]);\n'
        "    if (argc > 2) return 3;\n"
        "}\n"
    )
    lib = build_cpu_program(src, tmp_path / "p.so", as_library=True)
    proc = run_library(lib, workdir, ("prog", "last"))
    assert (proc.returncode, proc.stdout) == (0, "last 2 31\n"), proc.stderr
    assert run_library(lib, workdir, ("prog", "a", "b")).returncode == 3


def test_program_exit_code_and_kernel_fault_are_seen(workdir, tmp_path):
    src = (
        "#include <cstdio>\n"
        "__global__ void k() { __trap(); }\n"
        "int main() {\n"
        "    k<<<1, 1>>>();\n"
        "    cudaError_t e = cudaDeviceSynchronize();\n"
        '    if (e != cudaSuccess) { fprintf(stderr, "CUDA error: %s\\n", cudaGetErrorString(e)); return 1; }\n'
        "    return 0;\n"
        "}\n"
    )
    proc = run_program(build_cpu_program(src, tmp_path / "p"), workdir)
    assert proc.returncode == 1
    assert "CUDA error: unspecified launch failure" in proc.stderr


def test_program_without_main_is_a_build_error(tmp_path):
    with pytest.raises(CpuBuildError, match="no main"):
        build_cpu_program("__global__ void k() {}\n// int main() {}\n", tmp_path / "p")


def test_unsupported_feature_in_a_program_names_it(tmp_path):
    src = '__global__ void k(int* p) { asm volatile("membar.gl;"); }\nint main() { return 0; }\n'
    with pytest.raises(CpuRuntimeUnsupported, match=r"cannot run on the CPU runtime: inline PTX \(asm\)"):
        build_cpu_program(src, tmp_path / "p")
    assert not (tmp_path / "p").exists()
