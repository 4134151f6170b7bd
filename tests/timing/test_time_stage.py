"""The time stage's plumbing end to end without a GPU: the child times `solve` at every benchmark scale (host clock
on the CPU runtime instead of CUDA events), hands back the outputs of a call after the timing loop, and the parent
checks them against the task's own solution and turns the medians into roofline scores."""

import shutil
from pathlib import Path

import pytest
from helpers.paths import SUITE

from pytest_cudabench.errors import StageFailure
from pytest_cudabench.execution import runner as execution
from pytest_cudabench.execution import supervisor
from pytest_cudabench.execution.cpu_runtime.build import build_cpu_library
from pytest_cudabench.tasks.loader import load_task
from pytest_cudabench.timing import stage as timing
from pytest_cudabench.timing.gpus import lookup_peaks
from pytest_cudabench.timing.policy import MeasurementPolicy

SMALL_BENCH = "bench = [{ n = 100 }, { n = 1000 }, { n = 3000 }, { n = 7000 }, { n = 10001 }]"

HOST_TIMER = MeasurementPolicy(timer="host", cap_s=0.05)  # the stage without a GPU, short loops


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
                               timing={"seed": 11, "policy": HOST_TIMER})


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

    from helpers.ncu_logs import SAMPLE_CSV

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
            timing={"seed": 11, "policy": HOST_TIMER, "profile_scale": k})

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
                                 timing={"seed": 11, "policy": HOST_TIMER})
    assert [row["throttle"] for row in result.timed] == ["hw_thermal_slowdown (after)"] * len(task.sizes.bench)
    assert not any(row.get("flagged") for row in result.timed)
    scales = timing.score_scales(task, result.timed, lookup_peaks("NVIDIA H100 80GB HBM3"))
    assert all(row["throttle"] == "hw_thermal_slowdown (after)" for row in scales)


def test_timed_calls_rotate_input_sets_and_a_sample_of_them_is_kept(tmp_path):
    """Two input sets per scale (different values), a final call on each and a sample of timed calls kept, each
    correct; the parent's clock bracketed every timing phase (run_cases checks it)."""
    task = small_task(tmp_path, "basics/vector_add")
    answer = measure(task, task.solution_source(), tmp_path / "answer.so")
    for k, row in enumerate(answer.timed):
        final, other = answer.bench_outputs[f"bench{k}:c"], answer.bench_outputs[f"bench{k}:set1:c"]
        assert not (final == other).all()
        assert 1 <= len(row["checked_calls"]) <= 2 and {s for _, s in row["checked_calls"]} <= {0, 1}
        for call, input_set in row["checked_calls"]:
            kept = answer.bench_outputs[f"bench{k}:call{call}:set{input_set}:c"]
            assert (kept == (final if input_set == 0 else other)).all()
        assert row["calls"] > row["events"]["n"] and row["loop_s"] > row["events"]["total_time_s"]
        timing.check_bench_outputs(task, answer.bench_outputs, answer.bench_outputs, k, row["sizes"])


def test_a_checker_task_needs_the_seed_to_judge_benchmark_outputs(tmp_path):
    task = load_task(SUITE / "graphs/bfs_parents", SUITE)
    with pytest.raises(ValueError, match="needs the seed"):
        timing.check_bench_outputs(task, {}, {}, 0, task.sizes.bench[0])


def honest_row(**changes):
    row = {"events": {"n": 100, "median_s": 1e-3, "total_time_s": 0.1}, "loop_s": 0.2, "calls": 130,
           "overhead_s": 2e-4, "after_sample_s": 0.01}
    row.update(changes)
    return row


def test_timing_claims_are_checked_against_the_parents_clock():
    sizes = {"n": 7}
    timing.check_timing_phase(honest_row(), 0.21, sizes)
    with pytest.raises(StageFailure, match=r"\[time\] .*samples add up to 1 s.*timer was tampered with"):
        timing.check_timing_phase(honest_row(events={"n": 100, "median_s": 1e-2, "total_time_s": 1.0}), 0.21,
                                     sizes)
    with pytest.raises(StageFailure, match="child's clock measured its timing loop as 0.01 s"):
        timing.check_timing_phase(honest_row(loop_s=0.01), 0.21, sizes)  # a clock made to run slow
    with pytest.raises(StageFailure, match="each call took about"):  # the calls took 10 ms, the timer says 10 us
        timing.check_timing_phase(honest_row(events={"n": 100, "median_s": 1e-5, "total_time_s": 1e-3},
                                                loop_s=1.3), 1.3, sizes)
    with pytest.raises(StageFailure, match="not bracketed"):
        timing.check_timing_phase(honest_row(), None, sizes)


def test_status_lines_carry_the_time_they_were_sent_not_when_a_busy_harness_read_them(tmp_path):
    # A harness descheduled between the child's timing-start and timing-end lines must still measure the phase the
    # child spent: the kernel stamps each message when it is sent. The child here sends two lines 0.3 s apart, then
    # the parent reads them only 0.6 s later; the stamps must still be 0.3 s apart, and must match when they were sent.
    import subprocess
    import sys
    import time

    listener, address = supervisor.status_listener(tmp_path)
    script = ("import json, sys, time\n"
              "from pytest_cudabench.protocol import open_status\n"
              "out = open_status(sys.argv[1])\n"
              "out.write(json.dumps({'event': 'a', 'at': time.time()}) + '\\n'); time.sleep(0.3)\n"
              "out.write(json.dumps({'event': 'b', 'at': time.time(), 'pad': 'x' * 20000}) + '\\n')\n")
    process = subprocess.Popen([sys.executable, "-c", script, address])
    with listener:
        channel = supervisor.accept_status(listener, process)
    assert channel is not None
    process.wait()
    time.sleep(0.6)
    with channel:
        lines = supervisor.read_status_lines(channel)
    assert len(lines) == 2
    import json

    events = [(stamp, json.loads(line)) for stamp, line in lines]
    assert [e["event"] for _, e in events] == ["a", "b"]
    gap = events[1][0] - events[0][0]
    assert 0.25 < gap < 0.5, gap  # stamped on receipt, both would be within a few microseconds
    for stamp, event in events:
        assert abs(stamp - event["at"]) < 0.1  # not 0.6 s late


def test_calls_that_can_set_an_access_policy_window_are_recorded(tmp_path):
    from pytest_cudabench.source import compiler

    source = """#include <cuda_runtime.h>
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    cudaStreamAttrValue attr = {};
    attr.accessPolicyWindow.base_ptr = (void*)a;
    attr.accessPolicyWindow.num_bytes = sizeof(float) * n;
    attr.accessPolicyWindow.hitRatio = 1.0f;
    attr.accessPolicyWindow.hitProp = cudaAccessPropertyPersisting;
    attr.accessPolicyWindow.missProp = cudaAccessPropertyStreaming;
    cudaStreamSetAttribute(0, cudaStreamAttributeAccessPolicyWindow, &attr);
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
"""
    library = Path(compiler.compile_library(source, cache_dir=tmp_path).library)
    record = timing.l2_persistence_record(library, [{"l2_persistence": None}])
    assert record == {"imports": ["cudaStreamSetAttribute"], "scales": [None], "set_by_answer": False}


def test_the_cuda_backend_has_every_method_the_timing_loop_calls():
    """It runs only on a GPU: at least its shape is checked everywhere."""
    from pytest_cudabench.timing.measure import GpuEventBackend, TimingBackend

    needed = [n for n in vars(TimingBackend) if not n.startswith("_")] + ["reset_persisting_l2", "l2_persistence"]
    assert all(callable(getattr(GpuEventBackend, name, None)) for name in needed), needed
