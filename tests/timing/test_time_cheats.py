"""Corpus entries only the time stage can catch (tests/data/corpus/*.cu whose header ends in `stage: time`), judged on
the CPU runtime through the host-clock timing seam, in the pipeline's order: static check, nvcc build and its symbol
check, the execute stage on the correctness cases, then the time stage (the task's solution timed for reference,
two input sets rotated through warm-up and timed calls, a secret sample of timed calls and one call per set
checked), at benchmark scales shrunk to fit the CPU. `expect: PASS` marks a valid answer that must pass."""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers.corpus import corpus
from helpers.paths import SUITE

from pytest_cudabench.errors import StageFailure
from pytest_cudabench.execution import runner as execution
from pytest_cudabench.execution import supervisor
from pytest_cudabench.source import compiler, static_check
from pytest_cudabench.tasks import inputs
from pytest_cudabench.tasks.loader import load_task
from pytest_cudabench.timing import stage as timing
from pytest_cudabench.timing.policy import MeasurementPolicy

SEED = 11
SMALL_BENCH = {
    "basics/vector_add": "[{ n = 100 }, { n = 1000 }, { n = 3000 }, { n = 7000 }, { n = 10001 }]",
    "graphs/bfs_parents": "[{ num_vertices = 64, num_edges = 128 }, { num_vertices = 1000, num_edges = 4000 }, "
                          "{ num_vertices = 3000, num_edges = 20000 }, { num_vertices = 8192, num_edges = 60000 }, "
                          "{ num_vertices = 16384, num_edges = 131072 }]",
}
TIME_CORPUS = corpus("time")

HOST_TIMER = MeasurementPolicy(timer="host", cap_s=0.05)  # the stage without a GPU, short loops


def small_task(tmp_path: Path, task_id: str):
    """The task with benchmark scales small enough for the CPU runtime (the real ones reach ~1 GB)."""
    target = tmp_path / "task_suite" / task_id
    shutil.copytree(SUITE / task_id, target)
    toml = target / "task.toml"
    toml.write_text(re.sub(r"(?m)^bench = \[[^\]]*\]", "bench = " + SMALL_BENCH[task_id], toml.read_text()))
    return load_task(target, tmp_path / "task_suite")


def time_on_cpu(task, library: Path) -> execution.ExecutionResult:
    return execution.run_cases(task, library, "cpu", [], timeout_s=120, stage="time",
                               timing={"seed": SEED, "policy": HOST_TIMER})


def judge(task, source: str, cache: Path) -> tuple[execution.ExecutionResult, execution.ExecutionResult]:
    """Every stage after extraction; raises the first StageFailure. Returns the answer's and the solution's timing
    runs."""
    static_check.check_source(source, task.libraries)
    build = compiler.compile_library(source, cache_dir=cache,
                                     extra_flags=tuple(static_check.link_flags(task.libraries)))
    static_check.check_imports(Path(build.library))
    cases = inputs.make_cases(task, SEED, 5)
    for case in cases:
        inputs.expect(task, case)
    library = supervisor.build_for_runtime("cpu", source, Path(build.library), cache, False)
    execution.run_cases(task, library, "cpu", cases, timeout_s=60)
    solution = supervisor.build_for_runtime("cpu", task.solution_source(), Path(build.library), cache, False)
    reference = time_on_cpu(task, solution)
    measured = time_on_cpu(task, library)
    assert len(measured.timed) == len(task.sizes.bench)
    for k, sizes in enumerate(task.sizes.bench):
        timing.check_bench_outputs(task, measured.bench_outputs, reference.bench_outputs, k, sizes, SEED)
    return measured, reference


@pytest.mark.parametrize("name,task_id,expect,source", TIME_CORPUS, ids=[e[0] for e in TIME_CORPUS])
def test_time_stage_corpus(tmp_path, shared_cache, name, task_id, expect, source):
    task = small_task(tmp_path, task_id)
    if expect == "PASS":
        measured, reference = judge(task, source, shared_cache)
        # It passes on the task's checker: its outputs are not the solution's element for element.
        assert any(not np.array_equal(measured.bench_outputs[key], reference.bench_outputs[key])
                   for key in reference.bench_outputs if ":call" not in key)
        return
    with pytest.raises(StageFailure) as failure:
        judge(task, source, shared_cache)
    assert failure.value.stage == "time", str(failure.value)
    assert re.search(expect, failure.value.message), failure.value.message
