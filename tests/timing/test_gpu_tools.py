"""compute-sanitizer and ncu around the child: their command lines, what we read from their logs, and the wiring
(a stand-in tool on PATH, since neither runs without a GPU; the child, kernels and CPU runtime are real)."""

import os
import stat
import textwrap
from pathlib import Path

import pytest
from helpers.ncu_logs import SAMPLE_CSV
from helpers.paths import SUITE

from pytest_cudabench.errors import StageFailure, StageSkip
from pytest_cudabench.execution import runner as execution
from pytest_cudabench.execution.cpu_runtime.build import build_cpu_library
from pytest_cudabench.tasks import inputs
from pytest_cudabench.tasks.loader import load_task
from pytest_cudabench.timing import gpu_tools
from pytest_cudabench.timing import stage as timing

MEMCHECK_LOG = """\
========= COMPUTE-SANITIZER
========= Invalid __global__ write of size 4 bytes
=========     at add_kernel(const float *, const float *, float *, int)+0x70 in /tmp/cudabench-x/answer.cu:7
=========     by thread (63,0,0) in block (1,0,0)
=========     Address 0x7f3a00000400 is out of bounds
=========     and is 1 bytes after the nearest allocation at 0x7f3a00000000 of size 1023 bytes
=========     Saved host backtrace up to driver entry point at kernel launch time
=========         Host Frame: [0x2f1c4f] in libcuda.so.1
=========
========= Invalid __global__ write of size 4 bytes
=========     at add_kernel(const float *, const float *, float *, int)+0x70 in /tmp/cudabench-x/answer.cu:7
=========     by thread (64,0,0) in block (1,0,0)
=========
========= ERROR SUMMARY: 2 errors
"""


def test_sanitizer_findings_name_kernel_line_thread_and_count():
    found = gpu_tools.sanitizer_findings(MEMCHECK_LOG)
    assert found == ("compute-sanitizer: Invalid __global__ write of size 4 bytes; at add_kernel(const float *, "
                     "const float *, float *, int)+0x70 in /tmp/cudabench-x/answer.cu:7; by thread (63,0,0) in "
                     "block (1,0,0); Address 0x7f3a00000400 is out of bounds (2 error(s) in all)")
    assert gpu_tools.sanitizer_findings("========= COMPUTE-SANITIZER\n========= ERROR SUMMARY: 0 errors\n") is None
    assert gpu_tools.sanitizer_findings("") is None


def test_tool_command_lines():
    command = gpu_tools.sanitizer_command("/cuda/bin/compute-sanitizer", Path("/job/sanitizer.log"))
    assert command[:3] == ["/cuda/bin/compute-sanitizer", "--tool", "memcheck"]
    assert "--error-exitcode" in command and command[-2:] == ["--log-file", "/job/sanitizer.log"]
    ncu = gpu_tools.ncu_command("/cuda/bin/ncu", Path("/tmp/ncu.csv"))
    metrics = ncu[ncu.index("--metrics") + 1].split(",")
    assert "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum.per_cycle_elapsed" in metrics
    assert ncu[ncu.index("--profile-from-start") + 1] == "off"
    assert ncu[ncu.index("--print-units") + 1] == "base"


def test_ncu_log_reading():
    assert gpu_tools.ncu_scale_score(SAMPLE_CSV)["kernel"].startswith("relu_kernel")
    with pytest.raises(ValueError, match="NVreg_RestrictProfilingToAdminUsers"):
        gpu_tools.ncu_scale_score("==ERROR== ERR_NVGPUCTRPERM - The user does not have permission\n")
    with pytest.raises(ValueError, match="profiled no kernel launch"):
        gpu_tools.ncu_scale_score("==PROF== Connected to process 1\n==PROF== Disconnected from process 1\n")
    assert gpu_tools.ncu_failure("==ERROR== Failed to prepare kernel for profiling\n") == \
        "ncu failed: Failed to prepare kernel for profiling"


