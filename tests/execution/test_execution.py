"""The execute stage below the plugin: child isolation and the verdicts that static checks cannot give."""

from pathlib import Path

import numpy as np
import pytest
from helpers.tasks import task_with_cases

from pytest_cudabench.errors import StageFailure
from pytest_cudabench.execution.cpu_runtime import build_cpu_library
from pytest_cudabench.execution.runner import run_cases
from pytest_cudabench.execution.sandbox import seccomp_available
from pytest_cudabench.tasks import inputs

KERNEL = """
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
"""


@pytest.fixture(scope="module")
def vector_add():
    return task_with_cases("basics/vector_add", seed=11, count=3)


def execute(tmp_path, vector_add, body: str, timeout_s: float = 20):
    task, cases = vector_add
    source = "#include <cstdio>\n#include <cstdlib>\n#include <unistd.h>\n" + KERNEL + \
        'extern "C" void solve(const float* a, const float* b, float* c, int n) {\n' + body + "\n}\n"
    library = build_cpu_library(source, tmp_path / "lib.so")
    return run_cases(task, library, "cpu", cases, timeout_s=timeout_s)


LAUNCH = "add<<<(n + 255) / 256, 256>>>(a, b, c, n);"


def test_correct_answer_passes_every_case(tmp_path, vector_add):
    result = execute(tmp_path, vector_add, LAUNCH)
    assert result.runtime == "cpu"
    assert len(result.cases) == len(vector_add[1]) and all(c["passed"] for c in result.cases)


def test_exit_zero_is_never_a_pass(tmp_path, vector_add):
    with pytest.raises(StageFailure, match=r"process ended \(exit code 0\).*before reporting"):
        execute(tmp_path, vector_add, LAUNCH + " exit(0);")


@pytest.mark.skipif(not seccomp_available(), reason="seccomp needs x86-64 Linux")
def test_reading_a_file_is_killed(tmp_path, vector_add):
    body = 'FILE* f = fopen("/etc/passwd", "r"); if (f) fclose(f);\n' + LAUNCH
    with pytest.raises(StageFailure, match="SIGSYS.*forbidden system call"):
        execute(tmp_path, vector_add, body)


@pytest.mark.skipif(not seccomp_available(), reason="seccomp needs x86-64 Linux")
def test_starting_a_program_is_killed(tmp_path, vector_add):
    body = 'system("touch /tmp/cudabench-system-ran");\n' + LAUNCH
    with pytest.raises(StageFailure, match="SIGSYS"):
        execute(tmp_path, vector_add, body)
    assert not Path("/tmp/cudabench-system-ran").exists()


def test_endless_loop_times_out(tmp_path, vector_add):
    with pytest.raises(StageFailure, match=r"did not finish within 3 s in case 0"):
        execute(tmp_path, vector_add, "while (true) { usleep(1000); }", timeout_s=3)


def test_deadlock_is_reported_not_hung(tmp_path, vector_add):
    task, cases = vector_add
    source = KERNEL.replace("if (i < n) c[i] = a[i] + b[i];",
                            "if (threadIdx.x < 32) {\n __syncthreads();\n } else {\n __syncthreads();\n }\n"
                            " if (i < n) c[i] = a[i] + b[i];")
    source += 'extern "C" void solve(const float* a, const float* b, float* c, int n) {' + LAUNCH + "}\n"
    library = build_cpu_library(source, tmp_path / "lib.so")
    with pytest.raises(StageFailure, match="(?i)deadlock"):
        run_cases(task, library, "cpu", cases, timeout_s=20)


def test_chatty_answer_does_not_block(tmp_path, vector_add):
    body = 'for (int i = 0; i < 200000; ++i) printf("debug line %d of a very chatty answer\\n", i);\n' + LAUNCH
    result = execute(tmp_path, vector_add, body)
    assert all(c["passed"] for c in result.cases)


def test_sanitize_reports_an_out_of_bounds_write_by_line(tmp_path, vector_add):
    task, cases = vector_add
    source = KERNEL.replace("if (i < n) c[i] = a[i] + b[i];", "if (i <= n + 40) c[i] = 1.0f;")
    source += 'extern "C" void solve(const float* a, const float* b, float* c, int n) {' + LAUNCH + "}\n"
    library = build_cpu_library(source, tmp_path / "lib.so", sanitize=True)
    with pytest.raises(StageFailure) as exc:
        run_cases(task, library, "cpu", cases, timeout_s=60, sanitize=True)
    assert "AddressSanitizer" in exc.value.message and "in add(" in exc.value.message, exc.value.message


