"""The command-line tools run for real: list, --version, export-benchmark as the README writes it, doctor."""

import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
import sys

import pytest
from helpers.paths import REPO
from helpers.report_factory import make_report

from pytest_cudabench import __version__
from pytest_cudabench.execution.runner import gpu_unusable_reason
from pytest_cudabench.timing.gpus import detect_cuda_devices


def cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "pytest_cudabench", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_version():
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"pytest-cudabench {__version__}"


def test_list_filters_by_path_and_shows_domain_tier_tags():
    done = cli("list", "task_suite/linalg", "task_suite/basics/vector_add")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:4] == ["id", "domain", "tier", "title"] and lines[0].split()[-1] == "tags"
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert "basics/vector_add" in rows and all(k.startswith("linalg/") for k in rows if k != "basics/vector_add")
    assert "elementwise" in rows["basics/vector_add"] and " easy " in rows["basics/vector_add"]
    assert lines[-1].startswith(f"{len(rows)} task(s): ") and lines[-1].endswith(" hard")
    listed = json.loads(cli("list", "--json", "task_suite/ai").stdout)
    assert listed and all(t["domain"] == "ai" for t in listed)
    assert {"id", "domain", "tier", "tags", "title"} <= set(listed[0])
    missing = cli("list", "no/such/dir")
    assert missing.returncode == 2 and "no/such/dir is not a directory" in missing.stderr


def test_list_names_a_broken_task_and_exits_1(tmp_path):
    suite = tmp_path / "task_suite"
    shutil.copytree(REPO / "task_suite" / "basics" / "vector_add", suite / "basics" / "vector_add")
    shutil.copytree(REPO / "task_suite" / "basics" / "vector_add", suite / "basics" / "broken")
    done = cli("list", str(suite))
    assert done.returncode == 1
    assert "basics/vector_add" in done.stdout and "broken/task.toml: [id]" in done.stderr


def test_export_benchmark_without_output_writes_beside_the_report(tmp_path):
    report = tmp_path / "run.json"
    report.write_text(json.dumps(make_report()))
    done = cli("export-benchmark", str(report))
    assert done.returncode == 0, done.stderr
    written = tmp_path / "run.benchmark.json"
    assert str(written) in done.stdout
    assert json.loads(written.read_text())["benchmarks"]


@pytest.fixture(scope="module")
def doctor():
    done = cli("doctor", "--json")
    return done.returncode, json.loads(done.stdout)


def test_doctor_reports_every_row(doctor):
    returncode, result = doctor
    rows = {row["name"]: row for row in result["checks"]}
    assert list(rows) == ["nvcc", "CUDA headers", "g++", "driver / GPU", "GPU API", "driver / toolkit", "ncu",
                          "compute-sanitizer", "seccomp", "Landlock", "CPU-runtime run", "GPU-runtime run"]
    assert all(row["status"] in ("ok", "missing", "warn", "skip") and row["detail"] for row in rows.values())
    for row in rows.values():
        if row["status"] in ("missing", "warn"):
            assert row["fix"], row  # every problem says what to do
    assert returncode == (0 if result["usable"] else 1)
    if shutil.which("g++"):
        assert rows["g++"]["status"] == "ok"
    assert rows["seccomp"]["status"] == ("ok" if sys.platform == "linux" else "warn")
    assert rows["Landlock"]["detail"].startswith("ABI ") or rows["Landlock"]["status"] == "warn"


def test_doctor_runs_a_task_on_the_cpu_runtime(doctor):
    _, result = doctor
    rows = {row["name"]: row for row in result["checks"]}
    if rows["nvcc"]["status"] != "ok" or rows["g++"]["status"] != "ok":
        assert rows["CPU-runtime run"]["status"] == "missing"
        pytest.skip("no nvcc or g++ here: the CPU-runtime run is expected to fail")
    assert rows["CPU-runtime run"]["status"] == "ok" and result["usable"]
    assert "basics/vector_add: compiled" in rows["CPU-runtime run"]["detail"]