def _tool(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def vector_add():
    return load_task(SUITE / "basics" / "vector_add", SUITE)


def test_ncu_profile_scores_every_scale(tmp_path, monkeypatch, vector_add):
    _tool(tmp_path / "bin", "ncu", "exit 0\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_HOME", raising=False)
    calls = []

    def run_profiled(k, wrapper):
        calls.append(k)
        assert wrapper[0] == str(tmp_path / "bin" / "ncu")
        Path(wrapper[wrapper.index("--log-file") + 1]).write_text(SAMPLE_CSV)
        return execution.ExecutionResult(runtime="gpu", cases=[], duration_s=0.0, sandbox="rlimits only")

    record = timing.profile_with_ncu(vector_add, run_profiled, {})
    assert calls == [0, 1, 2, 3, 4] and record["status"] == "passed"
    single = gpu_tools.ncu_scale_score(SAMPLE_CSV)["score"]
    assert record["performance_score"] == pytest.approx(single)
    assert len(record["scales"]) == 5 and record["scales"][2]["sizes"] == vector_add.sizes.complete(
        vector_add.sizes.bench[2])

    def no_permission(k, wrapper):
        Path(wrapper[wrapper.index("--log-file") + 1]).write_text("==ERROR== ERR_NVGPUCTRPERM\n")
        raise StageFailure("time", "the process ended before reporting results")

    failed = timing.profile_with_ncu(vector_add, no_permission, {})
    assert failed["status"] == "failed" and "ERR_NVGPUCTRPERM" in failed["message"]
    assert failed["performance_score"] is None

    def answer_breaks(k, wrapper):
        raise StageFailure("time", "CUDA error in bench0: cudaErrorIllegalAddress")

    with pytest.raises(StageFailure, match="cudaErrorIllegalAddress"):
        timing.profile_with_ncu(vector_add, answer_breaks, {})

    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("pytest_cudabench.source.toolkit.toolkit_roots", lambda: [])  # no toolkit anywhere
    assert timing.profile_with_ncu(vector_add, run_profiled, {})["status"] == "not-run"


def test_gpu_sanitize_without_compute_sanitizer_skips_with_the_reason(monkeypatch, vector_add):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CUDA_HOME", raising=False)
    monkeypatch.setattr("pytest_cudabench.source.toolkit.toolkit_roots", lambda: [])  # no toolkit anywhere
    with pytest.raises(StageSkip, match="needs compute-sanitizer"):
        execution.run_cases(vector_add, Path("unused.so"), "gpu", [], timeout_s=10, sanitize=True)


def test_a_tool_wrapping_the_child_runs_it_and_its_findings_fail_the_item(tmp_path, vector_add):
    """The wrapper mechanism end to end on the CPU runtime: the child runs under the tool (without seccomp), and a
    sanitizer log with an error fails the execute stage with the kernel and line."""
    library = build_cpu_library((vector_add.path / "solution.cu").read_text(), tmp_path / "build")
    cases = inputs.make_cases(vector_add, 7, 2)
    for case in cases:
        inputs.expect(vector_add, case)
    clean = _tool(tmp_path / "clean", "tool", 'exec "$@"\n')
    result = execution.run_cases(vector_add, library, "cpu", cases, timeout_s=60, wrapper=[str(clean)])
    assert result.sandbox == "rlimits only" and len(result.cases) == len(cases)

    log = MEMCHECK_LOG.replace("\n", "\\n")
    reporting = _tool(tmp_path / "memcheck", "tool", f'"$@"; printf "{log}" > {execution.SANITIZER_LOG}\n')
    with pytest.raises(StageFailure, match=r"compute-sanitizer: Invalid __global__ write .*answer.cu:7.*\(in case"):
        execution.run_cases(vector_add, library, "cpu", cases, timeout_s=60, wrapper=[str(reporting)])


def test_the_answer_binds_to_the_runtime_the_child_loaded(tmp_path, vector_add):
    """Without a GPU the runtime still loads: the answer's libcudart dependency must resolve to the instance the
    child loaded first (one runtime, so the child reads the answer's CUDA errors), wherever the toolkit lives."""
    import subprocess
    import sys

    from pytest_cudabench.source.compiler import compile_library

    library = compile_library(vector_add.solution_source(), cache_dir=tmp_path).library
    probe = textwrap.dedent(f"""
        import ctypes
        from pytest_cudabench.timing.gpu_api import load_cudart
        rt = load_cudart()
        answer = ctypes.CDLL({library!r}, mode=ctypes.RTLD_LOCAL)
        mapped = {{line.split()[-1] for line in open("/proc/self/maps") if "libcudart" in line}}
        assert len(mapped) == 1, mapped
        buffer = (ctypes.c_float * 4)()
        answer.solve(buffer, buffer, buffer, 4)  # no driver: the launch fails inside the answer's runtime...
        code = rt.cudaGetLastError()  # ...and the child's runtime sees it
        print("error", rt.cudaGetErrorName(code).decode() if code else "none")
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("error cuda") and "none" not in out.stdout, out.stdout


def test_half_scalars_travel_as_their_bit_pattern():
    from pytest_cudabench.execution.child import c_scalar

    assert c_scalar("float16", 1.0) == 0x3C00 and c_scalar("float16", -2.0) == 0xC000
    assert c_scalar("float32", 3) == 3.0 and isinstance(c_scalar("int32", 7.0), int)


def test_calibration_runs_in_a_process_of_its_own_and_says_why_it_failed():
    """The pytest process never creates a CUDA context; without a GPU the child's reason comes back."""
    from pytest_cudabench.timing.calibrate import calibrate_in_child
    from pytest_cudabench.timing.gpus import detect_cuda_devices

    if detect_cuda_devices():
        pytest.skip("a GPU is present: calibration would succeed")
    with pytest.raises(RuntimeError, match=r"calibration failed \(exit code 1\): calibration needs a usable GPU"):
        calibrate_in_child(0, timeout_s=120)
