"""CPU runtime speed and per-item harness overhead.

Kernels (built once with g++ against the shim, called in-process through ctypes on numpy buffers registered with
the runtime, as tests/execution/cpu_runtime/ do): a 16x16-tiled shared-memory SGEMM at 256 and 512, a 1M-element sum
reduction (warp shuffles + one atomicAdd per block) and a histogram of 1M ints into 256 bins (shared-memory
atomics). Harness overhead per item, without compile and kernel time: execution.run_cases on basics/vector_add
(prebuilt library) minus the kernel seconds the child reports in its case records (child start, job files, judging),
plus data generation (inputs.make_cases + inputs.expect), timed separately. Medians of several repetitions; the
measurements of one repetition run back to back, so their ratios are taken per repetition (side by side) and then
the median.

Targets: 256x256 tiled SGEMM < 0.2 s; per-item overhead < 100 ms. Exits 1 if a target is missed.

    python benchmarks/bench_cpu_runtime.py [--reps 5] [--workers N] [--items 5] [--cases 5]
"""

from __future__ import annotations

import os
from functools import partial

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy: the numpy side-by-side numbers are single-threaded

import argparse  # noqa: E402
import ctypes  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pytest_cudabench.execution import runner as execution  # noqa: E402
from pytest_cudabench.execution.cpu_runtime import build_cpu_library  # noqa: E402
from pytest_cudabench.source.toolkit import find_cuda_include  # noqa: E402
from pytest_cudabench.tasks import inputs  # noqa: E402
from pytest_cudabench.tasks.loader import load_task  # noqa: E402

TARGET_SGEMM_256_S = 0.2
TARGET_OVERHEAD_S = 0.100

SGEMM = r"""
#include <cuda_runtime.h>
#define TILE 16
__global__ void sgemm_tiled(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                            int M, int N, int K) {
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];
    int row = blockIdx.y * TILE + threadIdx.y, col = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;
    for (int t = 0; t < (K + TILE - 1) / TILE; ++t) {
        int ak = t * TILE + threadIdx.x, bk = t * TILE + threadIdx.y;
        As[threadIdx.y][threadIdx.x] = (row < M && ak < K) ? A[(size_t)row * K + ak] : 0.0f;
        Bs[threadIdx.y][threadIdx.x] = (bk < K && col < N) ? B[(size_t)bk * N + col] : 0.0f;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TILE; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
        __syncthreads();
    }
    if (row < M && col < N) C[(size_t)row * N + col] = acc;
}
extern "C" void solve(const float* A, const float* B, float* C, int M, int N, int K) {
    dim3 block(TILE, TILE), grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
    sgemm_tiled<<<grid, block>>>(A, B, C, M, N, K);
    cudaDeviceSynchronize();
}
"""

REDUCE = r"""
#include <cuda_runtime.h>
__device__ __forceinline__ float warp_sum(float v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffff, v, off);
    return v;
}
__global__ void reduce_sum(const float* __restrict__ x, float* out, int n) {
    __shared__ float warp_sums[8];
    float v = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) v += x[i];
    v = warp_sum(v);
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < blockDim.x / 32 ? warp_sums[lane] : 0.0f;
        v = warp_sum(v);
        if (lane == 0) atomicAdd(out, v);
    }
}
extern "C" void solve(const float* x, float* out, int n) {
    cudaMemset(out, 0, sizeof(float));
    int blocks = (n + 255) / 256;
    reduce_sum<<<blocks, 256>>>(x, out, n);
    cudaDeviceSynchronize();
}
"""

HISTOGRAM = r"""
#include <cuda_runtime.h>
#define NBINS 256
__global__ void histogram(const int* __restrict__ data, unsigned int* hist, int n) {
    __shared__ unsigned int local[NBINS];
    for (int b = threadIdx.x; b < NBINS; b += blockDim.x) local[b] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        atomicAdd(&local[data[i] & (NBINS - 1)], 1u);
    __syncthreads();
    for (int b = threadIdx.x; b < NBINS; b += blockDim.x)
        if (local[b]) atomicAdd(&hist[b], local[b]);
}
extern "C" void solve(const int* data, unsigned int* hist, int n) {
    cudaMemset(hist, 0, NBINS * sizeof(unsigned int));
    histogram<<<(n + 255) / 256, 256>>>(data, hist, n);
    cudaDeviceSynchronize();
}
"""

P = ctypes.c_void_p


