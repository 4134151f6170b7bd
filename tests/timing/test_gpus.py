import json
import sys
import types

import pytest
from helpers.paths import SUITE

from pytest_cudabench.tasks.loader import load_task
from pytest_cudabench.timing import gpus
from pytest_cudabench.timing.gpus import (
    DEFAULT_ARCH,
    Peaks,
    decode_throttle,
    default_arch,
    detect_cuda_devices,
    gpu_info,
    lookup_peaks,
    throttled,
)


@pytest.mark.parametrize(
    "name, key",
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM"),
        ("NVIDIA H100 PCIe", "H100 PCIe"),
        ("NVIDIA H200", "H200 SXM"),
        ("NVIDIA A100-SXM4-80GB", "A100 SXM 80GB"),
        ("NVIDIA A100-SXM4-40GB", "A100 SXM 40GB"),
        ("NVIDIA A100-PCIE-40GB", "A100 PCIe 40GB"),
        ("NVIDIA A100 80GB PCIe", "A100 PCIe 80GB"),
        ("Tesla V100-SXM2-32GB", "V100 SXM2"),
        ("Tesla V100-PCIE-16GB", "V100 PCIe"),
        ("Tesla T4", "T4"),
        ("NVIDIA A10", "A10"),
        ("NVIDIA L4", "L4"),
        ("NVIDIA L40S", "L40S"),
        ("NVIDIA GeForce RTX 4090", "RTX 4090"),
        ("NVIDIA GeForce RTX 3090", "RTX 3090"),
    ],
)
def test_lookup_known(name, key):
    p = lookup_peaks(name)
    assert p is not None and p.name == key and p.source == f"datasheet:{key}"


@pytest.mark.parametrize(
    "name", ["NVIDIA A10G", "NVIDIA L40", "NVIDIA H100 NVL", "NVIDIA GeForce RTX 3090 Ti", "NVIDIA GeForce RTX 4090 D", "Radeon"]
)
def test_lookup_unknown_or_variant(name):
    assert lookup_peaks(name) is None


def test_datasheet_values_from_notes():
    h100 = lookup_peaks("NVIDIA H100 80GB HBM3")
    assert h100.fp32 == 67e12 and h100.fp16_tensor == 989e12 and h100.dram_bw == 3350e9
    assert h100.l2_bytes == 50 * 2**20
    assert lookup_peaks("NVIDIA H200").dram_bw == 4800e9
    assert lookup_peaks("NVIDIA A100-SXM4-80GB").dram_bw == 2039e9
    assert lookup_peaks("Tesla V100-SXM2-16GB").bf16_tensor is None  # Volta has no bf16 tensor cores
    assert h100.flops("int") == h100.fp32
    assert h100.flops_by_class()["int8_tensor"] == 1979e12 and set(h100.flops_by_class()) == set(gpus.PRECISION_CLASSES)
    with pytest.raises(KeyError):
        h100.flops("fp8")


def test_peaks_round_trip_json():
    p = lookup_peaks("NVIDIA L40S").with_source("calibrated:2026-01-01", fp32=80e12, measured=("fp32",))
    d = json.loads(json.dumps(p.to_dict()))
    assert Peaks.from_dict(d) == p
    assert Peaks.from_dict({**d, "future_key": 1}) == p


def test_no_gpu_here(monkeypatch):
    monkeypatch.setattr(gpus, "_nvml", lambda: None)
    monkeypatch.setattr(gpus.shutil, "which", lambda exe: None)
    assert gpu_info() is None
    assert detect_cuda_devices() == 0
    assert default_arch() == DEFAULT_ARCH == "sm_80"


def test_decode_and_throttled():
    assert decode_throttle(0x1 | 0x40) == ["gpu_idle", "hw_thermal_slowdown"]
    ok = {"throttle_reasons": ["gpu_idle"], "sm_clock_mhz": 345, "sm_clock_max_mhz": 1980}
    assert throttled(ok, ok) is None  # idle clock drop is not throttling
    hot = {"throttle_reasons": ["hw_thermal_slowdown"], "sm_clock_mhz": 1980, "sm_clock_max_mhz": 1980}
    assert "hw_thermal_slowdown (after)" in throttled(ok, hot)
    slow = {"throttle_reasons": [], "sm_clock_mhz": 1000, "sm_clock_max_mhz": 1980}
    assert "sm clock" in throttled(slow, None)
    assert throttled(None, None) is None


