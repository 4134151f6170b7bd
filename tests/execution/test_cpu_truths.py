"""Verdicts the CPU runtime must give as a GPU would: answers whose work is done on the host (the knockout run),
device memory that is not zero when fresh, and the launch limits of the target architecture. Real g++ builds of
small answers for reduction/sum run in the sandboxed child."""

from pathlib import Path

import pytest
from helpers.paths import CORPUS, SUITE

from pytest_cudabench.errors import StageFailure
from pytest_cudabench.execution.cpu_runtime import build_cpu_library
from pytest_cudabench.execution.knockout import check_kernel_answer
from pytest_cudabench.execution.runner import run_cases
from pytest_cudabench.tasks import inputs
from pytest_cudabench.tasks.loader import load_task

# Block partials computed by a kernel, summed on the host: a legitimate mixed answer.
MIXED_SUM = r"""
#include <vector>
__global__ void partials(const float* x, float* part, int n) {
    __shared__ float s[256];
    float v = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) v += x[i];
    s[threadIdx.x] = v;
    __syncthreads();
    for (int k = 128; k > 0; k >>= 1) {
        if (threadIdx.x < k) s[threadIdx.x] += s[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) part[blockIdx.x] = s[0];
}
extern "C" void solve(const float* x, float* out, int n) {
    const int blocks = 32;
    float* part;
    cudaMalloc(&part, blocks * sizeof(float));
    partials<<<blocks, 256>>>(x, part, n);
    std::vector<float> h(blocks);
    cudaMemcpy(h.data(), part, blocks * sizeof(float), cudaMemcpyDeviceToHost);
    float s = 0.0f;
    for (float v : h) s += v;
    cudaMemcpy(out, &s, sizeof(float), cudaMemcpyHostToDevice);
    cudaFree(part);
}
"""

# 64 KB of dynamic shared memory per block (one float per thread is used; the rest is what a histogram would take).
BIG_SHARED_SUM = r"""
__global__ void sum(const float* x, float* out, int n) {
    extern __shared__ float part[];
    float v = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) v += x[i];
    part[threadIdx.x] = v;
    __syncthreads();
    if (threadIdx.x == 0) {
        float s = 0.0f;
        for (int k = 0; k < blockDim.x; k++) s += part[k];
        atomicAdd(out, s);
    }
}
extern "C" void solve(const float* x, float* out, int n) {
    __OPT_IN__
    cudaMemset(out, 0, sizeof(float));
    sum<<<16, 256, 65536>>>(x, out, n);
}
"""
OPT_IN = "cudaFuncSetAttribute(sum, cudaFuncAttributeMaxDynamicSharedMemorySize, 65536);"


def sum_cases():
    task = load_task(SUITE / "reduction/sum", SUITE)
    cases = inputs.make_cases(task, seed=5, count=3)
    for case in cases:
        inputs.expect(task, case)
    return task, cases


def execute(tmp_path, source: str, arch: str | None = None, knockout: bool = True) -> dict:
    """The execute stage's runs of `source` on reduction/sum: the cases, then the knockout run. Its record."""
    task, cases = sum_cases()
    library = build_cpu_library(source, tmp_path / "lib.so", arch=arch)
    record = run_cases(task, library, "cpu", cases, timeout_s=60).to_dict()
    if knockout:
        check_kernel_answer(record, task, source, library, "cpu", cases, tmp_path / "cache", 60)
    return record


def test_an_answer_that_sums_on_the_host_fails_the_knockout_run(tmp_path):
    with pytest.raises(StageFailure, match=r"the outputs do not depend on any kernel: the work is done on the host "
                                           r"\(with every kernel launch turned into a no-op, the outputs still passed "
                                           r"in case 4 \(n=300007\)\)") as exc:
        execute(tmp_path, (CORPUS / "host_computed_sum.cu").read_text())
    assert exc.value.stage == "execute"


def test_block_partials_summed_on_the_host_pass_the_knockout_run(tmp_path):
    record = execute(tmp_path, MIXED_SUM)
    assert record["knockout"]["verdict"] == "kernels-needed"
    assert record["knockout"]["message"].startswith("without its kernels: wrong result in case 4 (n=300007)")


def test_an_accumulator_cudamalloc_left_uncleared_fails(tmp_path):
    with pytest.raises(StageFailure, match=r"wrong result in case 0"):
        execute(tmp_path, (CORPUS / "uncleared_malloc_accumulator.cu").read_text(), knockout=False)


