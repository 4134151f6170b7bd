"""The time stage of CUDABench-Set items: the whole program under ncu, CUDABench's score and our roofline.

No GPU here: the program is built for the CPU runtime and profiled by a stand-in `ncu` (a shell script that runs
the command it wraps, as ncu does, then writes a log in ncu's CSV shape), so the real path runs end to end: the
wrapper in front of the sandboxed child, the outputs judged again, the log parsed and scored.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from helpers.cudabench_set_rows import row, write_rows  # noqa: E402
from helpers.ncu_logs import NCU_CSV_HEADER, ncu_launch_rows  # noqa: E402

from pytest_cudabench.config import Settings  # noqa: E402
from pytest_cudabench.cudabench_set import data as set_data  # noqa: E402
from pytest_cudabench.cudabench_set import performance, program  # noqa: E402
from pytest_cudabench.cudabench_set.evaluation import SetEvaluation, SetOptions  # noqa: E402
from pytest_cudabench.cudabench_set.rows import load_rows  # noqa: E402
from pytest_cudabench.cudabench_set.work import RowWork  # noqa: E402
from pytest_cudabench.errors import StageFailure  # noqa: E402
from pytest_cudabench.execution.supervisor import child_environment  # noqa: E402
from pytest_cudabench.timing import gpus  # noqa: E402

N = 2048


def ncu_log(*launches: tuple[int, str, dict]) -> str:
    lines = ["==PROF== Connected to process 4242 (python3)", NCU_CSV_HEADER]
    for launch_id, kernel, values in launches:
        lines += ncu_launch_rows(launch_id, kernel, **{"dram_mb": "0.016", "dram_tbs": "1.2", "us": "10.0", "fadd": "0",
                                                   "ffma": "20", "fmul": "0", **values})
    return "\n".join(lines) + "\n"


AFFINE_LOG = ncu_log((0, "affine(const float *, float *, int)", {}), (1, "affine(const float *, float *, int)",
                                                                       {"us": "14.0", "ffma": "30"}))


def fake_ncu(directory: Path, log_text: str, run_program: bool = True) -> Path:
    """An `ncu` that takes ncu's options, runs the wrapped command and writes `log_text` to --log-file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "log.csv").write_text(log_text)
    script = directory / "ncu"
    script.write_text(f"""#!/bin/sh
log=""
while [ $# -gt 0 ]; do
  case "$1" in
    --log-file) log="$2"; shift 2 ;;
    --csv) shift ;;
    --*) shift 2 ;;
    *) break ;;
  esac
done
{'"$@"; rc=$?' if run_program else 'rc=0'}
cp "{directory / 'log.csv'}" "$log"
exit $rc
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.fixture
def built(tmp_path):
    rows = load_rows(write_rows(tmp_path / "set.jsonl", [row(0, "Affine", N)]))
    target = rows[0]
    library, entry, _ = program.build(target.bench_cu, "cpu", tmp_path / "cache", "")
    rowdata = set_data.generate(target, tmp_path / "cache", "run", 3, env=child_environment(tmp_path))
    evaluation = SetEvaluation(target, 1, 0, Settings(model="reference", cache_dir=str(tmp_path / "cache"), runtime="cpu"),
                               "set.jsonl::Affine::scale1::level1[sample0]", SetOptions())
    return evaluation, library, entry, rowdata


def profile(tmp_path, monkeypatch, built, log_text, gpu_name="NVIDIA H100 80GB HBM3", run_program=True):
    tool = fake_ncu(tmp_path / "bin", log_text, run_program)
    monkeypatch.setenv("CUDA_HOME", str(tmp_path))  # find_cuda_tool looks in $CUDA_HOME/bin first
    monkeypatch.setattr(gpus, "gpu_info", lambda index=0: {"name": gpu_name})
    evaluation, library, entry, rowdata = built
    record: dict = {}
    scratch_root = tmp_path / "runs"
    scratch_root.mkdir()
    evaluation.profile(record, library, entry, rowdata, scratch_root, 60.0)
    assert tool.exists()
    return evaluation, record


def test_the_whole_program_runs_under_ncu_and_gets_cudabench_s_score(tmp_path, monkeypatch, built):
    evaluation, record = profile(tmp_path, monkeypatch, built, AFFINE_LOG)
    ncu = record["ncu"]
    assert ncu["kernel"].startswith("affine") and ncu["launches"] == 2 and ncu["kernel_launches"] == 2
    assert ncu["kernel_s"] == pytest.approx(24e-6)
    # averaged launch: ffma 25/cycle x 1.75 GHz x 2 = 87.5 GFLOP/s; DRAM 1.2 TB/s of 1020 B/cycle x 2.62 GHz
    assert ncu["flop_s"] == pytest.approx(2 * 25 * 1.75e9)
    assert ncu["score"] == pytest.approx(max(ncu["ce"], ncu["bu"])) and ncu["score"] == pytest.approx(
        1.2e12 / (1020 * 2.62e9))
    assert evaluation.result["ncu_performance_score"] == ncu["score"]
    assert record["gpu"] == "NVIDIA H100 80GB HBM3" and record["peaks"]["name"]
    assert not os.listdir(tmp_path / "runs")  # scratch dirs and logs are gone


def test_the_roofline_needs_the_work_table_to_cover_the_task(tmp_path, monkeypatch, built):
    evaluation, record = profile(tmp_path, monkeypatch, built, AFFINE_LOG)
    assert record["roofline"]["score"] is None and "does not cover task 'Affine'" in record["roofline"]["message"]
    assert evaluation.result["performance_score"] is None and "work table" in record["message"]


def test_a_program_that_launches_no_kernel_fails_the_time_stage(tmp_path, monkeypatch, built):
    log = "==PROF== Connected to process 4242 (python3)\n==WARNING== No kernels were profiled.\n"
    with pytest.raises(StageFailure, match=r"launched no kernel under the profiler .*No kernels were profiled"):
        profile(tmp_path, monkeypatch, built, log)


def test_outputs_are_judged_again_after_the_profiled_run(tmp_path, monkeypatch, built):
    # The stand-in does not run the program: its outputs never appear, as if the answer wrote nothing when profiled.
    with pytest.raises(StageFailure, match="outputs under the profiler were wrong"):
        profile(tmp_path, monkeypatch, built, AFFINE_LOG, run_program=False)


def test_a_profiler_that_cannot_read_counters_leaves_the_stage_unmeasured(tmp_path, monkeypatch, built):
    log = "==ERROR== ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU Performance Counters\n"
    evaluation, record = profile(tmp_path, monkeypatch, built, log)
    assert record["status_override"] == "not-run" and "NVreg_RestrictProfilingToAdminUsers" in record["message"]
    assert "profiled again without it" in record["confinement"]  # tried confined first, then without Landlock
    assert evaluation.result["ncu_performance_score"] is None


def test_without_ncu_the_stage_says_how_to_get_it(tmp_path, monkeypatch, built):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("CUDA_HOME", raising=False)
    monkeypatch.delenv("CUDA_PATH", raising=False)
    monkeypatch.setattr("pytest_cudabench.source.toolkit.toolkit_roots", lambda: [])  # no toolkit anywhere
    evaluation, library, entry, rowdata = built
    record: dict = {}
    evaluation.profile(record, library, entry, rowdata, tmp_path, 60.0)
    assert record["status_override"] == "not-run" and "ncu was not found" in record["message"]


def test_kernels_faster_than_the_task_s_minimum_work_get_no_roofline_score():
    peaks = gpus.lookup_peaks("NVIDIA H100 80GB HBM3")
    work = RowWork(flops=2.0 * N, dram_bytes=8.0 * N, precision="fp32", formulas={"flops": "2 * n"})
    honest = performance.roofline_record(work, 1e-3, peaks)
    assert honest["score"] == pytest.approx(max(2 * N / peaks.fp32, 8 * N / peaks.dram_bw) / 1e-3)
    assert honest["bound_by"] == "memory" and honest["kernel_s"] == 1e-3
    fast = performance.roofline_record(work, 1e-12, peaks)
    assert fast["score"] is None and "faster than" in fast["message"] and fast["implausible"] > 1
    assert performance.roofline_record(work, 1e-3, None)["message"].startswith("no peak figures")


def test_a_task_the_work_table_covers_gets_our_roofline_over_the_total_kernel_time(tmp_path):
    n = 1 << 20
    relu = row(0, "ReLU_Activation_Fuction", n, inputs=[{"name": "relu_input", "dtype": "float32", "shape": f"({n},)"}],
               outputs=[{"name": "relu_out", "dtype": "float32", "shape": f"({n},)"}])
    target = load_rows(write_rows(tmp_path / "set.jsonl", [relu]))[0]
    peaks = gpus.lookup_peaks("NVIDIA H100 80GB HBM3")
    log = ncu_log((0, "relu(const float *, float *, int)", {"us": "4.0"}), (1, "relu(const float *, float *, int)",
                                                                           {"us": "6.0"}))
    scores = performance.score_profile(target, log, peaks)
    roofline = scores["roofline"]
    assert roofline["flops"] == n and roofline["bytes"] == 8 * n and roofline["kernel_s"] == pytest.approx(10e-6)
    assert roofline["score"] == pytest.approx((8 * n / peaks.dram_bw) / 10e-6) and roofline["bound_by"] == "memory"
    assert scores["ncu"]["kernels"] == ["relu(const float *, float *, int)"]
