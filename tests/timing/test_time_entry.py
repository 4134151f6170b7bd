"""The time stage's choices and its one entry into the execution layer: the measurement policy comes from the
settings (never from the environment), and runner.run_timing builds what the runtime loads, times it, and fails
as the time stage, without another module renaming the failure."""

import re
import shutil
from pathlib import Path

import pytest
from helpers.paths import SUITE

from pytest_cudabench.config import Settings
from pytest_cudabench.errors import StageFailure
from pytest_cudabench.execution.runner import run_timing
from pytest_cudabench.source.compiler import compile_library
from pytest_cudabench.tasks.loader import load_task
from pytest_cudabench.timing import stage
from pytest_cudabench.timing.policy import DEFAULT_POLICY

SMALL_BENCH = "bench = [{ n = 100 }, { n = 1000 }, { n = 3000 }, { n = 7000 }, { n = 10001 }]"
H100 = "NVIDIA H100 80GB HBM3"


def test_the_settings_choose_the_timer_and_the_environment_does_not(monkeypatch):
    monkeypatch.setenv("CUDABENCH_HOST_CLOCK_TIMING", H100)  # the old seam's variable: read by nothing now
    plain = Settings(model="m", runtime="cpu")
    assert stage.measurement_policy(plain, "gpu") == DEFAULT_POLICY
    assert stage.measurement_policy(plain, "cpu") is None
    record: dict = {}
    assert stage.time_answer(None, plain, "cpu", None, "sm_80", record, run_timing) is None
    assert record == {"status_override": "not-run", "message": stage.NOT_MEASURED}
    host = stage.measurement_policy(Settings(model="m", runtime="cpu", host_clock_gpu=H100), "cpu")
    assert host is not None and (host.timer, host.cap_s) == ("host", stage.HOST_CLOCK_CAP_S)


@pytest.fixture
def small_vector_add(tmp_path):
    target = tmp_path / "task_suite" / "basics" / "vector_add"
    shutil.copytree(SUITE / "basics" / "vector_add", target)
    toml = target / "task.toml"
    toml.write_text(re.sub(r"(?m)^bench = \[[^\]]*\]", SMALL_BENCH, toml.read_text()))
    return load_task(target, tmp_path / "task_suite")


def test_run_timing_builds_for_the_runtime_and_its_failures_are_the_time_stage_s(tmp_path, small_vector_add):
    task = small_vector_add
    settings = Settings(model="m", runtime="cpu", seed=3, cache_dir=str(tmp_path / "cache"), host_clock_gpu=H100)
    policy = stage.measurement_policy(settings, "cpu")
    assert policy is not None

    def timed(source: str):
        library = Path(compile_library(source, cache_dir=settings.cache_path).library)
        return run_timing(task, stage.Build(source, library), "cpu", settings, policy=policy, timeout_s=120)

    measured = timed(task.solution_source())
    assert [row["sizes"] for row in measured.timed] == [task.sizes.complete(s) for s in task.sizes.bench]
    assert any(key.startswith("bench4:") for key in measured.bench_outputs)
    # Correct at small sizes, a wild write past n > 5000: only the benchmark scales reach it.
    crashing = task.solution_source().replace('extern "C" void solve(', 'extern "C" void solve_real(') + """
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    if (n > 5000) { volatile int* p = nullptr; *p = 1; }
    solve_real(a, b, c, n);
}
"""
    with pytest.raises(StageFailure) as failure:
        timed(crashing)
    assert failure.value.stage == "time" and "SIGSEGV" in failure.value.message
