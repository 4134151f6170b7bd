"""GPU facts: datasheet peaks, name matching, NVML state (clocks, temperature, throttling) and device detection.

Nothing here initialises CUDA: NVML (package nvidia-ml-py, module `pynvml`) and `nvidia-smi` are read-only views of
the driver, so the parent pytest process can call them before it forks workers. Every entry point returns None / 0 /
a stated default when there is no driver, as on a CPU-only machine.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field, fields, replace
from typing import cast

from ..results import PeaksRecord
from ..source.compiler import DEFAULT_ARCH

# Precision classes a task's work can be counted in. "int" has no datasheet figure: we use the FP32 rate as a proxy
# because since Volta INT32 and FP32 instructions issue at the same per-SM rate (Ampere/Ada consumer parts run INT32
# on half of the FP32 lanes, so the proxy is optimistic there, which only makes the score stricter).
PRECISION_CLASSES = ("fp32", "fp64", "fp16_tensor", "bf16_tensor", "int8_tensor", "int")

T = 1e12
GB = 1e9
MiB = 1 << 20


@dataclass(frozen=True)
class Peaks:
    """Peak rates of one GPU. FLOP/s per precision class (dense, boost clock; None = unknown or unsupported),
    DRAM bandwidth in bytes/s, L2 size in bytes. `source` is "datasheet:<name>" or "calibrated:<ISO date>";
    `measured` lists the fields a calibration measured (the others came from the datasheet, if any)."""

    name: str
    dram_bw: float
    fp32: float | None = None
    fp64: float | None = None
    fp16_tensor: float | None = None
    bf16_tensor: float | None = None
    int8_tensor: float | None = None  # int8 ops/s
    l2_bytes: int | None = None
    source: str = ""
    measured: tuple[str, ...] = field(default=())

    def flops(self, precision: str) -> float | None:
        """Peak rate for a precision class; "int" uses the fp32 figure (see PRECISION_CLASSES)."""
        if precision not in PRECISION_CLASSES:
            raise KeyError(f"unknown precision class {precision!r}; expected one of {PRECISION_CLASSES}")
        return self.fp32 if precision == "int" else getattr(self, precision)

    def flops_by_class(self) -> dict[str, float | None]:
        return {p: self.flops(p) for p in PRECISION_CLASSES}

    def to_dict(self) -> PeaksRecord:
        # From the fields themselves, so a new field reaches the report (PeaksRecord documents them)
        return cast(PeaksRecord, {**asdict(self), "measured": list(self.measured)})

    @classmethod
    def from_dict(cls, d: dict) -> Peaks:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        kwargs["measured"] = tuple(kwargs.get("measured", ()))
        return cls(**kwargs)

    def with_source(self, source: str, **changes) -> Peaks:
        return replace(self, source=source, **changes)


def _p(name, fp32, fp64, fp16, bf16, int8, bw_gbs, l2_mib) -> Peaks:
    return Peaks(
        name=name,
        dram_bw=bw_gbs * GB,
        fp32=fp32 * T,
        fp64=None if fp64 is None else fp64 * T,
        fp16_tensor=None if fp16 is None else fp16 * T,
        bf16_tensor=None if bf16 is None else bf16 * T,
        int8_tensor=None if int8 is None else int8 * T,
        l2_bytes=int(l2_mib * MiB),
        source=f"datasheet:{name}",
    )


# Dense tensor figures (datasheets often print the 2:4-sparse number, twice these). GeForce tensor figures are with
# FP32 accumulate. FP64 for GA10x/AD10x parts is not on their datasheets: it is the architectural 1/64 FP32 rate
# (1/32 for Turing's T4). TFLOP/s (TOPS for int8), GB/s, MiB.
DATASHEET: dict[str, Peaks] = {
    p.name: p
    for p in (
        #  name              fp32   fp64   fp16   bf16   int8    GB/s   L2
        _p("V100 SXM2", 15.7, 7.8, 125, None, None, 900, 6),
        _p("V100 PCIe", 14.0, 7.0, 112, None, None, 900, 6),
        _p("T4", 8.1, 8.1 / 32, 65, None, 130, 320, 4),
        _p("A100 SXM 40GB", 19.5, 9.7, 312, 312, 624, 1555, 40),
        _p("A100 SXM 80GB", 19.5, 9.7, 312, 312, 624, 2039, 40),
        _p("A100 PCIe 40GB", 19.5, 9.7, 312, 312, 624, 1555, 40),
        _p("A100 PCIe 80GB", 19.5, 9.7, 312, 312, 624, 1935, 40),
        _p("A10", 31.2, 31.2 / 64, 125, 125, 250, 600, 6),
        _p("RTX 3090", 35.6, 35.6 / 64, 71, 71, 284, 936, 6),
        _p("L4", 30.3, 30.3 / 64, 121, 121, 242, 300, 48),
        _p("L40S", 91.6, 91.6 / 64, 362, 362, 733, 864, 96),
        _p("RTX 4090", 82.6, 82.6 / 64, 165, 165, 660, 1008, 72),
        _p("H100 SXM", 67, 34, 989, 989, 1979, 3350, 50),
        _p("H100 PCIe", 51, 26, 756, 756, 1513, 2000, 50),
        _p("H200 SXM", 67, 34, 989, 989, 1979, 4800, 50),
    )
}


def _normalise(name: str) -> str:
    s = name.lower().replace("-", " ").replace("_", " ")
    s = re.sub(r"\b(nvidia|tesla|geforce)\b", " ", s)
    return " ".join(s.split())


def _match(n: str) -> str | None:
    # NVL and other board variants have different clocks/bandwidth: better no peaks than wrong ones.
    if re.search(r"\bnvl\b", n):
        return None
    if re.search(r"\bh200\b", n):
        return "H200 SXM"
    if re.search(r"\bh100\b", n):
        # SXM5 reports "H100 80GB HBM3"; PCIe boards say "PCIe".
        return "H100 PCIe" if "pcie" in n else "H100 SXM"
    if re.search(r"\ba100\b", n):
        form = "PCIe" if "pcie" in n else "SXM"
        mem = "80GB" if "80gb" in n else "40GB"
        return f"A100 {form} {mem}"
    if re.search(r"\bv100\b", n):
        return "V100 PCIe" if "pcie" in n else "V100 SXM2"
    if re.search(r"\bl40s\b", n):
        return "L40S"
    if re.search(r"\bl4\b", n):
        return "L4"
    if re.search(r"\ba10\b", n):  # not A10G / A100 (word boundary)
        return "A10"
    if re.search(r"\bt4\b", n):
        return "T4"
    if re.search(r"\brtx 4090\b(?! d\b)", n):
        return "RTX 4090"
    if re.search(r"\brtx 3090\b(?! ti\b)", n):
        return "RTX 3090"
    return None


def lookup_peaks(device_name: str) -> Peaks | None:
    """Datasheet peaks for a CUDA/NVML device name ("NVIDIA H100 80GB HBM3" -> H100 SXM), or None when unknown."""
    key = _match(_normalise(device_name))
    return DATASHEET[key] if key else None


# NVML clocks-event (throttle) reason bits, from nvml.h.
THROTTLE_BITS = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}
# Reasons that mean a timing sample ran slower than the part can: power or thermal limits.
BAD_THROTTLE = {"sw_power_cap", "hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"}
CLOCK_FLOOR = 0.75  # nvbench: a sample at an SM clock under 75 % of the default clock is throttled


def decode_throttle(mask: int) -> list[str]:
    return [name for bit, name in THROTTLE_BITS.items() if mask & bit]


def _nvml():
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError: no driver / no device
        return None
    return pynvml


def _str(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


def _try(fn, *args):
    try:
        return fn(*args)
    except Exception:
        return None


def gpu_info(index: int = 0) -> dict | None:
    """NVML snapshot of CUDA device `index`, or None without NVML or the device. Fields NVML refuses are None.

    Keys: index, name, driver, compute_capability ("9.0"), sm_clock_mhz, mem_clock_mhz, sm_clock_max_mhz,
    mem_clock_max_mhz, sm_clock_default_mhz (default applications clock), temperature_c, power_w,
    throttle_mask, throttle_reasons (names), memory_total_bytes, l2_bytes (from the datasheet table: NVML does
    not report L2; None when the name is unknown).
    NVML indices ignore CUDA_VISIBLE_DEVICES, so a numeric CUDA_VISIBLE_DEVICES list is mapped first (UUID lists are
    not; NVML and CUDA may also order unlike devices differently unless CUDA_DEVICE_ORDER=PCI_BUS_ID).
    """
    nv = _nvml()
    if nv is None:
        return None
    try:
        h = nv.nvmlDeviceGetHandleByIndex(_nvml_index(index))
    except Exception:
        return None
    name = _str(_try(nv.nvmlDeviceGetName, h) or "")
    cc = _try(nv.nvmlDeviceGetCudaComputeCapability, h)
    # nvidia-ml-py resolves each NVML symbol in the driver's libnvidia-ml when called: a binding that has the new
    # ...ClocksEventReasons name can meet a driver older than it (NVMLError_FunctionNotFound), so on failure fall
    # back to the older ...ClocksThrottleReasons (same bit mask), not just when the binding lacks the new name.
    mask = None
    for reasons_name in ("nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"):
        reasons_fn = getattr(nv, reasons_name, None)
        mask = _try(reasons_fn, h) if reasons_fn else None
        if mask is not None:
            break
    power = _try(nv.nvmlDeviceGetPowerUsage, h)
    mem = _try(nv.nvmlDeviceGetMemoryInfo, h)
    peaks = lookup_peaks(name)
    return {
        "index": index,
        "name": name,
        "driver": _str(_try(nv.nvmlSystemGetDriverVersion) or "") or None,
        "compute_capability": f"{cc[0]}.{cc[1]}" if cc else None,
        "sm_clock_mhz": _try(nv.nvmlDeviceGetClockInfo, h, nv.NVML_CLOCK_SM),
        "mem_clock_mhz": _try(nv.nvmlDeviceGetClockInfo, h, nv.NVML_CLOCK_MEM),
        "sm_clock_max_mhz": _try(nv.nvmlDeviceGetMaxClockInfo, h, nv.NVML_CLOCK_SM),
        "mem_clock_max_mhz": _try(nv.nvmlDeviceGetMaxClockInfo, h, nv.NVML_CLOCK_MEM),
        "sm_clock_default_mhz": _try(nv.nvmlDeviceGetDefaultApplicationsClock, h, nv.NVML_CLOCK_SM),
        "temperature_c": _try(nv.nvmlDeviceGetTemperature, h, nv.NVML_TEMPERATURE_GPU),
        "power_w": None if power is None else power / 1000.0,
        "throttle_mask": mask,
        "throttle_reasons": decode_throttle(mask) if mask is not None else None,
        "memory_total_bytes": getattr(mem, "total", None),
        "l2_bytes": peaks.l2_bytes if peaks else None,
    }


def throttled(info_before: dict | None, info_after: dict | None) -> str | None:
    """Why a measurement between two `gpu_info` snapshots may have run throttled, or None.

    Flags power/thermal throttle reasons in either snapshot, and an SM clock under 75 % of the default (or max)
    clock while the GPU was not idle (an idle GPU drops its clock legitimately, so that case is not flagged).
    """
    problems = []
    for label, info in (("before", info_before), ("after", info_after)):
        if not info:
            continue
        reasons = set(info.get("throttle_reasons") or ())
        bad = sorted(reasons & BAD_THROTTLE)
        if bad:
            problems.append(f"{'+'.join(bad)} ({label})")
        ref = info.get("sm_clock_default_mhz") or info.get("sm_clock_max_mhz")
        clock = info.get("sm_clock_mhz")
        if ref and clock is not None and "gpu_idle" not in reasons and clock < CLOCK_FLOOR * ref:
            problems.append(f"sm clock {clock} MHz < {CLOCK_FLOOR:.0%} of {ref} MHz ({label})")
    return "; ".join(problems) or None


def _nvml_index(cuda_index: int) -> int:
    entries = [e.strip() for e in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if e.strip()]
    if cuda_index < len(entries) and entries[cuda_index].isdigit():
        return int(entries[cuda_index])
    return cuda_index


def _visible_limit() -> int | None:
    """How many devices CUDA_VISIBLE_DEVICES lets a CUDA process see (None = no limit)."""
    v = os.environ.get("CUDA_VISIBLE_DEVICES")
    if v is None:
        return None
    entries = [e.strip() for e in v.split(",") if e.strip()]
    # CUDA stops at the first invalid entry, e.g. "-1" hides everything.
    count = 0
    for e in entries:
        if e.startswith("-"):
            break
        count += 1
    return count


def _nvidia_smi(*args: str) -> str | None:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        r = subprocess.run([exe, *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout if r.returncode == 0 else None


def detect_cuda_devices() -> int:
    """Number of CUDA devices this process could use: NVML device count, else `nvidia-smi -L`, else 0.
    Capped by CUDA_VISIBLE_DEVICES. Never initialises CUDA (no GPU API import)."""
    count = 0
    nv = _nvml()
    if nv is not None:
        count = _try(nv.nvmlDeviceGetCount) or 0
    else:
        out = _nvidia_smi("-L")
        if out:
            count = sum(1 for line in out.splitlines() if line.startswith("GPU "))
    limit = _visible_limit()
    return count if limit is None else min(count, limit)


@functools.cache
def gpu_arch() -> str:
    """default_arch(), asked once per process: what answers compile for when --cudabench-arch is not given."""
    return default_arch()


def default_arch() -> str:
    """"sm_XY" of device 0 (NVML, else `nvidia-smi --query-gpu=compute_cap`), else DEFAULT_ARCH ("sm_80")."""
    if detect_cuda_devices() == 0:
        return DEFAULT_ARCH
    info = gpu_info(0)
    cc = info.get("compute_capability") if info else None
    if not cc:
        out = _nvidia_smi("--query-gpu=compute_cap", "--format=csv,noheader")
        cc = out.splitlines()[0].strip() if out and out.strip() else None
    if cc and re.fullmatch(r"\d+\.\d+", cc):
        major, minor = cc.split(".")
        return f"sm_{major}{minor}"
    return DEFAULT_ARCH