class Lib:
    def __init__(self, path: Path, workers: int):
        self.cdll = ctypes.CDLL(str(path), mode=ctypes.RTLD_LOCAL)
        self.cdll.cudabench_cpu_configure.argtypes = [ctypes.c_int, ctypes.c_ulonglong]
        self.cdll.cudabench_cpu_register.argtypes = [ctypes.c_void_p, ctypes.c_ulonglong]
        self.cdll.cudabench_cpu_error.restype = ctypes.c_char_p
        self.cdll.cudabench_cpu_configure(workers, 0)
        self.solve = self.cdll.solve
        self.solve.restype = None

    def dev(self, array: np.ndarray) -> P:
        self.cdll.cudabench_cpu_register(array.ctypes.data, array.nbytes)
        return P(array.ctypes.data)

    def timed(self, *args) -> float:
        start = time.perf_counter()
        self.solve(*args)
        elapsed = time.perf_counter() - start
        error = self.cdll.cudabench_cpu_error()
        if error:
            raise RuntimeError(f"CPU runtime error: {error.decode()}")
        return elapsed


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def build_all(out: Path) -> dict[str, Path]:
    sources = {"sgemm": SGEMM, "reduce": REDUCE, "histogram": HISTOGRAM}
    with ThreadPoolExecutor(2) as pool:
        paths = pool.map(lambda kv: build_cpu_library(kv[1], out / f"{kv[0]}.so"), sources.items())
        return dict(zip(sources, paths, strict=True))


def kernel_benchmarks(libs: dict[str, Path], workers: int, reps: int) -> dict[str, list[float]]:
    """Each repetition runs every kernel (and its numpy counterpart) once, back to back."""
    rng = np.random.default_rng(0)
    sgemm, reduce, hist = (Lib(libs[k], workers) for k in ("sgemm", "reduce", "histogram"))
    mats = {}
    for n in (256, 512):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.full((n, n), np.nan, np.float32)
        mats[n] = (a, b, c, (sgemm.dev(a), sgemm.dev(b), sgemm.dev(c), n, n, n))
    x = rng.random(1 << 20, dtype=np.float32)
    total = np.full(1, np.nan, np.float32)
    red_args = (reduce.dev(x), reduce.dev(total), x.size)
    data = rng.integers(0, 1 << 20, 1 << 20, dtype=np.int32)
    bins = np.full(256, 12345, np.uint32)
    hist_args = (hist.dev(data), hist.dev(bins), data.size)

    # Warm-up and correctness (a benchmark of a wrong kernel measures nothing).
    for a, b, c, args in mats.values():
        sgemm.timed(*args)
        np.testing.assert_allclose(c, a @ b, rtol=1e-3, atol=1e-3)
    reduce.timed(*red_args)
    assert abs(float(total[0]) - float(x.astype(np.float64).sum())) <= 1e-4 * x.size
    hist.timed(*hist_args)
    np.testing.assert_array_equal(bins, np.bincount(data & 255, minlength=256))

    samples: dict[str, list[float]] = {k: [] for k in ("sgemm256", "sgemm512", "reduce", "histogram", "np_sgemm256",
                                                       "np_sgemm512", "np_reduce", "np_histogram")}
    for _ in range(reps):
        for n in (256, 512):
            a, b, _c, args = mats[n]
            samples[f"sgemm{n}"].append(sgemm.timed(*args))
            samples[f"np_sgemm{n}"].append(timed(partial(np.matmul, a, b)))
        samples["reduce"].append(reduce.timed(*red_args))
        samples["np_reduce"].append(timed(lambda: x.sum()))
        samples["histogram"].append(hist.timed(*hist_args))
        samples["np_histogram"].append(timed(lambda: np.bincount(data & 255, minlength=256)))
    return samples


