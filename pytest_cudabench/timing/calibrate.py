"""Measured peaks of the local GPU: achievable DRAM bandwidth and FMA-bound FP32/FP64 FLOP/s.

Datasheet peaks are boost-clock marketing numbers; a measured roofline makes "fraction of peak" honest (a kernel can
reach it). The kernels below are compiled with nvcc into a small shared library, launched through ctypes, and timed
with gpu_timing (CUDA events). Results are cached per GPU name + driver as JSON.

Not measured (kept from the datasheet when the GPU is in gpus.DATASHEET): fp16/bf16/int8 tensor peaks. Reaching
them needs mma/wgmma kernels tuned per architecture (or cuBLAS, which we do not link), and a naive tensor kernel
would understate the peak, which would inflate every score.

Importing this module touches no GPU and needs no nvcc.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ..config import GPU_APIS
from ..errors import CudaError
from ..files import atomic_write, publish_file
from ..source.toolkit import find_nvcc
from . import measure  # the module, not its names: a test stands a fake GPU timeline in for GpuEventBackend
from .gpu_api import (
    ATTR_COMPUTE_CAPABILITY_MAJOR,
    ATTR_COMPUTE_CAPABILITY_MINOR,
    ATTR_MAX_THREADS_PER_MULTIPROCESSOR,
    ATTR_MULTIPROCESSOR_COUNT,
    AnswerRuntime,
    GpuApi,
    open_gpu_api,
)
from .gpus import Peaks, default_arch, gpu_info, lookup_peaks
from .stats import StoppingRule

CACHE_SCHEMA = 1
CHAINS = 8  # independent FMA chains per thread: enough ILP to cover FMA latency at full occupancy

KERNEL_SOURCE = r"""
#include <cuda_runtime.h>
#include <stddef.h>

#define CB_CHAINS 8

// Streaming copy: every byte read once and written once, 16-byte accesses, grid-stride.
__global__ void cb_copy_kernel(const float4* __restrict__ src, float4* __restrict__ dst, size_t n4) {
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += stride) dst[i] = src[i];
}

// CB_CHAINS independent multiply-add chains per thread; x * a + b contracts to one FFMA/DFMA (nvcc's default
// -fmad=true). a and b are kernel arguments so nothing folds; the sum is stored so nothing is dead.
template <typename T>
__global__ void cb_fma_kernel(T* __restrict__ out, int iters, T a, T b) {
    T x[CB_CHAINS];
#pragma unroll
    for (int c = 0; c < CB_CHAINS; ++c) x[c] = (T)(threadIdx.x + c) * (T)1e-3;
#pragma unroll 16
    for (int it = 0; it < iters; ++it) {
#pragma unroll
        for (int c = 0; c < CB_CHAINS; ++c) x[c] = x[c] * a + b;
    }
    T s = (T)0;
#pragma unroll
    for (int c = 0; c < CB_CHAINS; ++c) s += x[c];
    out[(size_t)blockIdx.x * blockDim.x + threadIdx.x] = s;
}