def test_doctor_gpu_rows_say_why_they_are_skipped(doctor):
    _, result = doctor
    rows = {row["name"]: row for row in result["checks"]}
    if detect_cuda_devices() > 0:
        # A GPU the runtime cannot use is skipped, saying why; a usable one runs: never a failure on a good machine.
        run, reason = rows["GPU-runtime run"], gpu_unusable_reason()
        if reason:
            assert run["status"] == "skip" and reason in run["detail"], run
        else:
            assert run["status"] in ("ok", "warn") and run["detail"].startswith("Performance-Score twice each: "), run
            assert run["detail"].count("/") >= 6, run  # three tasks, two scores each
            assert (run["status"] == "warn") == bool(run["fix"]), run  # a spread says what steadies the timings
        return
    assert rows["driver / GPU"]["status"] == "skip"
    assert rows["GPU-runtime run"] == {"name": "GPU-runtime run", "status": "skip", "fix": "",
                                       "detail": "no usable GPU: timing and Performance-Scores need one"}
    if rows["nvcc"]["status"] == "ok":
        release = re.search(r"release (\d+\.\d)", subprocess.run([rows["nvcc"]["detail"].split()[0], "--version"],
                            capture_output=True, text=True).stdout)[1]
        assert rows["driver / toolkit"] == {"name": "driver / toolkit", "status": "skip", "fix": "",
                                            "detail": f"nvcc is CUDA {release}; no NVIDIA driver to compare it with"}


def test_doctor_names_the_gpu_api_it_would_use_and_why_not_the_other(doctor):
    _, result = doctor
    row = {row["name"]: row for row in result["checks"]}["GPU API"]
    installed = [name for name, module in (("cuda-bindings", "cuda.bindings"), ("pycuda", "pycuda"))
                 if importlib.util.find_spec(module)]
    if not installed:
        assert row["status"] in ("skip", "missing") and "pytest-cudabench[gpu]" in row["fix"]
        return
    assert row["detail"].startswith(f"{installed[0]} {importlib.metadata.version(installed[0])} (auto takes "
                                    "cuda-bindings first; ")
    other = "pycuda" if installed[0] == "cuda-bindings" else "cuda-bindings"
    assert (f"{other}: not installed" if other not in installed else f"{other}: installed, not chosen") in row["detail"]


def test_doctor_compares_the_driver_with_the_toolkit():
    from pytest_cudabench.doctor import compare_driver_toolkit

    newer = compare_driver_toolkit(12040, 13000, "nvidia-smi")
    assert newer.status == "missing" and "driver supports CUDA 12.4 (nvidia-smi), nvcc is CUDA 13.0" in newer.detail
    assert "cudaErrorInsufficientDriver" in newer.detail and "nvidia-cuda-nvcc-cu12" in newer.fix
    assert compare_driver_toolkit(12020, 12080).status == "warn"  # minor-version compatibility
    assert compare_driver_toolkit(13010, 13000).status == "ok"
    assert compare_driver_toolkit(None, 13000).status == "skip"


def test_doctor_asks_for_cap_sys_admin_not_root_for_ncu_counters():
    from pytest_cudabench.doctor import CAP_SYS_ADMIN, has_capability, ncu_counter_access

    root_in_a_container = "Uid:\t0\t0\t0\t0\nCapEff:\t00000000a80425fb\n"  # docker's default set: no bit 21
    assert has_capability(CAP_SYS_ADMIN, root_in_a_container) is False
    assert has_capability(CAP_SYS_ADMIN, "CapEff:\t000001ffffffffff\n") is True
    assert has_capability(CAP_SYS_ADMIN, "Name:\tx\n") is None
    status, found, fix = ncu_counter_access(True, False)
    assert status == "warn" and "ERR_NVGPUCTRPERM" in found and "SYS_ADMIN" in fix
    assert ncu_counter_access(True, True)[0] == ncu_counter_access(False, False)[0] == "ok"
    assert ncu_counter_access(None, False)[0] == "warn"


def test_doctor_table_and_no_run():
    done = cli("doctor", "--no-run")
    assert done.returncode in (0, 1) and not done.stderr, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].split() == ["check", "status", "found"]
    assert "CPU-runtime run    skip     --no-run" in done.stdout
