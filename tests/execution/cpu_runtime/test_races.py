"""Thread orders and racecheck of the CPU runtime: real g++ builds of kernels/races.cu, called through ctypes.

cudabench_cpu_schedule runs a block's threads forward, in reverse, shuffled or with warps interleaved between
barriers; cudabench_cpu_racecheck reports shared-memory hazards within a barrier interval (see cuda_shim.h)."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

import numpy as np
import pytest

from pytest_cudabench.execution.cpu_runtime import build_cpu_library
from pytest_cudabench.execution.supervisor import THREAD_ORDERS, source_lines
from pytest_cudabench.source.toolkit import find_cuda_include

pytestmark = pytest.mark.skipif(find_cuda_include() is None, reason="CUDA toolkit headers not found")

SOURCE = Path(__file__).parent / "kernels" / "races.cu"
P = ctypes.c_void_p
N = 256
X = np.floor(np.random.default_rng(0).uniform(0, 8, N)).astype(np.float32)


def source_line(pattern: str) -> int:
    return next(i for i, line in enumerate(SOURCE.read_text().splitlines(), 1) if pattern in line)


@pytest.fixture(scope="module")
def races(tmp_path_factory):
    path = build_cpu_library(SOURCE.read_text(), tmp_path_factory.mktemp("races") / "races.so")
    lib = ctypes.CDLL(str(path))
    lib.cudabench_cpu_error.restype = ctypes.c_char_p
    lib.cudabench_cpu_configure(2, ctypes.c_ulonglong(0))
    lib.cudabench_cpu_schedule.argtypes = [ctypes.c_int, ctypes.c_ulonglong]
    lib.cudabench_cpu_register(P(X.ctypes.data), ctypes.c_ulonglong(X.nbytes))
    return lib, str(path)


def run(races, mode: int, order: str = "forward", seed: int = 7, racecheck: bool = False):
    """Outputs of `mode` under `order`, and the runtime's error message (None if none)."""
    lib, _ = races
    lib.cudabench_cpu_reset_error()
    lib.cudabench_cpu_schedule(THREAD_ORDERS[order], seed)
    assert lib.cudabench_cpu_racecheck(int(racecheck)) == 1  # this build can check
    y = np.zeros(N, np.float32)
    lib.cudabench_cpu_register(P(y.ctypes.data), ctypes.c_ulonglong(y.nbytes))
    lib.solve(mode, P(X.ctypes.data), P(y.ctypes.data), N)
    error = lib.cudabench_cpu_error()
    lib.cudabench_cpu_racecheck(0)
    lib.cudabench_cpu_schedule(0, 0)
    return y, error.decode() if error else None


def test_a_scan_without_barriers_is_right_only_in_thread_order(races):
    scan = np.cumsum(X)
    assert np.array_equal(run(races, 0)[0], scan)
    for order in ("reverse", "shuffle", "warps"):
        assert not np.array_equal(run(races, 0, order)[0], scan, equal_nan=True), order


def test_a_synchronised_scan_gives_the_same_result_in_every_order(races):
    scan = np.cumsum(X)
    for order in THREAD_ORDERS:
        assert np.array_equal(run(races, 1, order)[0], scan), order


def test_shuffle_is_seeded(races):
    a, b, c = (run(races, 0, "shuffle", seed)[0] for seed in (3, 3, 4))
    assert np.array_equal(a, b, equal_nan=True)
    assert not np.array_equal(a, c, equal_nan=True)


def test_warps_interleaved_exposes_a_cross_warp_read_after_only_syncwarp(races):
    total = X.sum()
    assert run(races, 2)[0][0] == total and run(races, 2, "reverse")[0][0] == total
    assert run(races, 2, "warps")[0][0] != total
    assert run(races, 4, "warps")[0][0] == total  # with __syncthreads


def test_shared_memory_is_junk_at_each_launch_not_what_the_last_one_left(races):
    y, _ = run(races, 7)
    assert np.isnan(y).all()


def test_racecheck_reports_kernel_threads_and_lines(races):
    _, error = run(races, 0, racecheck=True)
    assert error is not None
    assert re.search(r"shared-memory race \(read-after-write hazard\) in kernel chain_scan, block \(0,0,0\): "
                     r"thread \(1,0,0\) reads .* that thread \(0,0,0\) wrote", error), error
    line = source_line("s[t] = x[t] + (t > 0")
    described = source_lines(error, races[1])
    assert f"reads a word of shared memory at line {line} that" in described, described
    assert f"wrote at line {line}, with no __syncthreads()" in described, described


def test_racecheck_between_warps_after_only_syncwarp(races):
    _, error = run(races, 2, racecheck=True)
    assert error and "in kernel warp_sums" in error and "thread (0,0,0)" in error, error
    assert "thread (32,0,0)" in error


def test_racecheck_without_syncwarp_between_lanes(races):
    _, error = run(races, 6, racecheck=True)
    assert error and "in kernel warp_exchange" in error, error


@pytest.mark.parametrize("mode", [1, 3, 4, 5, 8, 9], ids=["syncthreads", "shared-atomics", "block-barrier", "syncwarp",
                                                         "bytes-of-one-word", "same-value-flag"])
def test_racecheck_does_not_flag_synchronised_kernels(races, mode):
    for order in ("forward", "reverse"):
        assert run(races, mode, order, racecheck=True)[1] is None
