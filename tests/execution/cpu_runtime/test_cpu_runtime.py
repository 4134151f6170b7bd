"""The CPU runtime end to end: real g++ builds of the sample kernels, run through ctypes, checked against numpy."""

from __future__ import annotations

import ctypes
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from pytest_cudabench.errors import CudabenchError
from pytest_cudabench.execution.cpu_runtime import (
    CpuBuildError,
    CpuRuntimeUnsupported,
    build_cpu_library,
    rewrite_source,
    unsupported_features,
)
from pytest_cudabench.source.toolkit import find_cuda_include

KERNELS = Path(__file__).parent / "kernels"
SAMPLES = sorted(p.stem for p in KERNELS.glob("*.cu"))

pytestmark = pytest.mark.skipif(find_cuda_include() is None, reason="CUDA toolkit headers not found")

P = ctypes.c_void_p


class Lib:
    """A built sample: the ctypes handle plus helpers for the harness side of the contract."""

    def __init__(self, path: Path, workers: int = 2, mem_cap: int = 0):
        self.cdll = ctypes.CDLL(str(path))
        self.cdll.cudabench_cpu_error.restype = ctypes.c_char_p
        self.cdll.cudabench_cpu_error_name.restype = ctypes.c_char_p
        self.cdll.cudabench_cpu_configure(workers, ctypes.c_ulonglong(mem_cap))

    def dev(self, array: np.ndarray) -> P:
        """Register ``array`` as device memory and return its pointer."""
        self.cdll.cudabench_cpu_register(P(array.ctypes.data), ctypes.c_ulonglong(array.nbytes))
        return P(array.ctypes.data)

    def error(self) -> tuple[str | None, str | None]:
        msg, name = self.cdll.cudabench_cpu_error(), self.cdll.cudabench_cpu_error_name()
        return (msg.decode() if msg else None), (name.decode() if name else None)

    def reset(self) -> None:
        self.cdll.cudabench_cpu_reset_error()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every sample kernel, built once per module on two threads; a failed build is kept as its exception."""
    out = tmp_path_factory.mktemp("cpu_runtime_libs")

    def build(name):
        try:
            return build_cpu_library((KERNELS / f"{name}.cu").read_text(), out / f"{name}.so")
        except CudabenchError as exc:
            return exc

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(SAMPLES, pool.map(build, SAMPLES), strict=True))


@pytest.fixture
def load(built):
    def _load(name: str, **kw) -> Lib:
        result = built[name]
        if isinstance(result, Exception):
            raise AssertionError(f"building {name}.cu failed: {result}\n{getattr(result, 'log', '')}")
        return Lib(result, **kw)

    return _load


# ---------------------------------------------------------------------------------------------------------------
# Correctness of kernels


@pytest.mark.parametrize("m,n,k", [(37, 45, 29), (16, 16, 16), (1, 1, 1), (64, 80, 48)])
def test_tiled_sgemm(load, m, n, k):
    lib = load("sgemm")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.full((m, n), np.nan, np.float32)
    lib.cdll.solve(lib.dev(a), lib.dev(b), lib.dev(c), m, n, k)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)
    assert lib.error() == (None, None)


@pytest.mark.parametrize("n", [1, 1000, 1 << 20])
@pytest.mark.parametrize("big_blocks", [0, 1])
def test_shuffle_reduction_with_atomic_add(load, n, big_blocks):
    lib = load("reduce")
    x = np.random.default_rng(n).random(n, dtype=np.float32)
    out = np.full(1, np.nan, np.float32)
    lib.cdll.solve(lib.dev(x), lib.dev(out), n, big_blocks)
    assert out[0] == pytest.approx(float(x.astype(np.float64).sum()), rel=1e-4)


def test_shared_memory_atomic_histogram(load):
    lib = load("histogram")
    data = np.random.default_rng(1).integers(0, 1000, 5000, dtype=np.int32)
    hist = np.full(64, 12345, np.uint32)
    lib.cdll.solve(lib.dev(data), lib.dev(hist), data.size)
    np.testing.assert_array_equal(hist, np.bincount(data % 64, minlength=64))


@pytest.mark.parametrize("rows,cols", [(3, 1000), (5, 7), (2, 128)])
def test_softmax_with_extern_shared(load, rows, cols):
    lib = load("softmax")
    x = (np.random.default_rng(2).standard_normal((rows, cols)) * 30).astype(np.float32)
    y = np.full_like(x, np.nan)
    lib.cdll.solve(lib.dev(x), lib.dev(y), rows, cols)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("n", [1, 7, 4096, 1001])
def test_float4_saxpy(load, n):
    lib = load("saxpy4")
    rng = np.random.default_rng(3)
    x = rng.random(n, dtype=np.float32)
    y = rng.random(n, dtype=np.float32)
    expected = 2.5 * x + y
    lib.cdll.solve(n, ctypes.c_float(2.5), lib.dev(x), lib.dev(y))
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def _to_bf16(x: np.ndarray) -> np.ndarray:
    return (x.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)


def test_half_and_bfloat16(load):
    lib = load("halfbf16")
    n = 100
    rng = np.random.default_rng(4)
    a = rng.uniform(-2, 2, n).astype(np.float16)
    b = rng.uniform(-2, 2, n).astype(np.float16)
    c = np.zeros(n, np.float16)
    xf = rng.uniform(-4, 4, n).astype(np.float32)
    x = _to_bf16(xf)
    y = np.zeros(n, np.float32)
    pairs = rng.uniform(-1, 1, n).astype(np.float16)  # n/2 __half2
    before = pairs.copy()
    lib.cdll.solve(*(lib.dev(v) for v in (a, b, c, x, y, pairs)), n)
    np.testing.assert_allclose(c.astype(np.float32), (a * b + a).astype(np.float32) - 0.5, rtol=1e-2, atol=1e-2)
    xb = (x.astype(np.uint32) << 16).view(np.float32)
    np.testing.assert_allclose(y, xb * 2 + np.sqrt(np.abs(a.astype(np.float32))), rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(pairs[: n // 2 * 2].astype(np.float32),
                               before.astype(np.float32) * np.tile([2.0, 3.0], n // 2), rtol=1e-3)


def test_template_kernels_and_namespace_shared(load):
    lib = load("templates")
    n = 300
    d = np.arange(n, dtype=np.float64)
    f = np.arange(n, dtype=np.float32) - 7
    expected_f = f * f
    lib.cdll.solve(lib.dev(d), lib.dev(f), n)
    np.testing.assert_array_equal(d, np.arange(n) * 3.0)
    np.testing.assert_array_equal(f, expected_f)


def test_3d_grid_and_block(load):
    lib = load("grid3d")
    X, Y, Z = 9, 7, 5
    out = np.full((Z, Y, X), -7, np.int32)
    lib.cdll.solve(lib.dev(out), X, Y, Z)
    z, y, x = np.meshgrid(np.arange(Z), np.arange(Y), np.arange(X), indexing="ij")
    np.testing.assert_array_equal(out, x + 100 * y + 10000 * z)


def test_multi_kernel_solve_with_temporary_buffer(load, capfd):
    lib = load("multi")
    n = 1000
    x = np.random.default_rng(5).random(n, dtype=np.float32)
    out = np.zeros(n, np.float32)
    lib.cdll.solve(lib.dev(x), lib.dev(out), n)
    np.testing.assert_allclose(out, 2 * x + 2 * x[::-1], rtol=1e-6)
    assert capfd.readouterr().out == ""
    assert lib.error() == (None, None)


def test_printf_in_kernel(load, capfd):
    lib = load("printf")
    lib.cdll.solve(7)
    lines = sorted(capfd.readouterr().out.splitlines())
    assert lines == [f"hello from block {b} tag 7" for b in range(3)]


@pytest.mark.parametrize("n", [250, 100, 37])
def test_early_return_partial_warps_and_masks(load, n):
    lib = load("divergent")
    x = np.random.default_rng(n).integers(0, 100, n, dtype=np.int32)
    out = np.zeros(n, np.int32)
    blocks = (n + 99) // 100
    counts = np.zeros(blocks, np.int32)
    wout = np.zeros(3 * n, np.int32)
    lib.cdll.solve(lib.dev(x), lib.dev(out), lib.dev(counts), lib.dev(wout), n)
    for blk in range(blocks):
        seg = x[blk * 100:(blk + 1) * 100]
        np.testing.assert_array_equal(out[blk * 100:blk * 100 + seg.size], seg[::-1])
        assert counts[blk] == int((seg % 2 == 0).sum())
    w = wout.reshape(n, 3)
    for i in range(n):
        t = i % 100
        lane, warp_base = t % 32, i - t % 32
        warp_vals = x[warp_base:min(warp_base + 32, (i // 100) * 100 + 100, n)]
        if lane < 16:
            src = i ^ 1
            exp = x[src] if (src - warp_base) < len(warp_vals) else x[i]
        else:
            exp = x[i - 2] if lane % 8 >= 2 else x[i]
        assert w[i, 0] == exp, i
        assert w[i, 1] == int((warp_vals > 50).sum()), i
        assert w[i, 2] == warp_vals[0], i
    assert lib.error() == (None, None)


def test_128k_local_array_on_fiber_stack(load):
    lib = load("bigstack")
    out = np.zeros(128, np.float32)
    lib.cdll.solve(lib.dev(out))
    buf = (np.arange(32768) % 7).astype(np.float32)
    idx = np.arange(0, 32768, 97)
    expected = np.array([(buf[idx] + t).sum() for t in range(64)] * 2, np.float32)
    np.testing.assert_allclose(out, expected, rtol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# Errors: deadlock, trap, assert, bad configurations, memory


def _fault(load, mode):
    lib = load("faults")
    inp = np.full(64, -1.0, np.float32)
    out = np.zeros(256, np.float32)
    t = time.perf_counter()
    code = lib.cdll.solve(mode, lib.dev(inp), lib.dev(out))
    elapsed = time.perf_counter() - t
    msg, name = lib.error()
    lib.reset()
    return code, msg, name, out, elapsed


def test_deadlock_is_reported_not_hung(load):
    code, msg, name, out, elapsed = _fault(load, 0)
    assert elapsed < 5
    assert name == "cudaErrorLaunchFailure"
    assert msg.startswith("deadlock in kernel deadlock: threads of block (")
    assert "__syncthreads (line 7)" in msg and "__syncthreads (line 11)" in msg
    assert code == 719 * 1000 + 719  # sticky: cudaGetLastError and cudaDeviceSynchronize report it
    assert not (out == 42.0).any()  # the launch after the fault was a no-op


def test_trap(load):
    code, msg, name, out, _ = _fault(load, 1)
    assert name == "cudaErrorLaunchFailure"
    assert "__trap() called in kernel trapping, block (1,0,0), thread (5,0,0)" in msg
    assert code == 719 * 1000 + 719


def test_device_assert(load):
    code, msg, name, out, _ = _fault(load, 2)
    assert name == "cudaErrorAssert"
    assert "device-side assert failed" in msg and "in[threadIdx.x] >= 0.0f" in msg and "solution.cu:21" in msg
    assert code == 710 * 1000 + 710


@pytest.mark.parametrize("mode,expected", [(3, "cudaErrorInvalidConfiguration"), (4, "cudaErrorInvalidValue")])
def test_invalid_launch_configuration(load, mode, expected):
    code, msg, name, out, _ = _fault(load, mode)
    assert name == expected
    assert "kernel after" in msg
    first, sync = divmod(code, 1000)
    assert first != 0 and sync == 0  # not sticky, like CUDA: the next launch runs
    assert (out[:64] == 42.0).all()


def test_memory_cap_and_range_checks(load):
    lib = load("memory", mem_cap=32 << 20)
    buf = np.zeros(16, np.float32)
    codes = np.full(9, -1, np.int32)
    lib.cdll.solve(lib.dev(buf), buf.size, lib.dev(codes))
    assert codes[0] == 2  # cudaErrorMemoryAllocation above the cap
    assert list(codes[1:4]) == [0, 0, 0]
    assert codes[4] == 1 and codes[5] == 1  # past the end of a registered buffer; host memory
    assert codes[6] == 0
    assert codes[7] == 2 and codes[8] == 0  # cudaGetLastError reports the first error, then clears it
    np.testing.assert_array_equal(buf[:4], [1, 2, 3, 4])
    assert (buf[4:] == 0).all()


# ---------------------------------------------------------------------------------------------------------------
# Source pass and build errors


def test_unsupported_features_are_refused_before_compiling(tmp_path):
    cases = {
        "#include <cooperative_groups.h>\nnamespace cg = cooperative_groups;\n"
        "__global__ void k() { cg::this_grid().sync(); }\n": "grid-wide synchronisation (cooperative_groups::grid_group::sync)",
        '__global__ void k(int* p) { asm volatile("membar.gl;"); }\n': "inline PTX (asm)",
        "#include <mma.h>\nusing namespace nvcuda;\n__global__ void k() { wmma::fragment<int> f; }\n":
            "tensor cores (wmma/mma)",
        "#include <thrust/device_vector.h>\nvoid f() { thrust::device_vector<float> v(3); }\n": "Thrust",
        # used: an include nothing calls into is dropped before the build (see static_check)
        "#include <cub/cub.cuh>\n__global__ void k(float* o) { cub::WarpReduce<float>::TempStorage t; }\n": "CUB",
        "texture<float, 1> tex;\n__global__ void k(float* o) { o[0] = tex1Dfetch(tex, 0); }\n":
            "legacy texture references (texture<...>)",
        "__global__ void child() {}\n__global__ void parent() { child<<<1, 1>>>(); }\n": "dynamic parallelism",
    }
    for src, feature in cases.items():
        assert feature in unsupported_features(src), src
        with pytest.raises(CpuRuntimeUnsupported) as info:
            build_cpu_library(src, tmp_path / "x.so")
        assert str(info.value).startswith("cannot run on the CPU runtime: ")
        assert feature in str(info.value)
        assert not (tmp_path / "x.so").exists()


def test_mentions_in_comments_and_strings_are_not_features():
    src = (
        "// uses cooperative_groups? no. asm(\"...\") is not used, nor wmma:: or thrust::sort\n"
        "/* #include <cub/cub.cuh>\n   texture<float> t; */\n"
        'const char* s = "asm volatile cooperative_groups::this_grid() thrust::reduce";\n'
        "__global__ void child() {}\n"
        "void host() { child<<<1, 1>>>(); }  // a host launch is fine\n"
        "int asmx = 1; float* texture_ptr;\n"
    )
    assert unsupported_features(src) == []
    assert unsupported_features((KERNELS / "sgemm.cu").read_text()) == []


def test_launch_in_comment_or_string_is_not_rewritten():
    src = (
        '// k<<<1, 2>>>(x);\nconst char* s = "k<<<1, 2>>>(x)";\n'
        "/* k<<<3, 4>>>(y); */\nvoid f(float* x) { k<float, 4><<<dim3(1, 2), 64, 0, 0>>>(x,\n 3); }\n"
    )
    out = rewrite_source(src)
    assert out.startswith('#line 1 "solution.cu"\n')
    body = out.split("\n", 1)[1]
    assert body.count("\n") == src.count("\n")
    assert '// k<<<1, 2>>>(x);\nconst char* s = "k<<<1, 2>>>(x)";\n/* k<<<3, 4>>>(y); */\n' in body
    assert ('::cudabench::Launcher("k < float , 4 >", dim3(1, 2), 64, 0, 0)'
            "([&](auto&&... cb_a_) { k < float , 4 >(cb_a_...); }, x,\n 3)") in body


def test_compile_error_points_at_the_original_line(tmp_path):
    src = (KERNELS / "saxpy4.cu").read_text().replace("float4 yv =", "float4 yv = undefined_name +")
    line = 1 + src.split("\n").index(next(ln for ln in src.split("\n") if "undefined_name" in ln))
    with pytest.raises(CpuBuildError) as info:
        build_cpu_library(src, tmp_path / "bad.so")
    assert f"solution.cu:{line}:" in info.value.log
    assert "undefined_name" in info.value.log
    assert f"solution.cu:{line}" in str(info.value)


def test_missing_library_function_fails_at_link_time(tmp_path):
    src = 'extern "C" int cuInit(unsigned);\nextern "C" void solve() { cuInit(0); }\n'
    with pytest.raises(CpuBuildError) as info:
        build_cpu_library(src, tmp_path / "link.so")
    assert "cuInit" in info.value.log


def test_common_idioms(load):
    lib = load("idioms")
    n = 1000
    x = np.linspace(-3, 3, n).astype(np.float32)
    y = np.zeros(n, np.float32)
    total = np.zeros(1, np.float64)
    lib.cdll.solve.restype = ctypes.c_int
    count = lib.cdll.solve(lib.dev(x), lib.dev(y), lib.dev(total), n)
    r = 1 + x * (-2 + x * (0.5 + x * 0.25))
    assert count == n
    np.testing.assert_allclose(y, np.maximum(r, 0), rtol=1e-6)
    assert total[0] == pytest.approx(float(r.astype(np.float64).sum()), rel=1e-6)


def test_rewrite_corner_cases_run(load):
    lib = load("rewrites")
    n = 100
    a = np.zeros(n, np.int32)
    b = np.zeros(n, np.float32)
    lib.cdll.solve(lib.dev(a), lib.dev(b), n)
    np.testing.assert_array_equal(a, 5 + np.arange(n))
    np.testing.assert_array_equal(b, 2.5 + np.arange(n, dtype=np.float32))
    assert lib.error() == (None, None)


def _libasan() -> str | None:
    import subprocess

    path = subprocess.run(["g++", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    return path if path and Path(path).is_file() else None


@pytest.mark.skipif(_libasan() is None, reason="libasan not available")
def test_sanitize_build_reports_out_of_bounds_write_in_kernel(tmp_path):
    import os
    import subprocess
    import sys

    src = (
        "__global__ void oob(float* a, int n) {\n"
        "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
        "    __syncthreads();\n"
        "    if (i < n) a[i + (i == n - 1 ? 100 : 0)] = 1.0f;\n"
        "}\n"
        'extern "C" void solve(int n) {\n'
        "    float* d;\n"
        "    cudaMalloc(&d, n * sizeof(float));\n"
        "    oob<<<(n + 63) / 64, 64>>>(d, n);\n"
        "    cudaFree(d);\n"
        "}\n"
    )
    so = build_cpu_library(src, tmp_path / "asan.so", sanitize=True)
    script = (f"import ctypes\nlib = ctypes.CDLL({str(so)!r})\nlib.cudabench_cpu_configure(2, 0)\n"
              "lib.solve(500)\nlib.solve(1000)\n")
    env = dict(os.environ, LD_PRELOAD=_libasan(), ASAN_OPTIONS="detect_leaks=0")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "heap-buffer-overflow" in proc.stderr
    assert "in oob(float*, int)" in proc.stderr
