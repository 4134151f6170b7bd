"""benchmarks/gpu_acceptance.py runs here: without a GPU it runs what it can, says "no GPU", writes a line per step
and the summary last, and exits 0."""

import subprocess
import sys

import pytest
from helpers.paths import REPO

from pytest_cudabench.timing.gpus import detect_cuda_devices

SCRIPT = REPO / "benchmarks" / "gpu_acceptance.py"


@pytest.mark.skipif(detect_cuda_devices() > 0, reason="a GPU is here: the script runs every step (see its GPU run)")
def test_without_a_gpu_it_runs_what_it_can_and_says_no_gpu(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "out"), "--steps", "versions,probes,set,ncu"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = (tmp_path / "out" / "summary.txt").read_text().splitlines()
    assert [line.split()[:2] for line in summary[:-1]] == [["PASS", "versions"], ["SKIP", "probes"], ["SKIP", "set"],
                                                           ["SKIP", "ncu"]]
    assert "no GPU" in summary[0] and summary[1].endswith("no GPU")
    assert summary[-1].startswith("summary: 1 passed, 0 failed, 3 skipped") and summary[-1].endswith("; no GPU")
    assert done.stdout.splitlines()[0] == "no GPU: running what runs without one"
    assert done.stdout.splitlines()[-1] == summary[-1]
    assert (tmp_path / "out" / "versions.json").is_file()


def test_a_failing_step_does_not_stop_the_rest(tmp_path):
    """Without g++ on PATH doctor finds the benchmark cannot run here: its step fails, the next one still runs."""
    env = {"PATH": str(tmp_path / "empty"), "PYTHONPATH": str(SCRIPT.parent.parent), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "out"), "--steps", "doctor,versions"],
                          capture_output=True, text=True, timeout=120, env=env)
    summary = (tmp_path / "out" / "summary.txt").read_text().splitlines()
    assert [line.split()[:2] for line in summary[:-1]] == [["FAIL", "doctor"], ["PASS", "versions"]], summary
    assert "g++: not on PATH" in summary[0]
    assert done.returncode == (1 if detect_cuda_devices() > 0 else 0)


def test_unknown_steps_are_refused(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "out"), "--steps", "nope"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown step(s) nope" in done.stderr and not (tmp_path / "out").exists()


def test_the_step_timeouts_fit_the_eight_minutes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_acceptance", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.TOTAL_S == 480 and sum(module.STEP_TIMEOUTS.values()) <= module.TOTAL_S - 10
    assert list(module.STEP_TIMEOUTS) == list(module.STEPS)
