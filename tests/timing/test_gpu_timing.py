import json
import shutil
import subprocess
import types

import numpy as np
import pytest

from pytest_cudabench.timing import measure as gpu_timing
from pytest_cudabench.timing.measure import time_callable
from pytest_cudabench.timing.policy import MeasurementPolicy
from pytest_cudabench.timing.stats import StoppingRule


class FakeGpu:
    """Test double of the timing backend (there is no GPU on the CI machine): a simulated device timeline.

    Host calls cost `host_op_s` of host time; enqueued work runs on the device timeline after earlier work;
    `synchronize` waits for the device, including work on 'side streams' (`side`) that events do not see."""

    def __init__(self, l2=50 * 2**20, flush_bw=3e12, host_op_s=2e-6, sync_s=5e-6):
        self.t = 0.0  # host clock
        self.gpu = 0.0  # device stream: time at which enqueued work finishes
        self.side = 0.0  # side stream end time
        self.l2, self.flush_bw, self.host_op_s, self.sync_s = l2, flush_bw, host_op_s, sync_s
        self.ev = {}
        self.flushes = 0
        self.prepared = None
        self.closed = False

    def l2_bytes(self):
        return self.l2

    def prepare(self, flush_bytes):
        self.prepared = flush_bytes

    def _enqueue(self, duration):
        self.t += self.host_op_s
        self.gpu = max(self.gpu, self.t) + duration

    def record(self, slot):
        self._enqueue(0.0)
        self.ev[slot] = self.gpu

    def flush(self, value):
        self.flushes += 1
        self._enqueue(self.prepared / self.flush_bw)

    def kernel(self, duration, side=0.0):
        self._enqueue(duration)
        if side:
            self.side = max(self.side, self.t) + side

    def synchronize(self):
        self.t = max(self.t, self.gpu, self.side) + self.sync_s

    def elapsed_s(self, a, b):
        return self.ev[b] - self.ev[a]

    def now(self):
        return self.t

    def close(self):
        self.closed = True


def test_constant_kernel_converges_cold():
    gpu = FakeGpu()
    rule = StoppingRule(min_samples=10, min_time_s=5e-3, max_time_s=1.0)
    r = time_callable(lambda: gpu.kernel(1e-3), rule=rule, backend=gpu, warmup_s=0.025)
    assert r["cold_cache"] and gpu.prepared == 2 * gpu.l2 and r["flush_bytes"] == 2 * gpu.l2
    ev = r["events"]
    assert ev["converged"] and ev["n"] == 10 and ev["median_s"] == pytest.approx(1e-3)
    assert r["wall"]["median_s"] == pytest.approx(1e-3, rel=0.05)
    assert not r["flagged"] and r["disagreement"] < 0.05
    assert not gpu.closed  # a backend passed in is the caller's to close
    json.dumps(r)


def test_warmup_is_by_time():
    gpu = FakeGpu()
    r = time_callable(lambda: gpu.kernel(1e-3), rule=StoppingRule(min_time_s=0), backend=gpu, warmup_s=0.1,
                      flush_bytes=0)
    # Each warm-up sequence takes ~1 ms of simulated time: about 100 of them fill 0.1 s.
    assert 90 <= r["warmup_calls"] <= 101 and r["warmup_s"] >= 0.1
    gpu = FakeGpu()
    r = time_callable(lambda: gpu.kernel(1.0), rule=StoppingRule(min_samples=2, min_time_s=0), backend=gpu)
    assert r["warmup_calls"] == 1  # at least one, even when a single call exceeds the warm-up time


def test_hot_cache_skips_flush():
    gpu = FakeGpu()
    r = time_callable(lambda: gpu.kernel(1e-4), flush_bytes=0, rule=StoppingRule(min_time_s=0), backend=gpu)
    assert r["cold_cache"] is False and gpu.flushes == 0