@pytest.mark.gpu
def test_gpu_runtime_judges_the_reference_solution(tmp_path, vector_add):
    from pytest_cudabench.source.compiler import compile_library
    from pytest_cudabench.timing.gpus import default_arch

    task, cases = vector_add
    build = compile_library(task.solution_source(), cache_dir=tmp_path, arch=default_arch())
    result = run_cases(task, build.library, "gpu", cases, timeout_s=60)
    assert result.runtime == "gpu" and all(c["passed"] for c in result.cases)


CANARY = "cudabench-canary-5f3a9c"


def test_the_answer_sees_no_secret_of_our_environment(tmp_path, vector_add, monkeypatch):
    # The secret, if readable, goes as text into the child's output just before a crash (whose report carries the
    # output's tail) and as character codes into the result; with an allowlisted environment there is nothing.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    monkeypatch.setenv("CUDABENCH_SOMETHING_PRIVATE", CANARY)
    body = LAUNCH + """
    const char* names[] = {"AWS_SECRET_ACCESS_KEY", "CUDABENCH_SOMETHING_PRIVATE"};
    for (const char* name : names) {
        const char* secret = getenv(name);
        if (secret) { fprintf(stderr, "leaked: %s\\n", secret); fflush(stderr); *(volatile int*)nullptr = 0; }
    }"""
    result = execute(tmp_path, vector_add, body)
    assert all(c["passed"] for c in result.cases)


def test_the_child_gets_only_allowlisted_variables(tmp_path, monkeypatch):
    from pytest_cudabench.execution.supervisor import CHILD_ENV, child_environment

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    env = child_environment(tmp_path)
    assert CANARY not in env.values() and env["PATH"] == "/usr/bin:/bin" and env["HOME"] == str(tmp_path)
    assert set(env) <= {*CHILD_ENV, "HOME", "TMPDIR", "CUDA_MODULE_LOADING"}


def test_the_child_runs_in_its_own_session_under_resource_limits(tmp_path, vector_add):
    # Set by the child itself now (no preexec_fn in a threaded parent): a core-dump limit of 0, a CPU-time limit,
    # and its own session. Any of them missing makes the answer write a wrong value.
    body = LAUNCH + """
    struct rlimit core, cpu;
    getrlimit(RLIMIT_CORE, &core);
    getrlimit(RLIMIT_CPU, &cpu);
    if (core.rlim_cur != 0 || cpu.rlim_cur == RLIM_INFINITY || getsid(0) != getpid()) {
        float bad = -12345.0f;
        cudaMemcpy(c, &bad, sizeof bad, cudaMemcpyHostToDevice);
    }"""
    task, cases = vector_add
    source = "#include <sys/resource.h>\n#include <unistd.h>\n" + KERNEL + \
        'extern "C" void solve(const float* a, const float* b, float* c, int n) {\n' + body + "\n}\n"
    library = build_cpu_library(source, tmp_path / "lib.so")
    result = run_cases(task, library, "cpu", cases, timeout_s=20)
    assert all(c["passed"] for c in result.cases)


def test_a_correct_but_slow_answer_is_too_slow_for_the_cpu_runtime_not_wrong(tmp_path, vector_add):
    """Quadratic work per call: the small cases finish, a larger one runs out of time. On the CPU runtime that is a
    skip ("too slow for the CPU runtime"), not a wrong answer; an answer stuck in its first call still fails."""
    from pytest_cudabench.errors import StageSkip

    task, cases = vector_add
    slow = KERNEL.replace("if (i < n) c[i] = a[i] + b[i];",
                          "if (i < n) { float zero = 0.0f;\n"
                          "    for (int j = 0; j < n; ++j) zero += 0.0f * a[j];  // O(n) per thread: O(n^2) per call\n"
                          "    c[i] = a[i] + b[i] + zero; }")
    source = slow + 'extern "C" void solve(const float* a, const float* b, float* c, int n) {' + LAUNCH + "}\n"
    library = build_cpu_library(source, tmp_path / "lib.so")
    small = [c for c in cases if c.sizes["n"] <= 1025]
    assert run_cases(task, library, "cpu", small, timeout_s=30).cases  # correct where it has the time
    big = inputs.make_case(task, {"n": 70000}, np.random.default_rng(1))
    big.index = len(small)
    inputs.expect(task, big)
    with pytest.raises(StageSkip, match=r"too slow for the CPU runtime: \d+ call\(s\) finished .* did not finish "
                                        r"within the 3 s limit"):
        run_cases(task, library, "cpu", [*small, big], timeout_s=3)
