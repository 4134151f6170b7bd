"""The CUDA-LLM paper's 20 kernels as a named set: exactly these tasks carry the `cuda_llm` tag, and `-m cuda_llm`
selects their items (a registered marker, so `--strict-markers` accepts it)."""

import shutil

from helpers.paths import SUITE

from pytest_cudabench.tasks.loader import find_task_dirs, load_task
from pytest_cudabench.tasks.sets import TASK_SETS, task_sets

# kernel named in the paper -> the task that implements it
CUDA_LLM_KERNELS = {
    "sigmoid": "ai/sigmoid",
    "matmul": "linalg/sgemm",
    "maxpool3d": "ai/maxpool3d",
    "layernorm": "ai/layernorm",
    "conv2d": "ai/conv2d",
    "multi-head self-attention": "ai/multi_head_attention",
    "MSE": "ai/mse_loss",
    "transpose": "linalg/transpose",
    "reverse": "basics/reverse",
    "ReLU": "ai/relu",
    "top-k": "ai/topk",
    "sorting": "reduction/radix_sort",
    "matrix copy": "basics/matrix_copy",
    "reduction": "reduction/sum",
    "dot product": "linalg/sdot",
    "prefix sum": "reduction/inclusive_scan",
    "categorical cross-entropy": "ai/cross_entropy",
    "Monte Carlo integration": "science/monte_carlo_integration",
    "histogram": "analytics/histogram",
    "OLS": "linalg/ols_batched",
}


def test_the_cuda_llm_tag_marks_exactly_the_papers_20_kernels():
    tasks = [load_task(path, SUITE) for path in find_task_dirs(SUITE)]
    tagged = {t.id for t in tasks if "cuda_llm" in task_sets(t)}
    expected = set(CUDA_LLM_KERNELS.values())
    assert len(CUDA_LLM_KERNELS) == 20 and len(expected) == 20
    assert tagged == expected, f"untagged: {expected - tagged}, tagged but not the paper's: {tagged - expected}"
    assert "cuda_llm" in TASK_SETS


def test_marker_cuda_llm_selects_the_set(pytester, shared_cache):
    shutil.copytree(SUITE, pytester.path / "task_suite")
    total = len(find_task_dirs(SUITE))
    result = pytester.runpytest_subprocess(
        f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out", "-p", "no:cacheprovider",
        "--cudabench-model=reference", "--strict-markers", "--collect-only", "-q", "-m", "cuda_llm", "task_suite")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines([f"*60/{3 * total} tests collected*"])
    collected = [line.split("::")[0].removeprefix("task_suite/") for line in result.stdout.lines if "::level" in line]
    assert sorted(set(collected)) == sorted(CUDA_LLM_KERNELS.values())
    assert all(collected.count(task) == 3 for task in CUDA_LLM_KERNELS.values())
    # a set marker combines with the built-in ones
    result = pytester.runpytest_subprocess(
        f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out", "-p", "no:cacheprovider",
        "--cudabench-model=reference", "--strict-markers", "--collect-only", "-q", "-m", "cuda_llm and basics and level3",
        "task_suite")
    result.stdout.fnmatch_lines(["task_suite/basics/matrix_copy::level3[[]sample0[]]",
                                 "task_suite/basics/reverse::level3[[]sample0[]]", f"*2/{3 * total} tests collected*"])


def test_marker_selection_runs_on_xdist_workers(pytester, shared_cache):
    # workers build their own items: the set marker must be there too, and registered for --strict-markers
    shutil.copytree(SUITE, pytester.path / "task_suite")
    result = pytester.runpytest_subprocess(
        f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out", "-p", "no:cacheprovider",
        "--cudabench-model=reference", "--cudabench-runtime=cpu", "--strict-markers", "-n", "2",
        "-m", "cuda_llm and basics and level2", "task_suite")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(["2 workers [[]2 items[]]", "*2 passed*"])  # the workers selected 2 of all