def test_64_kb_of_dynamic_shared_memory_needs_the_opt_in_as_on_a_gpu(tmp_path):
    with pytest.raises(StageFailure, match=r"CUDA error in case 0 \(n=1\): kernel sum requests 65536 bytes of dynamic "
                                           r"shared memory without opting in.*\(cudaErrorInvalidValue\)"):
        execute(tmp_path / "without", BIG_SHARED_SUM.replace("__OPT_IN__", ""), arch="sm_90", knockout=False)
    execute(tmp_path / "with", BIG_SHARED_SUM.replace("__OPT_IN__", OPT_IN), arch="sm_90", knockout=False)


def test_no_block_gets_more_than_its_architectures_shared_memory(tmp_path):
    # sm_86 gives a block at most 99 KB even with the opt-in; sm_90 gives 227 KB.
    source = BIG_SHARED_SUM.replace("__OPT_IN__", OPT_IN).replace("65536", "128 * 1024")
    with pytest.raises(StageFailure, match=r"requests 131072 bytes of dynamic shared memory; a block on sm_86 gets "
                                           r"at most 101376 bytes"):
        execute(tmp_path / "sm86", source, arch="sm_86", knockout=False)
    execute(tmp_path / "sm90", source, arch="sm_90", knockout=False)


# A grid sized for the prompt's example n, with a bounds check and no stride loop: right at every smaller size.
GRID_FOR_PROMPT_N = r"""
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    add<<<1000000 / 250, 250>>>(a, b, c, n);  // exactly the example size
}
"""


def vector_add_whose_prompt_names(tmp_path, example: str):
    """A copy of basics/vector_add whose level-2 prompt ends with `example` (its benchmark scales are all over the
    CPU budget: without a probe, nothing above the test sizes is judged)."""
    import shutil

    root = tmp_path / "suite"
    shutil.copytree(SUITE / "basics/vector_add", root / "basics/vector_add")
    toml = root / "basics/vector_add/task.toml"
    toml.write_text(toml.read_text().replace("in single precision.\n", f"in single precision. {example}\n", 1))
    return load_task(root / "basics/vector_add", root)


def test_sizes_a_prompt_names_are_probed_just_above():
    task = vector_add_whose_prompt_names_cached()
    assert inputs.prompt_sizes(task) == [("n", 1000000)]
    (probe,) = inputs.cpu_scale_cases(task, 5, 7)
    assert (probe.index, probe.sizes, probe.scale) == (7, {"n": 1000001}, None)
    assert probe.describe() == "n=1000001, just above the prompt's n = 1000000"


def vector_add_whose_prompt_names_cached(_made={}):  # noqa: B006  (one copy per session is enough)
    import tempfile

    if not _made:
        _made["task"] = vector_add_whose_prompt_names(Path(tempfile.mkdtemp(prefix="cudabench-test-")),
                                                      "For example, n = 1,000,000 (or N <= 2000000).")
    return _made["task"]


def test_bounds_in_a_prompt_are_not_sizes(tmp_path):
    task = vector_add_whose_prompt_names(tmp_path, "n <= 1000000, n >= 1 and n == n; xn = 7, n.x = 5")
    assert inputs.prompt_sizes(task) == []


def test_an_answer_hard_coding_the_prompts_example_size_fails_just_above_it(tmp_path):
    task = vector_add_whose_prompt_names_cached()
    cases = inputs.make_cases(task, seed=5, count=3)
    cases += inputs.cpu_scale_cases(task, 5, len(cases))
    for case in cases:
        inputs.expect(task, case)
    library = build_cpu_library(GRID_FOR_PROMPT_N, tmp_path / "lib.so")
    with pytest.raises(StageFailure, match=r"wrong result in case \d+ \(n=1000001, just above the prompt's n = "
                                           r"1000000\):(?s:.*)1 element\(s\) of `c` were never written"):
        run_cases(task, library, "cpu", cases, timeout_s=60)
    library = build_cpu_library(task.solution_source(), tmp_path / "solution.so")
    result = run_cases(task, library, "cpu", cases, timeout_s=60)
    assert [len(c["seconds"]) for c in result.cases][-1] == 1  # the probe: one call


def test_static_and_dynamic_shared_memory_together_obey_the_48_kb_default(tmp_path):
    # 40 KB of __shared__ variables and 16 KB of dynamic shared memory: each under 48 KB, together over it.
    source = BIG_SHARED_SUM.replace("__OPT_IN__", "").replace("65536", "16384").replace(
        "extern __shared__ float part[];", "extern __shared__ float part[];\n    __shared__ float table[10240];\n"
        "    table[threadIdx.x] = 0.0f;")
    with pytest.raises(StageFailure, match=r"kernel sum uses 40960 bytes of __shared__ variables and requests 16384 "
                                           r"bytes of dynamic shared memory: more than the 49152 bytes a block gets"):
        execute(tmp_path, source, arch="sm_90", knockout=False)