class _FakeNvml(types.ModuleType):
    """Stands in for pynvml (no GPU on the CI machine); mirrors the calls gpu_info makes."""

    NVML_CLOCK_SM, NVML_CLOCK_MEM, NVML_TEMPERATURE_GPU = 1, 2, 0

    def __init__(self):
        super().__init__("pynvml")

    def nvmlInit(self): ...
    def nvmlDeviceGetCount(self): return 2
    def nvmlDeviceGetHandleByIndex(self, i): return ("h", i)
    def nvmlDeviceGetName(self, h): return b"NVIDIA H100 80GB HBM3"
    def nvmlSystemGetDriverVersion(self): return "570.86.15"
    def nvmlDeviceGetCudaComputeCapability(self, h): return (9, 0)
    def nvmlDeviceGetClockInfo(self, h, c): return 1755 if c == 1 else 2619
    def nvmlDeviceGetMaxClockInfo(self, h, c): return 1980 if c == 1 else 2619
    def nvmlDeviceGetDefaultApplicationsClock(self, h, c): raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
    def nvmlDeviceGetTemperature(self, h, s): return 41
    def nvmlDeviceGetPowerUsage(self, h): return 123456
    def nvmlDeviceGetCurrentClocksEventReasons(self, h): return 0x1
    def nvmlDeviceGetMemoryInfo(self, h): return types.SimpleNamespace(total=80 * 2**30)


def test_gpu_info_with_fake_nvml(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _FakeNvml())
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    info = gpu_info(0)
    assert info["name"] == "NVIDIA H100 80GB HBM3" and info["compute_capability"] == "9.0"
    assert info["sm_clock_default_mhz"] is None and info["throttle_reasons"] == ["gpu_idle"]
    assert info["power_w"] == pytest.approx(123.456) and info["l2_bytes"] == 50 * 2**20
    json.dumps(info)
    assert detect_cuda_devices() == 2
    assert default_arch() == "sm_90"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert detect_cuda_devices() == 1
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert detect_cuda_devices() == 0


class _OldDriverNvml(_FakeNvml):
    """A new nvidia-ml-py on a driver older than the ClocksEventReasons name: the binding has the function, but it
    resolves the symbol in libnvidia-ml when called and raises NVMLError_FunctionNotFound."""

    def nvmlDeviceGetCurrentClocksEventReasons(self, h): raise RuntimeError("NVML_ERROR_FUNCTION_NOT_FOUND")
    def nvmlDeviceGetCurrentClocksThrottleReasons(self, h): return 0x40


def test_throttle_reasons_fall_back_to_the_old_nvml_name(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _OldDriverNvml())
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    info = gpu_info(0)
    assert info["throttle_mask"] == 0x40 and info["throttle_reasons"] == ["hw_thermal_slowdown"]


def fake_nvidia_smi(bin_dir, compute_cap: str):
    """A stand-in nvidia-smi on PATH that lists one GPU of the given compute capability (no NVML here)."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "nvidia-smi"
    script.write_text("#!/bin/sh\ncase \"$*\" in\n"
                      "  -L) echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)';;\n"
                      f"  *compute_cap*) echo '{compute_cap}';;\n"
                      "esac\n")
    script.chmod(0o755)


def test_answers_compile_for_the_gpu_present_unless_told(tmp_path, monkeypatch):
    """Regression: every answer compiled for sm_80 whatever the GPU, unless --cudabench-arch was given."""
    from pytest_cudabench.config import Settings
    from pytest_cudabench.pipeline import Evaluation

    monkeypatch.setattr(gpus, "_nvml", lambda: None)
    fake_nvidia_smi(tmp_path / "bin", "9.0")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{__import__('os').environ['PATH']}")
    gpus.gpu_arch.cache_clear()
    try:
        suite = SUITE
        task = load_task(suite / "basics" / "vector_add", suite)
        assert Evaluation(task, 1, 0, Settings(model="reference", runtime="cpu")).arch == "sm_90"
        assert Evaluation(task, 1, 0, Settings(model="reference", arch="sm_86", runtime="cpu")).arch == "sm_86"
    finally:
        gpus.gpu_arch.cache_clear()


def test_calibration_kernels_build_with_the_compile_stages_nvcc(tmp_path, monkeypatch):
    """Regression: calibration ran a bare `nvcc`, failing where only CUDA_HOME (or the wheel) provides it."""
    from pytest_cudabench.source.toolkit import find_nvcc
    from pytest_cudabench.timing.calibrate import build_library

    nvcc = find_nvcc().resolve()
    monkeypatch.setenv("CUDA_HOME", str(nvcc.parent.parent))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no nvcc on PATH
    library = build_library(tmp_path, arch="sm_80")
    assert library.is_file() and library.stat().st_size > 0
