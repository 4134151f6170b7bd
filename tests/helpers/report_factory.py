"""Synthetic JSON reports for tests of the report tools (HTML, compare, merge, pytest-benchmark export).

`make_report()` builds a schema-valid "pytest-cudabench/report/1" document through report.build_report: items
across domains, levels and outcomes, and (with timed=True) GPU timing scales against H100 SXM datasheet peaks.
Deterministic for a given seed. `make_item()` builds one item for hand-made cases.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from pytest_cudabench.reporting.report import SCHEMA, build_report

H100_PEAKS = {  # gpus.Peaks.to_dict() of the H100 SXM datasheet entry
    "name": "H100 SXM",
    "dram_bw": 3.35e12,
    "fp32": 67.0e12,
    "fp64": 34.0e12,
    "fp16_tensor": 989.0e12,
    "bf16_tensor": 989.0e12,
    "int8_tensor": 1979.0e12,
    "l2_bytes": 50 * (1 << 20),
    "source": "datasheet:H100 SXM",
    "measured": [],
}
H100_GPU = {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "memory_gb": 80, "driver": "550.54.15",
            "sm_count": 132}

# task id -> (title, tier, flops per element, bytes per element): a rough arithmetic-intensity profile.
TASKS = {
    "basics/vector_add": ("Vector addition", "easy", 1, 12),
    "basics/saxpy": ("SAXPY", "easy", 2, 12),
    "linalg/sgemm": ("Single-precision GEMM", "medium", 2048, 12),
    "linalg/spmv_csr": ("Sparse matrix-vector product (CSR)", "medium", 2, 10),
    "signal/fir_filter": ("FIR filter", "easy", 64, 8),
    "signal/fft_radix2": ("Radix-2 FFT", "hard", 40, 16),
    "science/stencil3d_7pt": ("3-D 7-point stencil", "easy", 8, 8),
    "science/nbody_accel": ("N-body accelerations", "medium", 20000, 16),
    "ai/softmax": ("Row softmax", "easy", 5, 8),
    "ai/layernorm": ("Layer normalization", "medium", 8, 8),
    "bits/popcount": ("Population count", "easy", 0, 8),
}

GOOD_SOURCE = """#include <cuda_runtime.h>

// One thread per element; a grid-stride loop covers any n.
__global__ void kernel(const float* __restrict__ a, const float* __restrict__ b, float* c, int n) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        c[i] = 2.0f * a[i] + b[i];  /* fused */
    }
}

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 0x7fff) grid = 0x7fff;
    kernel<<<grid, block>>>(a, b, c, n);
}
"""

EVIL_SOURCE = ("</script><script>document.title='PWNED';document.body.setAttribute('data-pwned','1')</script>\n"
               "<!-- --> <style>body{display:none}</style>\n" + GOOD_SOURCE)
EVIL_MESSAGE = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"> & \"quotes\" 'too'"
EVIL_TASK = "basics/evil<script>alert(1)</script>"


def base_run(model: str = "synthetic-model", seed: int = 1234, timed: bool = True, run_id: str | None = None,
             started: str = "2026-11-24T10:00:00+00:00", finished: str = "2026-11-24T10:12:34+00:00") -> dict[str, Any]:
    return {
        "id": run_id or f"20261124T100000Z-{model}-abc123",
        "started": started,
        "finished": finished,
        "duration_s": 754.0,
        "model": model,
        "seed": seed,
        "levels": [1, 2, 3],
        "samples": 1,
        "runtime": "auto",
        "arch": "sm_90" if timed else "sm_80",
        "cases": 5,
        "template_version": "1",
        "command": ["pytest", f"--cudabench-model={model}"],
        "workers": None,
        "shard": None,
        "versions": {"pytest_cudabench": "0.1.0", "python": "3.11.7", "pytest": "9.2.0"},
        "machine": {"hostname": "bench-01", "platform": "Linux-x86_64", "machine": "x86_64", "cpu_count": 16},
        "gpu": copy.deepcopy(H100_GPU) if timed else None,
        "peaks": dict(H100_PEAKS) if timed else None,
        "performance_measured": timed,
    }


def make_item(task: str = "basics/vector_add", level: int = 1, sample: int = 0, outcome: str = "passed",
              model: str = "synthetic-model", failed_stage: str | None = None, message: str | None = None,
              source: str | None = GOOD_SOURCE, scales: list[dict[str, Any]] | None = None,
              title: str | None = None, domain: str | None = None, tier: str | None = None,
              speedup: float | None = None) -> dict[str, Any]:
    """One item in results.ItemResult's shape. `scales` given: a GPU-timed item (stages.time.scales)."""
    info = TASKS.get(task, (task, "easy", 1, 8))
    stages: dict[str, Any] = {"generate": {"status": "passed", "duration_s": 1.2, "cached": False}}
    order = ["extract", "static-check", "compile", "execute", "time"]
    stopped = failed_stage if outcome in ("failed", "error") else None
    if outcome == "skipped":
        stages["generate"] = {"status": "skipped", "duration_s": 0.0, "message": message or "no API key"}
        order = []
    elif stopped == "generate":
        stages["generate"] = {"status": "error", "duration_s": 3.0, "message": message}
        order = []
    for name in order:
        if name == stopped:
            record: dict[str, Any] = {"status": "failed", "message": message, "duration_s": 0.1}
            if name == "compile":
                record["log"] = f"answer.cu(7): error: {message}"
            stages[name] = record
            break
        if name == "time":
            if scales is None:
                stages[name] = {"status": "not-run", "message": "timing needs a GPU; performance not measured",
                                "duration_s": 0.0}
            else:
                stages[name] = {"status": "passed", "duration_s": 4.2, "scales": scales}
        else:
            stages[name] = {"status": "passed", "duration_s": 0.05}
    compiled = outcome == "passed" or (stopped in ("execute", "time"))
    correct = True if outcome == "passed" else (False if stopped in ("execute",) else None)
    score = None
    if scales:
        scores = [s["score"] for s in scales if s.get("score") is not None]
        score = round(sum(scores) / len(scores), 6) if scores else None
    return {
        "nodeid": f"task_suite/{task}::level{level}[sample{sample}]",
        "task": task,
        "title": title or info[0],
        "domain": domain or task.split("/")[0],
        "tier": tier or info[1],
        "level": level,
        "sample": sample,
        "model": model,
        "outcome": outcome,
        "stage_reached": list(stages)[-1],
        "failed_stage": stopped,
        "message": message,
        "stages": stages,
        "compiled": compiled,
        "correct": correct,
        "performance_score": score,
        "speedup": speedup if speedup is not None else (round(3.0 + 10 * (score or 0), 3) if score else None),
        "runtime": ("gpu" if scales else "cpu") if compiled else None,
        "template_version": "1",
        "prompt_hash": "0123456789abcdef",
        "generation": {"content": f"```cuda\n{source}\n```" if source else "I cannot do that.", "model": model,
                       "tokens_in": 900, "tokens_out": 400, "latency_s": 1.2, "cost_usd": None, "cached": False,
                       "finish_reason": "stop"},
        "source": source if (outcome == "passed" or stopped not in ("generate", "extract")) and outcome != "skipped"
        else None,
        "source_sha256": None,
    }


