"""The time stage's plumbing end to end without a GPU: the child times `solve` at every benchmark scale (host clock
on the CPU runtime instead of CUDA events), hands back the outputs of a call after the timing loop, and the parent
checks them against the task's own solution and turns the medians into roofline scores."""

import shutil
from pathlib import Path

import pytest

from pytest_cudabench.execution import runner as execution
from pytest_cudabench.timing import stage as timing
from pytest_cudabench.execution.cpu_runtime.build import build_cpu_library
from pytest_cudabench.errors import StageFailure
from pytest_cudabench.timing.gpus import lookup_peaks
from pytest_cudabench.tasks.loader import load_task

SUITE = Path(__file__).resolve().parent.parent / "task_suite"
SMALL_BENCH = "bench = [{ n = 100 }, { n = 1000 }, { n = 3000 }, { n = 7000 }, { n = 10001 }]"


def small_task(tmp_path: Path, task_id: str):
    """The task with benchmark scales small enough for the CPU runtime (the real ones reach ~1 GB)."""
    target = tmp_path / "task_suite" / task_id
    shutil.copytree(SUITE / task_id, target)
    toml = target / "task.toml"
    lines = toml.read_text().splitlines()
    toml.write_text("\n".join(SMALL_BENCH if line.startswith("bench = ") else line for line in lines) + "\n")
    return load_task(target, tmp_path / "task_suite")


def measure(task, source: str, build: Path):
    library = build_cpu_library(source, build)
    return execution.run_cases(task, library, "cpu", [], timeout_s=120, stage="time",
                               timing={"seed": 11, "cap_s": 0.05, "clock": "host"})


@pytest.mark.parametrize("task_id", ["basics/vector_add", "linalg/axpy"])  # axpy's y is inout
def test_every_scale_is_timed_and_checked_against_the_solution(tmp_path, task_id):
    task = small_task(tmp_path, task_id)
    solution = task.solution_source()
    reference = measure(task, solution, tmp_path / "reference.so")
    answer = measure(task, solution, tmp_path / "answer.so")
    assert [row["sizes"] for row in answer.timed] == [task.sizes.complete(s) for s in task.sizes.bench]
    assert all(row["events"]["n"] >= 1 and row["events"]["median_s"] > 0 for row in answer.timed)
    for k, sizes in enumerate(task.sizes.bench):
        timing.check_bench_outputs(task, answer.bench_outputs, reference.bench_outputs, k, sizes)
    scales = timing.score_scales(task, answer.timed, lookup_peaks("NVIDIA H100 80GB HBM3"))
    assert all(row["bound_s"] > 0 and row["score"] > 0 for row in scales)  # CPU times: tiny scores, but computed
    assert timing.speedup(scales, timing.score_scales(task, reference.timed, None)) > 0


def test_an_answer_wrong_only_at_benchmark_sizes_fails_after_timing(tmp_path):
    """Correct on the small correctness cases, wrong from n > 5000 on: only the benchmark check can see it."""
    task = small_task(tmp_path, "basics/vector_add")
    reference = measure(task, task.solution_source(), tmp_path / "reference.so")
    sneaky = task.solution_source().replace("extern \"C\" void solve(", "extern \"C\" void solve_real(")
    sneaky += """
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    solve_real(a, b, c, n < 5000 ? n : 5000);
}
"""
    answer = measure(task, sneaky, tmp_path / "sneaky.so")
    timing.check_bench_outputs(task, answer.bench_outputs, reference.bench_outputs, 2, task.sizes.bench[2])
    with pytest.raises(StageFailure, match=r"wrong result at benchmark scale \{'n': 7000\} after timing"):
        timing.check_bench_outputs(task, answer.bench_outputs, reference.bench_outputs, 3, task.sizes.bench[3])


def test_ncu_profiling_runs_each_scale_under_the_profiler_and_checks_its_outputs(tmp_path, monkeypatch):
    """--cudabench-perf=ncu's plumbing: a stand-in ncu on PATH runs the real child (CPU runtime) with the flags ncu
    gets, writes a CSV in ncu's format to the log file, and the scores come from it."""
    import os
    import stat

    from test_scoring import SAMPLE_CSV

    from pytest_cudabench.timing import gpu_tools

    (tmp_path / "sample.csv").write_text(SAMPLE_CSV)
    fake = tmp_path / "bin" / "ncu"
    fake.parent.mkdir()
    flags = len(gpu_tools.ncu_command("ncu", Path("log"))) - 1
    fake.write_text(f'#!/bin/sh\nlog="${{{flags}}}"\nshift {flags}\n"$@" || exit $?\n'
                    f'cp {tmp_path / "sample.csv"} "$log"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_HOME", raising=False)

    task = small_task(tmp_path, "basics/vector_add")
    reference = measure(task, task.solution_source(), tmp_path / "reference.so")

    def profiled(source, name):
        library = build_cpu_library(source, tmp_path / name)
        return lambda k, wrapper: execution.run_cases(
            task, library, "cpu", [], timeout_s=120, stage="time", wrapper=wrapper,
            timing={"seed": 11, "cap_s": 0.05, "clock": "host", "profile_scale": k})

    record = timing.profile_with_ncu(task, profiled(task.solution_source(), "answer.so"), reference.bench_outputs)
    assert record["status"] == "passed", record
    assert [row["sizes"] for row in record["scales"]] == [task.sizes.complete(s) for s in task.sizes.bench]
    assert record["performance_score"] == pytest.approx(gpu_tools.ncu_scale_score(SAMPLE_CSV)["score"])

    wrong = task.solution_source().replace("a[i] + b[i]", "a[i] - b[i]")
    assert wrong != task.solution_source()
    with pytest.raises(StageFailure, match=r"\[time\] wrong result at benchmark scale \{'n': 100\}"):
        timing.profile_with_ncu(task, profiled(wrong, "wrong.so"), reference.bench_outputs)


def test_gpu_state_is_read_around_the_timing_child_and_throttling_recorded(tmp_path):
    """Regression: the child never passed a monitor, so every report's throttle was null. The trusted parent reads
    the GPU state before and after the timing child; a throttled run is recorded on every scale, not failed."""
    task = small_task(tmp_path, "basics/vector_add")
    library = build_cpu_library(task.solution_source(), tmp_path / "answer.so")
    snapshots = iter([{"throttle_reasons": [], "sm_clock_mhz": 1980, "sm_clock_max_mhz": 1980},
                      {"throttle_reasons": ["hw_thermal_slowdown"], "sm_clock_mhz": 1980, "sm_clock_max_mhz": 1980}])
    result = execution.run_cases(task, library, "cpu", [], timeout_s=120, stage="time", monitor=lambda: next(snapshots),
                                 timing={"seed": 11, "cap_s": 0.05, "clock": "host"})
    assert [row["throttle"] for row in result.timed] == ["hw_thermal_slowdown (after)"] * len(task.sizes.bench)
    assert not any(row.get("flagged") for row in result.timed)
    scales = timing.score_scales(task, result.timed, lookup_peaks("NVIDIA H100 80GB HBM3"))
    assert all(row["throttle"] == "hw_thermal_slowdown (after)" for row in scales)