def test_noisy_kernel_stops_at_time_cap():
    gpu = FakeGpu()
    rng = np.random.default_rng(0)
    rule = StoppingRule(rel_se_target=1e-4, min_samples=10, min_time_s=0.01, max_time_s=0.5)
    r = time_callable(lambda: gpu.kernel(1e-3 * rng.lognormal(0, 0.5)), rule=rule, backend=gpu)
    ev = r["events"]
    assert not ev["converged"] and 0.5 <= ev["elapsed_s"] < 0.52
    # The cap counts flush and overhead time too, so fewer than 0.5 s / 1 ms samples fit.
    assert 200 < ev["n_raw"] < 500


def test_side_stream_work_is_flagged():
    gpu = FakeGpu()
    # The launch enqueues 1 us on the timed stream and hides 2 ms of work elsewhere.
    r = time_callable(lambda: gpu.kernel(1e-6, side=2e-3), rule=StoppingRule(min_time_s=0), backend=gpu)
    assert r["events"]["median_s"] == pytest.approx(1e-6)
    assert r["wall"]["median_s"] > 1e-3
    assert r["flagged"] and r["disagreement"] > 0.9 and "outside the timed stream" in r["flag_reasons"][0]


def test_throttle_from_monitor_is_flagged():
    gpu = FakeGpu()
    snaps = iter([
        {"throttle_reasons": [], "sm_clock_mhz": 1980, "sm_clock_max_mhz": 1980},
        {"throttle_reasons": ["sw_thermal_slowdown"], "sm_clock_mhz": 1400, "sm_clock_max_mhz": 1980},
    ])
    r = time_callable(lambda: gpu.kernel(1e-3), rule=StoppingRule(min_time_s=0), backend=gpu,
                      monitor=lambda: next(snaps))
    assert r["flagged"] and "sw_thermal_slowdown" in r["throttle"]


def test_importing_the_timing_modules_tries_no_gpu_api_and_loads_no_cuda_library():
    # Importing must neither try a GPU API (cuda-bindings, pycuda) nor load libcudart or libcuda; only creating the
    # real backend's API does. An import finder sees every attempt, also one guarded by `except ImportError` or of an
    # API that is not installed here, so this fails on any machine.
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "tried = []\n"
        "class Watch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('cuda', 'pycuda'):\n"
        "            tried.append(name)\n"
        "sys.meta_path.insert(0, Watch())\n"
        "import pytest_cudabench.timing.measure, pytest_cudabench.execution.child\n"
        "maps = open('/proc/self/maps').read() if sys.platform == 'linux' else ''\n"
        "print(sorted(set(tried)), sorted({lib for lib in ('libcudart', 'libcuda.so') if lib in maps}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[] []", out.stdout + out.stderr


@pytest.mark.gpu
def test_real_copy_kernel_timing(tmp_path):
    if not shutil.which("nvcc"):
        pytest.skip("needs nvcc")
    from pytest_cudabench.timing import calibrate
    from pytest_cudabench.timing.gpu_api import open_gpu_api

    api = open_gpu_api()
    backend = gpu_timing.GpuEventBackend(api)
    lib = calibrate.KernelLibrary(calibrate.build_library(tmp_path))
    n = 1 << 26  # 64 Mi floats = 256 MiB per buffer
    src, dst = api.alloc(4 * n), api.alloc(4 * n)
    try:
        r = time_callable(lambda: lib.copy(src, dst, n), rule=StoppingRule(max_time_s=2.0), backend=backend)
    finally:
        api.free(src)
        api.free(dst)
        backend.close()
        api.close()
    bw = 2 * 4 * n / r["events"]["median_s"]
    assert 1e10 < bw < 2e13, bw  # between 10 GB/s and 20 TB/s: a real copy was timed
    assert not r["flagged"], r["flag_reasons"]


# ---------------------------------------------------------------- calibrate.py (kept here: it is timed by gpu_timing)

from pytest_cudabench.timing import calibrate as calib  # noqa: E402
from pytest_cudabench.timing.gpus import Peaks, lookup_peaks  # noqa: E402


def _fake_peaks(name="NVIDIA H100 80GB HBM3"):
    sheet = lookup_peaks(name)
    return Peaks(name=name, dram_bw=3.0e12, fp32=51e12, fp64=26e12, fp16_tensor=sheet.fp16_tensor,
                 l2_bytes=sheet.l2_bytes, source="calibrated:2026-01-01", measured=("dram_bw", "fp32", "fp64"))


