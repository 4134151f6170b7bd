"""Whole CUDA programs (own main(), host code, file I/O under data/) built by build_cpu_program and really run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pytest_cudabench.errors import ConfigError
from pytest_cudabench.execution.cpu_runtime import (
    CpuBuildError,
    CpuRuntimeUnsupported,
    build_cpu_program,
)
from pytest_cudabench.source.toolkit import find_cuda_include, find_nvcc

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


def test_cooperative_groups_block_tile_reduce_ballot_and_grid_rank(workdir, tmp_path):
    proc = run_program(build_cpu_program((PROGRAMS / "cg_reduce.cu").read_text(), tmp_path / "cg"), workdir)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")
    n, blocks, threads = 5000, 4, 128
    x = ((np.arange(n) * 37) % 101 - 50).astype(np.float32)
    assert lines[0] == f"sum {x.astype(np.float64).sum():.1f} expect {x.astype(np.float64).sum():.1f} max 50.0"
    # per thread of the grid: its grid-stride partial sum; lane l of block b's first warp votes for v > 0
    v = np.array([x[t::blocks * threads].sum() for t in range(blocks * threads)]).reshape(blocks, threads)
    ballots = [sum(1 << lane for lane in range(32) if v[b, lane] > 0) for b in range(blocks)]
    flags = [int((v[b, :32] > 100).any()) + 2 + 4 for b in range(blocks)]
    ballots16 = [sum(1 << lane for lane in range(16) if v[b, 16 + lane] > 0) for b in range(blocks)]
    sums16 = [int(v[b, 16:32].sum()) % 2**32 for b in range(blocks)]
    assert [int(s) for s in lines[1:1 + 4 * blocks]] == ballots + flags + ballots16 + sums16


def test_grid_sync_and_coalesced_groups_are_refused_by_name(tmp_path):
    grid_sync = (
        "#include <cooperative_groups.h>\nnamespace cg = cooperative_groups;\n"
        "__global__ void k() { cg::grid_group g = cg::this_grid(); g.sync(); }\nint main() { k<<<2, 2>>>(); }\n"
    )
    with pytest.raises(CpuRuntimeUnsupported, match=r"grid-wide synchronisation"):
        build_cpu_program(grid_sync, tmp_path / "p")
    coalesced = grid_sync.replace("cg::grid_group g = cg::this_grid(); g.sync();",
                                  "auto g = cg::coalesced_threads(); g.sync();")
    with pytest.raises(CpuRuntimeUnsupported, match=r"coalesced_group"):
        build_cpu_program(coalesced, tmp_path / "p")


def test_texture_objects_point_linear_normalized_and_fetch(workdir, tmp_path):
    w, h, ow = 13, 7, 17
    img = np.random.default_rng(0).standard_normal((h, w)).astype(np.float32)
    img.tofile(workdir / "data" / "img.bin")
    proc = run_program(build_cpu_program((PROGRAMS / "texture.cu").read_text(), tmp_path / "tex"), workdir)
    assert proc.returncode == 0, proc.stderr

    def read(name, shape):
        return np.fromfile(workdir / "data" / f"{name}.bin", np.float32).reshape(shape)

    cols = np.clip(np.arange(ow) - 1, 0, w - 1)
    np.testing.assert_array_equal(read("point", (h, ow)), img[:, cols])  # clamp: the edge repeats
    # linear: texel centres at +0.5, so (u + 0.25, v + 0.75) weighs columns u-1, u by 0.25, 0.75 and rows v, v+1 by
    # 0.75, 0.25 (with clamping at the edges)
    c0, c1 = np.clip(np.arange(ow) - 2, 0, w - 1), cols
    r0, r1 = np.arange(h), np.clip(np.arange(h) + 1, 0, h - 1)
    t = img.astype(np.float64)
    expect = (0.25 * 0.75 * t[np.ix_(r0, c0)] + 0.75 * 0.75 * t[np.ix_(r0, c1)]
              + 0.25 * 0.25 * t[np.ix_(r1, c0)] + 0.75 * 0.25 * t[np.ix_(r1, c1)])
    np.testing.assert_allclose(read("linear", (h, ow)), expect, rtol=1e-5, atol=1e-6)
    i = np.arange(w * h).reshape(h, w)[:, cols]
    rgba = np.stack([(i % 256) / 255, (3 * i % 256) / 255, np.ones_like(i), np.zeros_like(i)], axis=-1)
    np.testing.assert_allclose(read("rgba", (h, ow, 4)), rgba, rtol=1e-6)
    index = np.arange(h)[:, None] * w + np.arange(ow)[None, :] - 1
    flat = img.reshape(-1)
    fetch = np.where((index >= 0) & (index < w * h), flat[np.clip(index, 0, w * h - 1)], 0)
    np.testing.assert_array_equal(read("fetch", (h, ow)), fetch)


def test_constant_memory_symbol_copies(workdir, tmp_path):
    src = (
        "#include <cstdio>\n"
        "__constant__ float coeffs[4];\n"
        "__constant__ int offset;\n"
        "__device__ float scratch[4];\n"
        "__global__ void k(float* out) {\n"
        "    int i = threadIdx.x;\n"
        "    out[i] = coeffs[i] * 10.0f + offset;\n"
        "    scratch[i] = out[i] + 1.0f;\n"
        "}\n"
        "int main() {\n"
        "    float c[4] = {1, 2, 3, 4}; int off = 5;\n"
        "    cudaMemcpyToSymbol(coeffs, c, sizeof c);\n"
        "    cudaMemcpyToSymbol(offset, &off, sizeof off);\n"
        "    float* d; cudaMalloc(&d, 4 * sizeof(float));\n"
        "    k<<<1, 4>>>(d);\n"
        "    float h[4], s[4], back[4];\n"
        "    cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);\n"
        "    cudaMemcpyFromSymbol(s, scratch, sizeof s);\n"
        "    cudaMemcpyFromSymbol(back, coeffs, 2 * sizeof(float), 2 * sizeof(float));\n"
        '    printf("%g %g %g %g | %g %g | %g %g\\n", h[0], h[1], h[2], h[3], s[0], s[3], back[0], back[1]);\n'
        "    return 0;\n"
        "}\n"
    )
    proc = run_program(build_cpu_program(src, tmp_path / "p"), workdir)
    assert (proc.returncode, proc.stdout) == (0, "15 25 35 45 | 16 46 | 3 4\n"), proc.stderr


def test_a_runtime_function_the_shim_lacks_is_unsupported_by_name(tmp_path):
    src = "int main() { cudaGraph_t g; return (int)cudaGraphCreate(&g, 0); }\n"  # refused by the source pass already
    with pytest.raises(CpuRuntimeUnsupported, match="CUDA graphs"):
        build_cpu_program(src, tmp_path / "p")
    src = "int main() { cudaMemPool_t p; return (int)cudaDeviceGetDefaultMemPool(&p, 0); }\n"
    with pytest.raises(CpuRuntimeUnsupported, match=r"CUDA runtime function cudaDeviceGetDefaultMemPool "):
        build_cpu_program(src, tmp_path / "p")


def _nvcc():
    try:
        return find_nvcc()
    except ConfigError:
        return None


@pytest.mark.skipif(_nvcc() is None, reason="nvcc not found")
@pytest.mark.parametrize("name", sorted(p.stem for p in PROGRAMS.glob("*.cu")))
def test_the_test_programs_are_cuda_that_nvcc_accepts(name, tmp_path):
    """g++ accepts code nvcc rejects: the programs the shim is tested on must be real CUDA."""
    proc = subprocess.run([str(_nvcc()), "-c", str(PROGRAMS / f"{name}.cu"), "-o", str(tmp_path / "p.o")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_pitched_3d_memory(workdir, tmp_path):
    proc = run_program(build_cpu_program((PROGRAMS / "pitched3d.cu").read_text(), tmp_path / "p"), workdir)
    assert (proc.returncode, proc.stdout) == (0, "1 125 14\n"), proc.stderr
