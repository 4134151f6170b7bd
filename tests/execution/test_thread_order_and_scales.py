"""The execute stage on the CPU runtime against races hidden by a fixed thread order and sizes hard-coded from a
prompt example (cheats 17 and 18): real g++ builds of corpus answers run in the sandboxed child."""


import pytest
from helpers.paths import CORPUS, SUITE

from pytest_cudabench.errors import StageFailure
from pytest_cudabench.execution.cpu_runtime import build_cpu_library
from pytest_cudabench.execution.runner import asan_runtime, case_runs, order_positions, run_cases
from pytest_cudabench.tasks import inputs
from pytest_cudabench.tasks.loader import load_task


def judged(task_id: str, count: int = 3, scales: bool = False):
    task = load_task(SUITE / task_id, SUITE)
    cases = inputs.make_cases(task, seed=5, count=count)
    if scales:
        cases += inputs.cpu_scale_cases(task, 5, len(cases))
    for case in cases:
        inputs.expect(task, case)
    return task, cases


def execute(tmp_path, task_id: str, source: str, *, sanitize: bool = False, scales: bool = False):
    task, cases = judged(task_id, scales=scales)
    library = build_cpu_library(source, tmp_path / "lib.so", sanitize=sanitize)
    return run_cases(task, library, "cpu", cases, timeout_s=60, sanitize=sanitize)


def test_a_shared_memory_race_is_reported_like_racecheck(tmp_path):
    with pytest.raises(StageFailure) as exc:
        execute(tmp_path, "reduction/inclusive_scan", (CORPUS / "unsynced_block_scan.cu").read_text())
    assert exc.value.stage == "execute"
    assert "shared-memory race" in exc.value.message and "in kernel scan_blocks" in exc.value.message
    assert exc.value.message.count("at line 9") == 2, exc.value.message  # both accesses, by source line


@pytest.mark.skipif(asan_runtime() is None, reason="libasan not available")
def test_the_same_race_fails_under_the_sanitizer_through_thread_order(tmp_path):
    with pytest.raises(StageFailure, match="(?s)result depends on thread order.*Add __syncthreads"):
        execute(tmp_path, "reduction/inclusive_scan", (CORPUS / "unsynced_block_scan.cu").read_text(), sanitize=True)


def test_a_race_through_global_memory_fails_as_thread_order_dependent(tmp_path):
    with pytest.raises(StageFailure, match=r"result depends on thread order: correct with each block's threads run "
                                           r"in thread order between barriers, wrong when run "):
        execute(tmp_path, "reduction/inclusive_scan", (CORPUS / "global_memory_chain_scan.cu").read_text())


def test_the_task_solution_passes_every_order_and_the_cpu_benchmark_scale(tmp_path):
    task = load_task(SUITE / "linalg/ddot", SUITE)
    result = execute(tmp_path, "linalg/ddot", task.solution_source(), scales=True)
    assert [c["sizes"] for c in result.cases[-2:]] == [{"n": 2097152}, {"n": 2097153}]
    # over 1 MB: no order run; the benchmark scale and the probe just above it: one call each
    assert [len(c["seconds"]) for c in result.cases] == [3, 3, 3, 3, 2, 3, 2, 1, 1]


def test_a_grid_sized_for_one_million_elements_fails_at_the_cpu_benchmark_scale(tmp_path):
    with pytest.raises(StageFailure, match=r"wrong result in case \d+ \(n=2097152, benchmark scale 2\)"):
        execute(tmp_path, "linalg/ddot", (CORPUS / "grid_for_1m_elements.cu").read_text(), scales=True)


def test_the_cpu_benchmark_scale_is_the_smallest_beyond_the_test_sizes_within_budget():
    ddot = load_task(SUITE / "linalg/ddot", SUITE)
    case, probe = inputs.cpu_scale_cases(ddot, 5, 9)
    assert (case.index, case.scale, case.sizes) == (9, 2, {"n": 2097152})
    assert case.describe() == "n=2097152, benchmark scale 2"
    # just above it: an answer sized for the smallest benchmark scale (often a prompt's example size) fails there
    assert (probe.index, probe.scale, probe.sizes) == (10, None, {"n": 2097153})
    assert probe.describe() == "n=2097153, just above benchmark scale 2"
    vector_add = load_task(SUITE / "basics/vector_add", SUITE)  # 4M elements: over the CPU budget
    assert inputs.cpu_scale_cases(vector_add, 5, 0) == []


def test_thread_orders_and_racecheck_are_cpu_runtime_runs_only():
    task, cases = judged("linalg/ddot")
    assert case_runs("gpu", cases[0], 0) == [(0xFF, "forward", False), (0x7B, "forward", False)]
    orders = [case_runs("cpu", case, k)[2] for k, case in enumerate(cases[:3])]
    assert orders == [(0xFF, "reverse", True), (0xFF, "warps", True), (0xFF, "shuffle", True)]
    assert len(case_runs("cpu", cases[0], None)) == 2
    assert order_positions([*cases, *inputs.cpu_scale_cases(task, 5, len(cases))]) == \
        [0, 1, 2, 3, None, 4, None, None, None]


def test_a_grid_sized_for_the_smallest_benchmark_scale_fails_just_above_it(tmp_path):
    # The issue-22 case: the smallest benchmark scale is the prompt's example size, so a grid sized for it passes
    # there; the probe one element above it does not.
    source = (CORPUS / "grid_for_1m_elements.cu").read_text().replace("1048576 / THREADS", "2097152 / THREADS")
    with pytest.raises(StageFailure, match=r"wrong result in case \d+ \(n=2097153, just above benchmark scale 2\)"):
        execute(tmp_path, "linalg/ddot", source, scales=True)