def test_calibration_cache_round_trip(tmp_path):
    calls = []
    ident = {"name": "NVIDIA H100 80GB HBM3", "driver": "570.86.15"}

    def fake_calibrate(index):
        calls.append(index)
        return _fake_peaks()

    kw = dict(calibrate_fn=fake_calibrate, identity_fn=lambda i: ident)
    first = calib.load_or_calibrate(tmp_path, **kw)
    path = calib.cache_path(tmp_path, ident["name"], ident["driver"])
    assert path.name == "peaks-NVIDIA_H100_80GB_HBM3-570.86.15.json" and path.exists()
    data = json.loads(path.read_text())
    assert data["schema"] == calib.CACHE_SCHEMA and data["peaks"]["dram_bw"] == 3.0e12
    second = calib.load_or_calibrate(tmp_path, **kw)
    assert second == first and calls == [0]  # read from the cache
    calib.load_or_calibrate(tmp_path, force=True, **kw)
    assert calls == [0, 0]
    ident["driver"] = "580.1"  # a driver update means a new calibration
    calib.load_or_calibrate(tmp_path, **kw)
    assert len(calls) == 3
    path.write_text("{not json")
    ident["driver"] = "570.86.15"
    assert calib.load_or_calibrate(tmp_path, **kw) == first and len(calls) == 4
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.skipif(not shutil.which("nvcc"), reason="needs nvcc")
def test_calibration_kernels_compile(tmp_path):
    lib = calib.build_library(tmp_path, arch="sm_80")
    assert lib.exists() and lib.suffix == ".so"
    assert calib.build_library(tmp_path, arch="sm_80") == lib  # cached by source + arch
    syms = subprocess.run(["nm", "-D", "--defined-only", str(lib)], capture_output=True, text=True).stdout
    for sym in ("cb_copy", "cb_fma_f32", "cb_fma_f64", "cb_chains"):
        assert f" T {sym}\n" in syms


@pytest.mark.gpu
def test_real_calibration(tmp_path):
    peaks = calib.calibrate(0, build_dir=tmp_path, max_time_s=1.0)
    assert peaks.source.startswith("calibrated:") and peaks.dram_bw > 1e10 and peaks.fp32 > peaks.fp64 / 100
    sheet = lookup_peaks(peaks.name)
    if sheet:  # measured peaks cannot beat the datasheet by much
        assert peaks.dram_bw < 1.1 * sheet.dram_bw and peaks.fp32 < 1.1 * sheet.fp32