def overhead_benchmark(lib_dir: Path, items: int, cases: int, workers: int) -> dict[str, list[float]]:
    """Per item: run_cases wall time minus the kernel seconds of its case records; data generation apart."""
    suite = REPO / "task_suite"
    task = load_task(suite / "basics" / "vector_add", suite)
    library = build_cpu_library(task.solution_source(), lib_dir / "vector_add.so")
    samples: dict[str, list[float]] = {"datagen": [], "run_cases": [], "kernel": [], "harness": [], "calls": [],
                                       "py_numpy": [], "py_child": []}
    bare = [sys.executable, "-c", "import numpy"]
    child = [sys.executable, "-c", "import pytest_cudabench.execution.child"]
    for item in range(items + 1):  # item 0 warms the page cache and imports; not counted
        start = time.perf_counter()
        item_cases = inputs.make_cases(task, seed=item, count=cases)
        for case in item_cases:
            inputs.expect(task, case)
        datagen = time.perf_counter() - start
        start = time.perf_counter()
        result = execution.run_cases(task, library, "cpu", item_cases, timeout_s=60, workers=workers)
        wall = time.perf_counter() - start
        kernel = sum(sum(record["seconds"]) for record in result.cases)
        if item == 0:
            continue
        samples["datagen"].append(datagen)
        samples["run_cases"].append(wall)
        samples["kernel"].append(kernel)
        samples["harness"].append(wall - kernel)
        samples["calls"].append(float(sum(len(r["seconds"]) for r in result.cases)))
        # Side by side: what a bare interpreter start with numpy, and with the child's imports, costs.
        samples["py_numpy"].append(timed(lambda: subprocess.run(bare, check=True)))
        samples["py_child"].append(timed(lambda: subprocess.run(child, check=True, cwd=REPO)))
    return samples


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of every kernel measurement")
    parser.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)),
                        help="CPU runtime worker threads (default: as the harness, min(4, cores))")
    parser.add_argument("--items", type=int, default=5, help="items (run_cases calls) for the overhead")
    parser.add_argument("--cases", type=int, default=5, help="--cudabench-cases of an item")
    args = parser.parse_args(argv)
    if find_cuda_include() is None:
        print("the CPU runtime needs the CUDA toolkit headers (cuda_runtime.h); none found", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="bench-cpu-runtime-") as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        libs = build_all(out)
        build_s = time.perf_counter() - start
        k = kernel_benchmarks(libs, args.workers, args.reps)
        o = overhead_benchmark(out, args.items, args.cases, args.workers)

    med = {name: statistics.median(v) for name, v in {**k, **o}.items()}
    ratio = lambda a, b: statistics.median(x / y for x, y in zip(k[a], k[b], strict=True))  # noqa: E731
    per_item = statistics.median(h + d for h, d in zip(o["harness"], o["datagen"], strict=True))

    print(f"CPU runtime benchmark: {args.workers} worker(s), {os.cpu_count()} core(s), median of {args.reps} "
          f"repetitions (kernels) / {args.items} items of {args.cases} cases (overhead); "
          f"3 kernels built in {build_s:.1f} s\n")
    print(f"{'kernel':38} {'CPU runtime':>12} {'numpy (1 thr)':>13} {'slowdown':>9}  throughput")
    rows = [
        ("sgemm 16x16 tiles, 256^3", "sgemm256", f"{2 * 256 ** 3 / med['sgemm256'] / 1e9:.2f} GFLOP/s"),
        ("sgemm 16x16 tiles, 512^3", "sgemm512", f"{2 * 512 ** 3 / med['sgemm512'] / 1e9:.2f} GFLOP/s"),
        ("reduction 1M floats (shfl + atomicAdd)", "reduce", f"{(1 << 20) / med['reduce'] / 1e6:.0f} M elem/s"),
        ("histogram 1M ints, 256 bins", "histogram", f"{(1 << 20) / med['histogram'] / 1e6:.0f} M elem/s"),
    ]
    for label, key, throughput in rows:
        print(f"{label:38} {ms(med[key]):>12} {ms(med['np_' + key]):>13} {ratio(key, 'np_' + key):8.0f}x  "
              f"{throughput}")
    print(f"\nsgemm 512 / 256 time ratio (side by side): {ratio('sgemm512', 'sgemm256'):.2f} (work ratio 8)")
    print(f"  numpy  512 / 256 time ratio:              {ratio('np_sgemm512', 'np_sgemm256'):.2f}")

    print(f"\nper-item harness overhead (basics/vector_add, prebuilt library, "
          f"{int(med['calls'])} solve calls per item):")
    print(f"  run_cases wall time           {ms(med['run_cases'])}")
    print(f"  - kernel seconds (child)      {ms(med['kernel'])}")
    print(f"  = child start, I/O, judging   {ms(med['harness'])}")
    print(f"  data generation (make+expect) {ms(med['datagen'])}")
    print(f"  overhead per item             {ms(per_item)}")
    print(f"  side by side: python -c 'import numpy'                   {ms(med['py_numpy'])}")
    print(f"                python -c 'import pytest_cudabench.execution.child'  {ms(med['py_child'])}")
    harness_vs_child = statistics.median(h / c for h, c in zip(o["harness"], o["py_child"], strict=True))
    print(f"                harness / child-import start ratio         {harness_vs_child:9.2f}")
    share = statistics.median(kk / w for kk, w in zip(o["kernel"], o["run_cases"], strict=True))
    print(f"  kernel share of run_cases     {share:.1%}")

    checks = [
        (f"256x256 tiled sgemm < {TARGET_SGEMM_256_S:g} s", med["sgemm256"] < TARGET_SGEMM_256_S,
         f"{med['sgemm256']:.3f} s"),
        (f"per-item overhead < {TARGET_OVERHEAD_S * 1e3:.0f} ms", per_item < TARGET_OVERHEAD_S,
         f"{per_item * 1e3:.1f} ms"),
    ]
    print("\ntargets:")
    for label, ok, value in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label:32} measured {value}")
    return 0 if all(ok for _label, ok, _value in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