def make_scales(task: str, efficiency: float, peaks: dict[str, Any] = H100_PEAKS,
                sizes: tuple[int, ...] = (1 << 16, 1 << 20, 1 << 24)) -> list[dict[str, Any]]:
    """Timing scales as the time stage records them: achieved = efficiency x the roofline bound (larger sizes do
    a little better)."""
    _, _, flops_per, bytes_per = TASKS.get(task, (task, "easy", 1, 8))
    scales = []
    for index, n in enumerate(sizes):
        flops, nbytes = float(flops_per * n), float(bytes_per * n)
        bound_s = max(flops / peaks["fp32"], nbytes / peaks["dram_bw"], 2e-6)
        eff = min(0.98, efficiency * (0.6 + 0.2 * index))
        median = bound_s / eff
        scales.append({
            "sizes": {"n": n},
            "median_s": median,
            "iqr_s": median * 0.02,
            "min_s": median * 0.97,
            "n": 30 + 10 * index,
            "converged": True,
            "flops": flops,
            "bytes": nbytes,
            "bound_s": bound_s,
            "score": round(bound_s / median, 6),
        })
    return scales


FAILURES = [
    ("failed", "compile", 'identifier "__shfl_down" is undefined'),
    ("failed", "execute", "c: 17 of 1048576 values differ (max abs err 3.1e-01 at [1023])"),
    ("failed", "static-check", "forbidden call: system()"),
    ("error", "generate", "remote model: HTTP 429 Too Many Requests"),
    ("skipped", None, "no API key configured for this model"),
    ("failed", "extract", "no ```cuda code block in the answer"),
]


def make_report(timed: bool = True, seed: int = 7, model: str = "synthetic-model", evil: bool = False,
                levels: tuple[int, ...] = (1, 2, 3), tasks: list[str] | None = None, **run_overrides: Any
                ) -> dict[str, Any]:
    """A report over `tasks` x `levels` (1 sample each): mostly passed, with every kind of failure sprinkled in."""
    rng = random.Random(seed)
    items = []
    for index, (task, level) in enumerate((t, lv) for t in (tasks or list(TASKS)) for lv in levels):
        if index % 5 == 3:
            outcome, stage, message = FAILURES[(index // 5) % len(FAILURES)]
            items.append(make_item(task, level, 0, outcome, model=model, failed_stage=stage, message=message))
            continue
        scales = make_scales(task, rng.uniform(0.15, 0.95)) if timed else None
        items.append(make_item(task, level, 0, "passed", model=model, scales=scales))
    if evil:
        items.append(make_item(EVIL_TASK, 2, 0, "failed", model=model, failed_stage="compile", message=EVIL_MESSAGE,
                               source=EVIL_SOURCE, title="<b>evil</b> title", domain="basics"))
    run = base_run(model=model, timed=timed)
    run.update(run_overrides)
    report = build_report(run, items, [{"path": "task_suite/broken/task", "message": "task.toml: missing [signature]"}])
    assert report["schema"] == SCHEMA
    return report