def test_calibration_discards_the_first_fma_launch(tmp_path, monkeypatch):
    """The first launch of each FMA kernel loads its module (lazy loading) after E1 is recorded: measured, that
    launch passes the 2 ms mark at 256 iterations and the FLOP rate is taken where the launch gap dominates."""
    gpu = FakeGpu()
    gpu.attribute = lambda attr: {16: 100, 39: 2048}.get(attr, 0)  # SMs, threads per SM
    peak = {"fp32": 60e12, "fp64": 30e12}

    class FakeLib:
        def __init__(self, path):
            self.threads, self.blocks_fma, self.blocks_copy, self.loaded = 256, 1, 1, set()

        def configure(self, sms, threads_per_sm):
            self.blocks_fma = sms * (threads_per_sm // self.threads)

        def copy(self, src, dst, n):
            gpu.kernel(2 * 4 * n / 3e12)

        def fma(self, precision, out, iters):
            if precision not in self.loaded:  # module load on the host, between E1 and the kernel
                self.loaded.add(precision)
                gpu.t += 3e-3
            gpu.kernel(self.fma_flops(iters) / peak[precision])

        def fma_flops(self, iters):
            return 2.0 * 8 * iters * self.blocks_fma * self.threads

    class FakeApi:  # the device memory calibrate asks for; the timeline is FakeGpu's
        device = 0
        attribute = staticmethod(gpu.attribute)

        def mem_get_info(self):
            return 8 << 30, 16 << 30

        def alloc(self, nbytes):
            return 4096

        def free(self, pointer):
            pass

    monkeypatch.setattr(gpu_timing, "GpuEventBackend", lambda api: gpu)
    monkeypatch.setattr(calib, "device_identity", lambda index, api=None: {"name": "NVIDIA H100 80GB HBM3",
                                                                           "driver": "x"})
    monkeypatch.setattr(calib, "build_library", lambda out_dir, arch=None: tmp_path / "unused.so")
    monkeypatch.setattr(calib, "KernelLibrary", FakeLib)
    peaks = calib.calibrate(0, build_dir=tmp_path, max_time_s=0.3, api=FakeApi())
    assert peaks.fp32 == pytest.approx(60e12, rel=0.01) and peaks.fp64 == pytest.approx(30e12, rel=0.01)
    assert peaks.dram_bw == pytest.approx(3e12, rel=0.01) and gpu.closed


# ---------------------------------------------------------------- child.time_scales (the GPU child's timing loop)

from pytest_cudabench.execution import child  # noqa: E402


class FakeDevice:
    """Stands in for child.GpuBackend: device buffers as bytearrays; check_error reports a queued error once (like
    cudaGetLastError, reading it clears it)."""

    def __init__(self):
        self.mem, self.errors = {}, []

    def allocate(self, key, nbytes):
        return self.mem.setdefault(key, bytearray(nbytes))

    def release(self, key):
        self.mem.pop(key)

    def fill(self, buffer, byte):
        buffer[:] = bytes([byte]) * len(buffer)

    def upload(self, buffer, data):
        buffer[:] = bytes(data)

    def reset(self, buffer, byte):
        self.fill(buffer, byte)

    def copy(self, dst, src):
        dst[:] = src

    def download(self, buffer):
        return bytes(buffer)

    def pointer(self, buffer):
        return buffer

    def check_error(self):
        return self.errors.pop(0) if self.errors else None


def _axpy_job(n=8):
    job = {"args": [{"name": "x", "role": "input", "dtype": "float32"},
                    {"name": "y", "role": "inout", "dtype": "float32"},
                    {"name": "alpha", "role": "scalar", "dtype": "float32"},
                    {"name": "n", "role": "scalar", "dtype": "int32"}],
           "sentinels": [0xFF, 0x7B], "timing": {"scales": [{"n": n}], "policy": MeasurementPolicy(cap_s=0.05).to_dict()}}
    x, y = np.arange(n, dtype=np.float32), np.ones(n, dtype=np.float32)
    case = types.SimpleNamespace(arrays={"x": x, "y": y}, scalars={"alpha": 2.5, "n": n})
    return job, case


def test_time_scales_checks_one_call_on_the_inputs_not_the_drift_of_the_timing_loop():
    """An inout buffer after N timed calls holds N updates (axpy: y0 + N*a*x), and the task's solution is timed for
    another N: the outputs the parent compares must be those of one call on the benchmark inputs."""
    job, case = _axpy_job()
    device, gpu, calls, events, results = FakeDevice(), FakeGpu(), [], [], {}

    def solve(x, y, alpha, n):
        calls.append(1)
        yv = np.frombuffer(y, np.float32, n)
        yv += alpha * np.frombuffer(x, np.float32, n)
        gpu.kernel(1e-4)

    child.time_scales(job, device, solve, results, lambda **m: events.append(m), gpu, lambda k, input_set=0: case)
    assert len(calls) > 3
    expected = case.arrays["y"] + np.float32(2.5) * case.arrays["x"]
    assert np.array_equal(np.frombuffer(results["bench0:y"], np.float32), expected)
    assert [e["event"] for e in events] == ["time", "timing-start", "timing-end", "timed"] and not device.mem


def test_time_scales_reports_an_error_raised_during_timing():
    job, case = _axpy_job()
    device, gpu, calls, events, results = FakeDevice(), FakeGpu(), [], [], {}

    def solve(*args):
        calls.append(1)
        gpu.kernel(1e-4)

    device.errors.append("cudaErrorInvalidConfiguration: invalid configuration argument")
    child.time_scales(job, device, solve, results, lambda **m: events.append(m), gpu, lambda k, input_set=0: case)
    assert events[-1]["event"] == "error" and "cudaErrorInvalidConfiguration" in events[-1]["message"]
    assert "bench0:y" not in results
