"""The time stage's arithmetic on hand-computed cases (the measurement itself needs a GPU)."""


import pytest
from helpers.paths import SUITE

from pytest_cudabench.errors import StageFailure
from pytest_cudabench.tasks.loader import load_task
from pytest_cudabench.timing import stage as timing
from pytest_cudabench.timing.gpus import lookup_peaks


def timed(task, medians, iqr=0.0):
    return [{"sizes": task.sizes.complete(s), "events": {"median_s": m, "iqr_s": iqr, "n": 10, "converged": True}}
            for s, m in zip(task.sizes.bench, medians, strict=True)]


def test_vector_add_is_bandwidth_bound_on_an_h100():
    task = load_task(SUITE / "basics" / "vector_add", SUITE)
    peaks = lookup_peaks("NVIDIA H100 80GB HBM3")
    n = task.sizes.bench[-1]["n"]
    bound = 12 * n / peaks.dram_bw  # 12 bytes per element, memory-bound
    rows = timing.score_scales(task, timed(task, [bound * 2] * 5), peaks)
    assert rows[-1]["bound_s"] == pytest.approx(bound)
    assert rows[-1]["score"] == pytest.approx(0.5)
    timing.check_plausible(task, rows)


def test_sgemm_is_compute_bound_and_faster_than_the_roof_is_suspicious():
    task = load_task(SUITE / "linalg" / "sgemm", SUITE)
    peaks = lookup_peaks("NVIDIA H100 80GB HBM3")
    size = task.sizes.bench[-1]["M"]
    bound = 2 * size**3 / peaks.fp32
    # twice the CUDA-core roof: possible with 3xTF32 on tensor cores (fp32 accuracy), at most 989 / 6 = 165 TFLOP/s
    rows = timing.score_scales(task, timed(task, [1.0, 1.0, 1.0, 1.0, bound / 2]), peaks)
    assert rows[-1]["score"] == pytest.approx(2.0)
    timing.check_plausible(task, rows)
    rows = timing.score_scales(task, timed(task, [1.0, 1.0, 1.0, 1.0, bound / 3]), peaks)
    with pytest.raises(StageFailure, match="above the hardware's roofline"):
        timing.check_plausible(task, rows)


def test_unknown_gpu_gives_no_score_and_speedup_is_a_geometric_mean():
    task = load_task(SUITE / "basics" / "vector_add", SUITE)
    rows = timing.score_scales(task, timed(task, [1.0, 2.0, 4.0, 1.0, 1.0]), None)
    assert all(r["score"] is None for r in rows)
    reference = timing.score_scales(task, timed(task, [2.0, 2.0, 2.0, 1.0, 1.0]), None)
    assert timing.speedup(rows, reference) == pytest.approx((2.0 * 1.0 * 0.5) ** (1 / 5))


def test_half_precision_without_tensor_cores_uses_packed_half2_roof():
    peaks = lookup_peaks("NVIDIA H100 80GB HBM3")
    assert timing.peak_flops(peaks, "fp16") == 2 * peaks.fp32
    assert timing.peak_flops(peaks, "none") is None


def test_run_peaks_are_what_the_items_were_scored_against():
    from pytest_cudabench.reporting.report import run_peaks

    datasheet = {"source": "datasheet", "dram_bw": 3.35e12, "fp32": 67e12}
    calibrated = {"source": "calibrated:2026-11-24", "dram_bw": 2.9e12, "fp32": 60e12}
    other_gpu = {"source": "datasheet", "dram_bw": 2.0e12, "fp32": 19.5e12}

    def item(peaks):
        return {"stages": {"execute": {"status": "passed"}, "time": {"status": "passed", "peaks": peaks}}}

    assert run_peaks([], datasheet) == (datasheet, False)
    assert run_peaks([{"stages": {"time": {"status": "not-run"}}}], None) == (None, False)
    assert run_peaks([item(calibrated), item(calibrated), {"stages": {}}], datasheet) == (calibrated, False)
    assert run_peaks([item(calibrated), item(other_gpu)], datasheet) == (None, True)


def test_beating_a_per_step_model_is_allowed_beating_physics_is_not():
    """heat_explicit counts a pass over the grid per step; temporal blocking may do better than that model (score
    above 1), but not better than reading and writing the grid once."""
    task = load_task(SUITE / "science" / "heat_explicit", SUITE)
    peaks = lookup_peaks("NVIDIA H100 80GB HBM3")
    sizes = task.sizes.complete(task.sizes.bench[-1])
    model = task.roofline.dram_bytes.evaluate(sizes) / peaks.dram_bw
    once = task.compulsory_bytes(sizes) / peaks.dram_bw
    assert once < model / 4
    rows = timing.score_scales(task, timed(task, [1.0] * 4 + [model / 3]), peaks)
    assert rows[-1]["score"] == pytest.approx(3.0) and rows[-1]["limit_s"] == pytest.approx(once)
    timing.check_plausible(task, rows)  # three steps fused per pass: fine
    rows = timing.score_scales(task, timed(task, [1.0] * 4 + [once / 2]), peaks)
    with pytest.raises(StageFailure, match="above the hardware's roofline"):
        timing.check_plausible(task, rows)


def test_data_dependent_work_is_counted_on_the_benchmark_inputs():
    """decode_attention's formula counts the mean fill; scores count the valid positions of the very inputs, computed
    in the trusted process from the same generator streams as the child's."""
    from pytest_cudabench.tasks import inputs

    task = load_task(SUITE / "ai" / "decode_attention", SUITE)
    sizes = task.sizes.complete(task.sizes.bench[0])
    case = inputs.make_case(task, sizes, inputs.task_rng(task, 7, "bench0"), 0)
    flops, dram = inputs.input_work(task, case)
    positions = sizes["H"] * int(case.arrays["lengths"].sum())
    assert flops == positions * (4 * sizes["D"] + 4)
    works = timing.bench_works(task, 7)
    assert works[0] == (flops, dram) and len(works) == 5
    peaks = lookup_peaks("NVIDIA H100 80GB HBM3")
    rows = timing.score_scales(task, timed(task, [1e-3] * 5), peaks, works)
    assert rows[0]["flops"] == flops and rows[0]["work_from"] == "inputs"
    assert timing.score_scales(task, timed(task, [1e-3] * 5), peaks)[0]["work_from"] == "formula"


def test_a_broken_work_function_names_the_file():
    from pytest_cudabench.errors import TaskError
    from pytest_cudabench.tasks import inputs

    task = load_task(SUITE / "ai" / "decode_attention", SUITE)
    case = inputs.make_case(task, task.sizes.complete(task.sizes.cases[-1]), inputs.task_rng(task, 1), 0)
    broken = type(task)(**{**task.__dict__, "work": lambda **kwargs: (1.0, 0.0)})
    with pytest.raises(TaskError, match=r"reference.py: \[work\] work\(\) gave flops=1.0, bytes=0.0"):
        inputs.input_work(broken, case)
