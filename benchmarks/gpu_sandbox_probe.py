"""What the kernel child's sandbox lets the CUDA driver do after the filter, probed on a GPU machine.

Each kind of work an answer (or the harness) may start after the filter runs in a fresh child: the CUDA runtime
started and warmed up as the harness does it (context, allocation, memset, copies both ways, an event), then the
child confined as the GPU runtime's kernel child is (`landlock`: Landlock over /dev/nvidia* plus read-only hardware
descriptions, seccomp letting opens through; `strict`: the CPU runtime's filter, opening anything kills), then the
work. One line per kind and confinement: `ok`, `SIGSYS` (the filter killed it), or the CUDA error. The host callback
opens a file on the driver's thread: SIGSYS under `strict` shows seccomp's TSYNC reaching that thread; under
`landlock` the line says whether Landlock refused it (only from ABI 8, which binds every thread; hence the static
check refuses host callbacks in answers).

    python benchmarks/gpu_sandbox_probe.py [--json OUT]

Without a GPU (no CUDA device or no runtime) it says "no GPU" and exits 0. Kernels (a plain launch, device printf)
are built with nvcc when it is found; those lines are skipped otherwise.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

KINDS = ("pageable-copy", "device-copy", "stream", "pinned-memory", "async-pool", "graph", "launch", "printf",
         "host-callback")
KERNELS = r"""
#include <cstdio>
__global__ void plain(int* x) { x[threadIdx.x] = threadIdx.x; }
__global__ void talk() { if (threadIdx.x == 0) printf("probe printf\n"); }
extern "C" int probe_launch(int* x) { plain<<<1, 32>>>(x); return (int)cudaDeviceSynchronize(); }
extern "C" int probe_printf() { talk<<<1, 32>>>(); return (int)cudaDeviceSynchronize(); }
"""
HOST_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def child(kind: str, mode: str, kernels: str) -> int:
    from pytest_cudabench.execution import landlock, sandbox
    from pytest_cudabench.timing.gpu_api import load_cudart

    rt = load_cudart()
    vp, sz = ctypes.c_void_p, ctypes.c_size_t
    check = lambda code, what: code == 0 or sys.exit(f"{what}: CUDA error {code}")  # noqa: E731
    # the harness's warm-up: context, device memory, memset, copies both ways, an event
    check(rt.cudaFree(None), "cudaFree(0)")
    device, other = vp(), vp()
    check(rt.cudaMalloc(ctypes.byref(device), sz(1 << 20)), "cudaMalloc")
    check(rt.cudaMalloc(ctypes.byref(other), sz(1 << 20)), "cudaMalloc")
    check(rt.cudaMemsetAsync(device, 0, sz(1 << 20), None), "cudaMemsetAsync")
    host = ctypes.create_string_buffer(1 << 20)
    check(rt.cudaMemcpy(device, host, sz(1 << 20), 1), "cudaMemcpy H2D")
    check(rt.cudaMemcpy(host, device, sz(1 << 20), 2), "cudaMemcpy D2H")
    event = vp()
    check(rt.cudaEventCreate(ctypes.byref(event)), "cudaEventCreate")
    check(rt.cudaEventRecord(event, None), "cudaEventRecord")
    check(rt.cudaDeviceSynchronize(), "cudaDeviceSynchronize")
    library = ctypes.CDLL(kernels) if kernels else None
    devices = landlock.gpu_device_paths()
    confinement = sandbox.Confinement(seccomp=True, landlock_devices=tuple(devices) if mode == "landlock" else None)
    print("confined:", sandbox.confine(confinement), flush=True)

    stream, graph, instance, pinned, pooled = vp(), vp(), vp(), vp(), vp()
    if kind == "pageable-copy":
        big = ctypes.create_string_buffer(64 << 20)  # larger than any staging buffer the warm-up used
        check(rt.cudaMemcpy(device, big, sz(1 << 20), 1), "cudaMemcpy H2D")
    elif kind == "device-copy":
        check(rt.cudaMemcpy(other, device, sz(1 << 20), 3), "cudaMemcpy D2D")
    elif kind == "stream":
        check(rt.cudaStreamCreate(ctypes.byref(stream)), "cudaStreamCreate")
        check(rt.cudaMemsetAsync(device, 1, sz(1 << 20), stream), "cudaMemsetAsync on a stream")
    elif kind == "pinned-memory":
        check(rt.cudaMallocHost(ctypes.byref(pinned), sz(64 << 20)), "cudaMallocHost")
        check(rt.cudaMemcpy(pinned, device, sz(1 << 20), 2), "cudaMemcpy D2H pinned")
    elif kind == "async-pool":
        check(rt.cudaMallocAsync(ctypes.byref(pooled), sz(64 << 20), None), "cudaMallocAsync")
        check(rt.cudaFreeAsync(pooled, None), "cudaFreeAsync")
    elif kind == "graph":
        check(rt.cudaStreamCreate(ctypes.byref(stream)), "cudaStreamCreate")
        check(rt.cudaStreamBeginCapture(stream, 0), "cudaStreamBeginCapture")
        check(rt.cudaMemsetAsync(device, 2, sz(1 << 20), stream), "cudaMemsetAsync (captured)")
        check(rt.cudaStreamEndCapture(stream, ctypes.byref(graph)), "cudaStreamEndCapture")
        check(rt.cudaGraphInstantiate(ctypes.byref(instance), graph, ctypes.c_ulonglong(0)), "cudaGraphInstantiate")
        check(rt.cudaGraphLaunch(instance, stream), "cudaGraphLaunch")
    elif kind in ("launch", "printf"):
        if library is None:
            print("skipped: no nvcc")
            return 0
        code = library.probe_launch(device) if kind == "launch" else library.probe_printf()
        check(code, kind)
    elif kind == "host-callback":
        opened = []

        def touch(_):  # runs on the driver's thread
            try:
                os.close(os.open("/etc/hostname", os.O_RDONLY))
                opened.append("the callback opened a file")
            except OSError as exc:
                opened.append(f"the callback was refused ({exc.strerror})")

        callback = HOST_FN(touch)
        check(rt.cudaLaunchHostFunc(None, callback, None), "cudaLaunchHostFunc")
        check(rt.cudaDeviceSynchronize(), "cudaDeviceSynchronize")
        print(f"ok: {opened[0] if opened else 'the callback did not run'}", flush=True)
        return 0
    check(rt.cudaDeviceSynchronize(), "cudaDeviceSynchronize")
    print("ok", flush=True)
    return 0


def build_kernels(directory: Path) -> str:
    try:
        from pytest_cudabench.source.compiler import compile_library
        from pytest_cudabench.timing.gpus import default_arch

        return str(compile_library(KERNELS, cache_dir=directory, arch=default_arch()).library)
    except Exception as exc:  # noqa: BLE001  (the kernel lines are skipped)
        print(f"kernels not built ({exc}); launch and printf are skipped")
        return ""


def gpu_present() -> str | None:
    """None when a CUDA device answers, else why not."""
    try:
        from pytest_cudabench.timing.gpu_api import load_cudart

        rt = load_cudart()
    except Exception as exc:  # noqa: BLE001
        return f"no CUDA runtime ({exc})"
    count = ctypes.c_int(0)
    code = rt.cudaGetDeviceCount(ctypes.byref(count))
    return None if code == 0 and count.value > 0 else f"no CUDA device (cudaGetDeviceCount: {code})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "MODE", "KERNELS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    missing = gpu_present()
    if missing:
        print(f"no GPU: {missing}")
        return 0
    results = {}
    with tempfile.TemporaryDirectory(prefix="cudabench-probe-") as scratch:
        kernels = build_kernels(Path(scratch))
        env = {**os.environ, "CUDA_MODULE_LOADING": "EAGER"}  # as the harness starts its child
        for mode in ("landlock", "strict"):
            for kind in KINDS:
                try:
                    done = subprocess.run([sys.executable, __file__, "--child", kind, mode, kernels], env=env,
                                          capture_output=True, text=True, timeout=120)
                    if done.returncode < 0:
                        outcome = signal.Signals(-done.returncode).name
                    elif done.returncode:
                        outcome = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
                    else:
                        outcome = done.stdout.strip().splitlines()[-1]
                except subprocess.TimeoutExpired:
                    outcome = "timed out"
                results[f"{mode}/{kind}"] = outcome
                print(f"{mode:8} {kind:14} {outcome}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