extern "C" {

int cb_chains(void) { return CB_CHAINS; }

int cb_copy(const void* src, void* dst, size_t n_floats, int blocks, int threads) {
    cb_copy_kernel<<<blocks, threads>>>((const float4*)src, (float4*)dst, n_floats / 4);
    return (int)cudaGetLastError();
}

int cb_fma_f32(void* out, int iters, int blocks, int threads) {
    cb_fma_kernel<float><<<blocks, threads>>>((float*)out, iters, 0.999999f, 1e-6f);
    return (int)cudaGetLastError();
}

int cb_fma_f64(void* out, int iters, int blocks, int threads) {
    cb_fma_kernel<double><<<blocks, threads>>>((double*)out, iters, 0.999999, 1e-6);
    return (int)cudaGetLastError();
}

}
"""

LIB_NAME = "libcudabench_calib"


def build_library(out_dir: Path, arch: str | None = None, nvcc: str | None = None) -> Path:
    """Compiles KERNEL_SOURCE into `out_dir/libcudabench_calib-<hash>.so` (reused when present) and returns its path.
    `-cudart shared` so the library binds to the runtime instance gpu_api.load_cudart loaded, whose errors we read."""
    arch = arch or default_arch()
    nvcc = nvcc or str(find_nvcc())  # the compile stage's nvcc (source/toolkit.py)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(f"{KERNEL_SOURCE}\0{arch}".encode()).hexdigest()[:16]
    lib = out_dir / f"{LIB_NAME}-{digest}.so"
    if lib.exists():
        return lib
    src = out_dir / f"{LIB_NAME}-{digest}.cu"
    src.write_text(KERNEL_SOURCE)
    tmp = lib.with_suffix(f".{os.getpid()}.tmp")
    cmd = [nvcc, "-O3", f"-arch={arch}", "-shared", "-Xcompiler", "-fPIC", "-cudart", "shared", "-o", str(tmp), str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"nvcc failed ({' '.join(cmd)}):\n{r.stderr[-4000:]}")
    publish_file(tmp, lib)  # concurrent builders never load a half-written file
    return lib


class KernelLibrary:
    """ctypes wrapper of the built library. Launchers only enqueue (default stream) and raise on launch errors."""

    def __init__(self, path: Path):
        # First, RTLD_GLOBAL: the library's libcudart dependency resolves to this instance, whose errors it returns.
        self.runtime = AnswerRuntime.load()
        self.lib = ctypes.CDLL(str(path))
        vp, i, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
        self.lib.cb_copy.argtypes = [vp, vp, sz, i, i]
        self.lib.cb_fma_f32.argtypes = [vp, i, i, i]
        self.lib.cb_fma_f64.argtypes = [vp, i, i, i]
        for fn in (self.lib.cb_copy, self.lib.cb_fma_f32, self.lib.cb_fma_f64, self.lib.cb_chains):
            fn.restype = i
        self.blocks_copy, self.blocks_fma, self.threads = 1024, 1024, 256

    def configure(self, sms: int, max_threads_per_sm: int) -> None:
        # Full occupancy for the FMA kernel (one wave); many blocks per SM for the grid-stride copy.
        self.blocks_fma = sms * max(1, max_threads_per_sm // self.threads)
        self.blocks_copy = sms * 32

    def _check(self, code: int, what: str) -> None:
        self.runtime.check(code, what)

    def copy(self, src, dst, n_floats: int) -> None:
        self._check(self.lib.cb_copy(src, dst, n_floats, self.blocks_copy, self.threads), "cb_copy")

    def fma(self, precision: str, out, iters: int) -> None:
        fn = self.lib.cb_fma_f32 if precision == "fp32" else self.lib.cb_fma_f64
        self._check(fn(out, iters, self.blocks_fma, self.threads), f"cb_fma_{precision}")

    def fma_flops(self, iters: int) -> float:
        return 2.0 * self.lib.cb_chains() * iters * self.blocks_fma * self.threads


def device_identity(device_index: int = 0, gpu_api: str = "auto", api: GpuApi | None = None) -> dict:
    """{"name", "driver"} of a device: from NVML when available, else from the GPU API (`api` if open; driver as
    the CUDA driver API version, e.g. "cuda-13000")."""
    info = gpu_info(device_index)
    if info and info.get("name"):
        return {"name": info["name"], "driver": info.get("driver") or "unknown"}
    own = api is None
    api = api or open_gpu_api(gpu_api, device_index)
    try:
        return {"name": api.device_name(), "driver": f"cuda-{api.driver_version()}"}
    finally:
        if own:
            api.close()


def _best_time(summary: dict) -> float:
    # Peaks are upper bounds: the fastest sample left after outlier removal, not the median.
    return summary["min_s"]


def _single_event_time(backend, launch) -> float:
    backend.record(1)
    launch()
    backend.record(2)
    backend.synchronize()
    return backend.elapsed_s(1, 2)


def calibrate(device_index: int = 0, *, build_dir: Path | None = None, max_time_s: float = 2.0,
              gpu_api: str = "auto", api: GpuApi | None = None) -> Peaks:
    """Measures DRAM bandwidth (device-to-device copy, bytes read + written) and FP32/FP64 FMA FLOP/s on one GPU.
    Tensor peaks, L2 size fallback: datasheet (see module docstring). Needs a GPU and nvcc. `api`: an open GPU API
    to use (default: `gpu_api` opened on the device)."""
    api = api or open_gpu_api(gpu_api, device_index)
    backend = measure.GpuEventBackend(api)
    ident = device_identity(device_index, api=api)
    tmp = None
    if build_dir is None:
        tmp = tempfile.mkdtemp(prefix="cudabench-calib-")
        build_dir = Path(tmp)
    ptrs: list[int] = []
    try:
        cc = f"sm_{api.attribute(ATTR_COMPUTE_CAPABILITY_MAJOR)}{api.attribute(ATTR_COMPUTE_CAPABILITY_MINOR)}"
        lib = KernelLibrary(build_library(build_dir, arch=cc))
        lib.configure(api.attribute(ATTR_MULTIPROCESSOR_COUNT), api.attribute(ATTR_MAX_THREADS_PER_MULTIPROCESSOR))
        backend.prepare(0)

        def rule():
            return StoppingRule(rel_se_target=0.005, min_samples=10, min_time_s=0.05, max_time_s=max_time_s)

        free, _total = api.mem_get_info()
        # Two buffers far larger than any L2 (so no flush is needed), within a quarter of free memory.
        nbytes = min(1 << 30, free // 4) // 256 * 256
        src, dst = api.alloc(nbytes), api.alloc(nbytes)
        ptrs += [src, dst]
        n = nbytes // 4
        copy = measure.time_callable(lambda: lib.copy(src, dst, n), flush_bytes=0, rule=rule(), backend=backend)
        dram_bw = 2.0 * nbytes / _best_time(copy["events"])

        out = api.alloc(lib.blocks_fma * lib.threads * 8)
        ptrs.append(out)
        flops = {}
        for precision in ("fp32", "fp64"):
            iters = 256
            # One launch first, unmeasured: the first launch of a kernel loads its module (lazy loading, the default
            # since CUDA 12.2) while E1 is already recorded, so its E1 -> E2 can pass 2 ms for a few-microsecond
            # kernel and stop the growth below at 256 iterations, where the launch gap dominates the FLOP rate.
            _single_event_time(backend, partial(lib.fma, precision, out, iters))
            # Grow the work until one launch takes >= 2 ms, so launch overhead and timer resolution are negligible.
            while iters < (1 << 24) and _single_event_time(backend, partial(lib.fma, precision, out, iters)) < 2e-3:
                iters *= 2
            res = measure.time_callable(partial(lib.fma, precision, out, iters), flush_bytes=0, rule=rule(),
                                        backend=backend)
            flops[precision] = lib.fma_flops(iters) / _best_time(res["events"])
        l2 = backend.l2_bytes()
    finally:
        for p in ptrs:
            api.free(p)
        backend.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    sheet = lookup_peaks(ident["name"])
    today = _dt.datetime.now(_dt.UTC).date().isoformat()
    return Peaks(
        name=ident["name"],
        dram_bw=dram_bw,
        fp32=flops["fp32"],
        fp64=flops["fp64"],
        fp16_tensor=sheet.fp16_tensor if sheet else None,
        bf16_tensor=sheet.bf16_tensor if sheet else None,
        int8_tensor=sheet.int8_tensor if sheet else None,
        l2_bytes=l2 or (sheet.l2_bytes if sheet else None),
        source=f"calibrated:{today}",
        measured=("dram_bw", "fp32", "fp64"),
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", text).strip("_") or "unknown"


def cache_path(cache_dir: Path, name: str, driver: str) -> Path:
    return Path(cache_dir) / f"peaks-{_slug(name)}-{_slug(driver)}.json"


def load_or_calibrate(
    cache_dir: Path,
    force: bool = False,
    device_index: int = 0,
    *,
    calibrate_fn: Callable[[int], Peaks] = calibrate,
    identity_fn: Callable[[int], dict] = device_identity,
) -> Peaks:
    """Cached peaks for this GPU + driver, calibrating (and writing the cache) when missing, unreadable or `force`.
    A driver update changes clocks and firmware behaviour, hence the driver in the key.
    File: <cache_dir>/peaks-<name>-<driver>.json = {"schema", "device", "driver", "peaks": Peaks.to_dict()}."""
    ident = identity_fn(device_index)
    path = cache_path(cache_dir, ident["name"], ident["driver"])
    if not force and path.exists():
        try:
            data = json.loads(path.read_text())
            if (
                data.get("schema") == CACHE_SCHEMA
                and data.get("device") == ident["name"]
                and data.get("driver") == ident["driver"]
            ):
                return Peaks.from_dict(data["peaks"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable cache: measure again
    peaks = calibrate_fn(device_index)
    payload = {"schema": CACHE_SCHEMA, "device": ident["name"], "driver": ident["driver"], "peaks": peaks.to_dict()}
    atomic_write(path, json.dumps(payload, indent=2, sort_keys=True))
    return peaks


def calibrate_in_child(device_index: int = 0, timeout_s: float = 600.0, gpu_api: str = "auto") -> Peaks:
    """`calibrate` in a process of its own: the pytest process must not hold a CUDA context (it would keep GPU
    memory for the whole session, and on a GPU in exclusive-process mode lock out the children that run answers)."""
    proc = subprocess.run([sys.executable, "-m", "pytest_cudabench.timing.calibrate", "--device", str(device_index),
                           "--gpu-api", gpu_api], capture_output=True, text=True, timeout=timeout_s)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"calibration failed (exit code {proc.returncode}): {tail[0]}")
    return Peaks.from_dict(json.loads(lines[-1]))


def main(argv: list[str] | None = None) -> int:
    """`python -m pytest_cudabench calibrate [--device N] [--cache-dir DIR]`: measure this GPU's achievable peaks
    and print them as JSON (and cache them, with --cache-dir, where `--cudabench-calibrate` finds them)."""
    parser = argparse.ArgumentParser(prog="python -m pytest_cudabench calibrate",
                                     description="Measure a GPU's achievable DRAM bandwidth and FP32/FP64 FLOP/s.")
    parser.add_argument("--device", type=int, default=0, help="CUDA device index (default 0)")
    parser.add_argument("--cache-dir", help="also write the cache that --cudabench-calibrate reads "
                                            "(<cache-dir>/peaks)")
    parser.add_argument("--gpu-api", default="auto", choices=GPU_APIS, help="the harness's GPU API (default: auto)")
    args = parser.parse_args(argv)

    def calibrate_device(device: int) -> Peaks:
        return calibrate(device, gpu_api=args.gpu_api)

    try:
        if args.cache_dir:
            peaks = load_or_calibrate(Path(args.cache_dir) / "peaks", force=True, device_index=args.device,
                                      calibrate_fn=calibrate_device,
                                      identity_fn=lambda device: device_identity(device, args.gpu_api))
        else:
            peaks = calibrate_device(args.device)
    except (CudaError, OSError) as exc:
        print(f"calibration needs a usable GPU: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(peaks.to_dict(), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
