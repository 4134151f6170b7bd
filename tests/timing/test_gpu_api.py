"""The GPU API (timing/gpu_api.py): which API a run uses, and what a machine that cannot start CUDA is told. The
failure paths run for real here (cuda-bindings without a driver, the toolkit's libcudart without a driver); what
only a GPU shows is in the `gpu` tests at the end."""

import ctypes
import importlib.util
from pathlib import Path

import pytest
from helpers.paths import SUITE

from pytest_cudabench.errors import GpuApiError, StageSkip
from pytest_cudabench.execution.runner import choose_runtime
from pytest_cudabench.timing import gpu_api
from pytest_cudabench.timing.gpus import detect_cuda_devices


def driver_present() -> bool:
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


HAS_BINDINGS = importlib.util.find_spec("cuda.bindings") is not None
HAS_PYCUDA = importlib.util.find_spec("pycuda") is not None


def test_installed_apis_are_found_without_importing_them():
    import subprocess
    import sys

    probe = ("import sys; from pytest_cudabench.timing.gpu_api import installed_gpu_apis; print(installed_gpu_apis()); "
             "print(sorted(m for m in sys.modules if m.startswith(('cuda.bindings', 'pycuda'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    found, imported = out.stdout.splitlines()
    assert found == str([name for name, present in (("cuda-bindings", HAS_BINDINGS), ("pycuda", HAS_PYCUDA))
                         if present])
    assert imported == "[]", imported


def test_auto_takes_cuda_bindings_first_then_pycuda():
    assert gpu_api.resolve_gpu_api("auto", ["cuda-bindings", "pycuda"]) == "cuda-bindings"
    assert gpu_api.resolve_gpu_api("auto", ["pycuda"]) == "pycuda"
    assert gpu_api.resolve_gpu_api("pycuda", ["cuda-bindings", "pycuda"]) == "pycuda"
    assert gpu_api.installed_gpu_apis(lambda name: object() if name == "pycuda" else None) == ["pycuda"]


def test_a_missing_api_says_what_to_install():
    with pytest.raises(GpuApiError) as none:
        gpu_api.resolve_gpu_api("auto", [])
    assert "pytest-cudabench[gpu]" in str(none.value) and "pytest-cudabench[pycuda]" in str(none.value)
    with pytest.raises(GpuApiError, match=r"--cudabench-gpu-api=pycuda, but pycuda is not installed: pip install "
                                          r"'pytest-cudabench\[pycuda\]'.*cuda-bindings is installed"):
        gpu_api.resolve_gpu_api("pycuda", ["cuda-bindings"])
    with pytest.raises(GpuApiError, match="use one of auto, cuda-bindings, pycuda"):
        gpu_api.resolve_gpu_api("cupy", ["cuda-bindings"])


@pytest.mark.skipif(HAS_PYCUDA, reason="pycuda is installed here")
def test_the_real_resolution_names_the_missing_pycuda():
    with pytest.raises(GpuApiError, match="pycuda is not installed"):
        gpu_api.resolve_gpu_api("pycuda")


@pytest.mark.skipif(detect_cuda_devices() > 0, reason="a GPU is visible here")
def test_the_gpu_runtime_asked_for_without_a_gpu_is_skipped_with_the_reason():
    with pytest.raises(StageSkip, match="--cudabench-runtime=gpu, but no usable CUDA device"):
        choose_runtime("gpu", "auto")
    assert choose_runtime("auto", "auto") == "cpu"


@pytest.mark.skipif(not HAS_BINDINGS or driver_present(), reason="needs cuda-bindings and a machine without driver")
def test_cuda_bindings_without_a_driver_says_to_install_one():
    with pytest.raises(GpuApiError) as exc:
        gpu_api.open_gpu_api("cuda-bindings")
    message = str(exc.value)
    assert message.startswith("cuda-bindings could not call cuInit: ")
    assert "install the NVIDIA driver (libcuda.so.1" in message and "--gpus all" in message


@pytest.mark.skipif(driver_present(), reason="a driver is installed here")
def test_the_answers_runtime_without_a_driver_is_a_machine_problem():
    """The toolkit's libcudart (what answers bind to) cannot start: cudaFree(0)'s status is read, not ignored."""
    try:
        runtime = gpu_api.AnswerRuntime.load()
    except GpuApiError as exc:
        assert "cannot load the CUDA runtime" in str(exc)
        pytest.skip("no CUDA runtime library here")
    with pytest.raises(GpuApiError) as exc:
        runtime.start()
    assert "cudaErrorInsufficientDriver" in str(exc.value) and "no NVIDIA driver is installed" in str(exc.value)


@pytest.mark.skipif(driver_present(), reason="a driver is installed here")
def test_the_childs_gpu_backend_fails_to_start_with_the_cause(tmp_path):
    """The kernel child's GPU backend, built as the child builds it, raises the typed error (a harness error, never
    the answer's) before it loads the answer."""
    from pytest_cudabench.execution.child import GpuBackend

    with pytest.raises(GpuApiError) as exc:
        GpuBackend(str(tmp_path / "never-loaded.so"), {"gpu_api": "auto"})
    text = str(exc.value)
    assert "driver" in text or "install" in text, text


def test_a_toolkit_newer_than_the_driver_is_named_with_both_versions():
    runtime = gpu_api.AnswerRuntime.__new__(gpu_api.AnswerRuntime)
    runtime.versions = lambda: (12040, 13000)  # type: ignore[method-assign]
    runtime.error_text = lambda code: "cudaErrorInsufficientDriver: CUDA driver version is insufficient"  # type: ignore
    message = runtime.start_failure(gpu_api.CUDA_ERROR_INSUFFICIENT_DRIVER)
    assert "runtime is CUDA 13.0, the driver supports CUDA 12.4" in message
    assert "update the NVIDIA driver" in message and "nvidia-cuda-nvcc-cu12" in message
    runtime.versions = lambda: (0, 13000)  # type: ignore[method-assign]
    assert "no NVIDIA driver is installed" in runtime.start_failure(gpu_api.CUDA_ERROR_INSUFFICIENT_DRIVER)


def test_cuda_bindings_newer_than_the_driver_says_which_to_install():
    hint = gpu_api.bindings_driver_mismatch("13.0.1", 12040)
    assert "cuda-bindings 13.0.1 is for CUDA 13, the driver supports CUDA 12.4" in hint
    assert "pip install 'cuda-bindings>=12.0,<13'" in hint
    assert gpu_api.bindings_driver_mismatch("12.9.0", 12040) == ""
    assert gpu_api.bindings_driver_mismatch("13.0.0", None) == ""


# ---------------------------------------------------------------- on a GPU


@pytest.fixture(params=[name for name, present in (("cuda-bindings", HAS_BINDINGS), ("pycuda", HAS_PYCUDA))
                        if present] or ["cuda-bindings"])
def api(request):
    opened = gpu_api.open_gpu_api(request.param)
    yield opened
    opened.close()


@pytest.mark.gpu
def test_every_operation_round_trips(api):
    n = 1 << 20
    data = bytes(range(256)) * (n // 256)
    first, second = api.alloc(n), api.alloc(n)
    try:
        api.copy_htod(first, data)
        assert api.copy_dtoh(first, n) == data
        api.memset_async(second, 7, n)
        start, end = api.event_create(), api.event_create()
        api.event_record(start)
        api.copy_dtod_async(second, first, n // 2)
        api.event_record(end)
        api.synchronize()
        assert api.event_elapsed_s(start, end) >= 0
        out = api.copy_dtoh(second, n)
        assert out[: n // 2] == data[: n // 2] and out[n // 2:] == bytes([7]) * (n // 2)
        api.memset(first, 3, 16)
        assert api.copy_dtoh(first, 16) == bytes([3]) * 16
        api.event_destroy(start)
        api.event_destroy(end)
        api.stream_destroy(api.stream_create())
        free, total = api.mem_get_info()
        assert 0 < free <= total and api.attribute(gpu_api.ATTR_L2_CACHE_SIZE) > 0
        assert api.driver_version() >= 12000 and api.device_name()
        api.reset_persisting_l2()
        assert api.access_policy_window_bytes() in (None, 0)
    finally:
        api.free(first)
        api.free(second)


@pytest.mark.gpu
def test_the_answers_runtime_shares_the_apis_context(api, tmp_path):
    """Memory the API allocates is the answer's: a kernel built with nvcc (the answer's runtime) reads and writes it,
    and a launch error the answer leaves is read from its runtime instance."""
    from pytest_cudabench.source.compiler import compile_library
    from pytest_cudabench.timing.gpus import default_arch

    source = ('__global__ void twice(float* x, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; '
              'if (i < n) x[i] *= 2; }\nextern "C" void solve(float* x, int n) { twice<<<(n + 255) / 256, 256>>>(x, n); }'
              '\nextern "C" void broken(float* x) { twice<<<1, 4096>>>(x, 1); }\n')
    runtime = gpu_api.AnswerRuntime.load()
    runtime.start()
    library = ctypes.CDLL(compile_library(source, cache_dir=tmp_path, arch=default_arch()).library)
    library.solve.argtypes = [ctypes.c_void_p, ctypes.c_int]
    library.broken.argtypes = [ctypes.c_void_p]
    import numpy as np

    values = np.arange(1024, dtype=np.float32)
    pointer = api.alloc(values.nbytes)
    try:
        api.copy_htod(pointer, values)
        library.solve(pointer, 1024)
        assert runtime.last_error() is None
        assert np.array_equal(np.frombuffer(api.copy_dtoh(pointer, values.nbytes), np.float32), values * 2)
        library.broken(pointer)  # 4096 threads per block: a launch error only the answer's runtime knows
        assert "cudaErrorInvalidConfiguration" in (runtime.last_error() or "")
    finally:
        api.free(pointer)


@pytest.mark.gpu
def test_the_gpu_child_times_an_answer_under_its_sandbox(tmp_path):
    """The kernel child end to end on the GPU runtime: the GPU API's warm-up, the filter, the timing loop."""
    from pytest_cudabench.execution.runner import run_cases
    from pytest_cudabench.source.compiler import compile_library
    from pytest_cudabench.tasks import inputs
    from pytest_cudabench.tasks.loader import load_task
    from pytest_cudabench.timing.gpus import default_arch
    from pytest_cudabench.timing.policy import DEFAULT_POLICY

    suite = SUITE
    task = load_task(suite / "basics" / "vector_add", suite)
    cases = inputs.make_cases(task, seed=5, count=2)
    for case in cases:
        inputs.expect(task, case)
    library = compile_library(task.solution_source(), cache_dir=tmp_path, arch=default_arch()).library
    checked = run_cases(task, Path(library), "gpu", cases, timeout_s=60)
    assert all(c["passed"] for c in checked.cases)
    timed = run_cases(task, Path(library), "gpu", [], timeout_s=120, stage="time",
                      timing={"seed": 5, "policy": DEFAULT_POLICY})
    assert len(timed.timed) == len(task.sizes.bench)
    assert all(row["events"]["median_s"] > 0 for row in timed.timed)


@pytest.mark.gpu
def test_doctor_starts_the_gpu_api_on_the_gpu():
    from pytest_cudabench.doctor import check_gpu_api

    row = check_gpu_api(True)
    assert row.status in ("ok", "warn") and "; started on " in row.detail, row
