"""The children's sandbox on the way to a GPU, tested here without one: the confinement each runtime gets (seccomp on
every thread, Landlock over the driver's device nodes), what a child says when Python raises in it or its set-up
fails, the status channel under a tool that closes inherited descriptors, and the CUDA runtime a set program binds
to. Real processes, kernels, filters and Landlock domains; stand-ins only for /dev/nvidia* and the profiler."""

from __future__ import annotations

import dataclasses
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from helpers.paths import SUITE
from helpers.tasks import task_with_cases

from pytest_cudabench.cudabench_set import program, program_child
from pytest_cudabench.errors import HarnessError, StageFailure
from pytest_cudabench.execution import landlock, sandbox
from pytest_cudabench.execution.cpu_runtime import build_cpu_library
from pytest_cudabench.execution.runner import run_cases
from pytest_cudabench.tasks.loader import load_task
from pytest_cudabench.timing.policy import MeasurementPolicy

needs_seccomp = pytest.mark.skipif(not sandbox.seccomp_available(), reason="seccomp needs x86-64 Linux")
needs_landlock = pytest.mark.skipif(landlock.abi_version() < 1, reason="this kernel has no Landlock")
needs_ioctl_rules = pytest.mark.skipif(landlock.abi_version() < 5, reason="Landlock confines ioctls from ABI 5")
# A stand-in for the wrapping tools (ncu, compute-sanitizer) at their worst: it closes every inherited descriptor
# but stdin, stdout and stderr, then runs the child.
CLOSING_WRAPPER = """import os, sys
os.closerange(3, os.sysconf("SC_OPEN_MAX"))
os.execv(sys.argv[1], sys.argv[1:])
"""


@pytest.fixture(scope="module")
def vector_add():
    return task_with_cases("basics/vector_add", seed=3, count=2)


@pytest.fixture(scope="module")
def vector_add_library(tmp_path_factory, vector_add):
    return build_cpu_library(vector_add[0].solution_source(), tmp_path_factory.mktemp("build") / "lib.so")


def python(script: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=timeout)


# --- seccomp on every thread (TSYNC) ---

@needs_seccomp
def test_a_thread_started_before_the_filter_is_killed_for_a_forbidden_call_after_it():
    """The CUDA driver's helper threads and the CPU runtime's workers exist before the filter goes on: the filter
    must hold for them too, or code running there (a host callback, a kernel on a worker) could open files."""
    done = python("""
        import os, threading
        from pytest_cudabench.execution.sandbox import install_seccomp
        go = threading.Event()
        def later():
            go.wait()
            os.open("/etc/hostname", os.O_RDONLY)
            print("the earlier thread opened a file", flush=True)
        thread = threading.Thread(target=later)
        thread.start()
        install_seccomp()
        go.set()
        thread.join()
    """)
    assert done.returncode == -signal.SIGSYS, (done.returncode, done.stdout, done.stderr)
    assert "opened a file" not in done.stdout


@needs_seccomp
def test_a_kernel_on_a_worker_of_the_cpu_runtime_is_filtered(tmp_path, vector_add):
    """Blocks run on the CPU runtime's worker threads, started when the answer was loaded, before the filter: a
    kernel opening a file there is killed like host code (it used to open it)."""
    task, cases = vector_add
    source = """#include <cstdio>
#include <unistd.h>
#include <sys/syscall.h>
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
__global__ void peek(float* c) {
    if (threadIdx.x != 0) return;
    usleep(2000);  // long enough for the worker to take blocks too
    if (syscall(SYS_gettid) != getpid()) {  // on a worker thread, not the one that called solve
        FILE* f = fopen("/etc/hostname", "r");
        if (f) { fclose(f); c[0] = -1.0f; }
    }
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
    peek<<<32, 32>>>(c);
}
"""
    library = build_cpu_library(source, tmp_path / "lib.so")
    with pytest.raises(StageFailure, match="SIGSYS.*forbidden system call"):
        run_cases(task, library, "cpu", cases, timeout_s=60, workers=2)


# --- which confinement each child gets ---

def test_the_gpu_kernel_child_gets_landlock_over_the_device_nodes_and_the_cpu_one_the_strict_filter():
    devices = ["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm"]
    assert sandbox.choose("cpu", True, 7, devices) == sandbox.Confinement(seccomp=True)
    gpu = sandbox.choose("gpu", True, 7, devices)
    assert gpu.landlock_devices == tuple(devices) and gpu.describe() == "seccomp+landlock+rlimits"
    assert sandbox.choose("gpu", True, 0, devices) == sandbox.Confinement(seccomp=True)  # no Landlock: strict
    assert sandbox.choose("gpu", False, 7, devices).describe() == "rlimits only"  # under a tool
    # opens get through only where Landlock confines them; exec still kills in both programs
    strict, for_landlock = sandbox.filter_program(False), sandbox.filter_program(True)
    open_rule = sandbox._instruction(sandbox._JEQ_K, 0, 1, 257)  # openat
    exec_rule = sandbox._instruction(sandbox._JEQ_K, 0, 1, 59)  # execve
    assert open_rule in strict and open_rule not in for_landlock
    assert exec_rule in strict and exec_rule in for_landlock


@needs_seccomp
@needs_landlock
def test_the_gpu_kernel_child_s_confinement_opens_granted_devices_refuses_other_files_and_kills_exec():
    done = python("""
        import errno, fcntl, os, termios
        from pytest_cudabench.execution import sandbox
        said = sandbox.confine(sandbox.Confinement(seccomp=True, landlock_devices=("/dev/null",)))
        fd = os.open("/dev/null", os.O_RDWR)  # the stand-in for /dev/nvidiactl
        try:
            fcntl.ioctl(fd, termios.TCGETS, bytes(64))
        except OSError as exc:
            ioctl = errno.errorcode[exc.errno]
        try:
            os.open("/etc/hostname", os.O_RDONLY)
            other = "opened"
        except OSError as exc:
            other = errno.errorcode[exc.errno]
        print(said, ioctl, other, flush=True)
        os.execv("/bin/true", ["true"])
    """)
    assert done.returncode == -signal.SIGSYS, (done.stdout, done.stderr)
    # ENOTTY: the ioctl reached the device (EACCES would be Landlock refusing it)
    assert done.stdout.split() == ["seccomp+landlock+rlimits", "ENOTTY", "EACCES"], done.stderr


@needs_seccomp
def test_the_cpu_kernel_child_s_confinement_kills_any_open():
    done = python("""
        import os
        from pytest_cudabench.execution import sandbox
        print(sandbox.confine(sandbox.Confinement(seccomp=True)), flush=True)
        os.open("/dev/null", os.O_RDWR)
        print("opened", flush=True)
    """)
    assert done.returncode == -signal.SIGSYS and done.stdout.split() == ["seccomp+rlimits"]


def test_a_gpu_program_s_landlock_domain_holds_the_driver_s_device_nodes_read_write_with_ioctls(tmp_path):
    dev = tmp_path / "dev"
    (dev / "nvidia-caps").mkdir(parents=True)
    for name in ("nvidia0", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "dxg", "null", "sda"):
        (dev / name).touch()
    read_only, devices = program.landlock_paths("gpu", str(dev))
    assert [Path(p).name for p in devices] == ["dxg", "nvidia-caps", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0",
                                               "nvidiactl"]
    rights = dict(landlock.rules([str(tmp_path / "scratch")], read_only, devices))
    for path in devices:
        assert rights[path] & landlock.WRITE_FILE and rights[path] & landlock.IOCTL_DEV, path
    assert not rights["/dev"] & (landlock.WRITE_FILE | landlock.IOCTL_DEV)  # the rest of /dev stays read-only
    cpu_read_only, cpu_devices = program.landlock_paths("cpu", str(dev))
    assert cpu_devices == [] and not any(p.startswith("/dev") for p in cpu_read_only)


@needs_ioctl_rules
def test_landlock_lets_a_process_drive_a_granted_device_by_ioctl_and_nothing_else():
    """/dev/null stands in for /dev/nvidiactl: granted as a device it opens read-write and its ioctls reach the
    driver (ENOTTY); granted read-write without the ioctl right they are refused (EACCES); /dev/zero, not granted,
    does not open."""
    script = """
        import errno, fcntl, os, sys, termios
        from pytest_cudabench.execution import landlock
        if sys.argv[1] == "device":
            landlock.restrict([], [], ["/dev/null"])
        else:
            landlock.restrict_to([("/dev/null", landlock.READ_FILE | landlock.WRITE_FILE)])
        def probe(path):
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError as exc:
                return "open-" + errno.errorcode[exc.errno]
            try:
                fcntl.ioctl(fd, termios.TCGETS, bytes(64))
            except OSError as exc:
                return "ioctl-" + errno.errorcode[exc.errno]
        print(probe("/dev/null"), probe("/dev/zero"))
    """

    def run(mode: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(script), mode], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert run("device") == ["ioctl-ENOTTY", "open-EACCES"]
    assert run("no-ioctl") == ["ioctl-EACCES", "open-EACCES"]


# --- exceptions in the child, set-up failures ---

FAILING_GENERATE = '''

def generate(sizes, rng):
    if sizes["n"] == 4096:
        raise ValueError("boom in generate at the second benchmark scale")
    return {}
'''


@needs_seccomp
def test_an_exception_after_the_filter_is_reported_with_its_message_not_as_a_forbidden_call(tmp_path):
    """The inputs of the second benchmark scale are made after the filter is on; the task's generate() fails there.
    Printing the traceback would open the source files (SIGSYS: "forbidden system call"); the child reports the
    exception on its status channel instead, and, not being a CUDA error, it is the harness's, not the answer's."""
    target = tmp_path / "task_suite" / "basics" / "vector_add"
    shutil.copytree(SUITE / "basics" / "vector_add", target)
    toml = target / "task.toml"
    small = "bench = [{ n = 256 }, { n = 4096 }, { n = 4097 }, { n = 4098 }, { n = 4099 }]"
    toml.write_text("\n".join(small if line.startswith("bench = ") else line
                              for line in toml.read_text().splitlines()) + "\n")
    (target / "reference.py").write_text((target / "reference.py").read_text() + FAILING_GENERATE)
    task = load_task(target, tmp_path / "task_suite")
    library = build_cpu_library(task.solution_source(), tmp_path / "lib.so")
    with pytest.raises(HarnessError) as caught:
        run_cases(task, library, "cpu", [], timeout_s=120, stage="time",
                  timing={"seed": 3, "policy": MeasurementPolicy(timer="host", cap_s=0.05)})
    message = str(caught.value)
    assert "benchmark scale 1" in message and "boom in generate at the second benchmark scale" in message, message
    assert "SIGSYS" not in message and "forbidden" not in message


def test_a_cuda_error_raised_in_the_child_is_the_answer_s_fault_and_anything_else_the_harness_s(vector_add):
    """What the child sends for an exception, and how the parent judges it: a CUDA error (the harness's own copy
    after the answer broke the context) fails the answer at the scale it happened; a harness fault is an error."""
    from pytest_cudabench.errors import CudaError
    from pytest_cudabench.execution.runner import judge_exception
    from pytest_cudabench.protocol import Event, exception_event

    cuda = exception_event(CudaError("cudaMemcpy failed: 700 an illegal memory access was encountered"), True)
    assert cuda["event"] == Event.EXCEPTION and cuda["cuda"] is True and cuda["traceback"] == ""
    try:
        {}["n"]
    except KeyError as exc:
        harness = exception_event(exc, False)  # before the sandbox: with the traceback, for the harness's report
    assert harness["cuda"] is False and harness["error"] == "KeyError" and "Traceback" in harness["traceback"]

    _, cases = vector_add
    timing = [{"event": "started"}, {"event": "ready"}, {"event": "time", "scale": 4}]
    with pytest.raises(StageFailure, match=r"CUDA error in benchmark scale 4: cudaMemcpy failed: 700 an illegal "
                                           r"memory access was encountered"):
        judge_exception(cases, [*timing, cuda])
    with pytest.raises(HarnessError, match=r"the child failed with KeyError: 'n' \(case 1 .*not of the answer"):
        judge_exception(cases, [{"event": "started"}, {"event": "call", "case": 1, "run": 0}, harness])
    judge_exception(cases, timing)  # nothing raised: nothing to judge


def test_a_missing_answer_library_is_a_harness_error_naming_it(tmp_path, vector_add):
    task, cases = vector_add
    missing = tmp_path / "libgone.so"
    with pytest.raises(HarnessError) as caught:
        run_cases(task, missing, "cpu", cases, timeout_s=60)
    message = str(caught.value)
    assert message.startswith("the child could not set up the cpu runtime before calling the answer: FileNotFoundError: ")
    assert str(missing) in message and "must return from solve" not in message


def test_an_answer_library_that_fails_while_loading_is_the_answer_s_fault(tmp_path, vector_add):
    """Loading the answer runs its initialisers and binds its symbols: a crash or an unresolved symbol there is the
    answer's, however early it comes (Event.LOADING), unlike a set-up failure of the harness."""
    task, cases = vector_add
    defect = "__attribute__((constructor)) static void boom() { __builtin_trap(); }"  # an initialiser that crashes
    source = task.solution_source().replace('extern "C"', defect + '\nextern "C"', 1)
    library = build_cpu_library(source, tmp_path / "lib.so")
    with pytest.raises(StageFailure) as caught:
        run_cases(task, library, "cpu", cases, timeout_s=60)
    assert caught.value.stage == "execute"
    assert caught.value.message.startswith("the answer's library could not be loaded: SIGILL")


def test_a_set_up_failure_after_the_answer_loaded_is_a_harness_error_not_the_answer_s(tmp_path, vector_add_library):
    """Set-up goes on after the answer's library has loaded (Event.LOADED: the timing machinery, the GPU runtime's
    start and warm-up): a failure there is the harness's or the machine's, reported with its cause. Here the task
    the timing job names cannot be loaded in the child."""
    task = dataclasses.replace(load_task(SUITE / "basics" / "vector_add", SUITE), path=tmp_path / "gone" / "task")
    with pytest.raises(HarnessError, match=r"could not set up the cpu runtime before calling the answer: "):
        run_cases(task, vector_add_library, "cpu", [], timeout_s=120, stage="time",
                  timing={"seed": 3, "policy": MeasurementPolicy(cap_s=0.05)})


# --- the status channel under a tool that closes inherited descriptors ---

def test_the_status_channel_survives_a_wrapper_that_closes_inherited_descriptors(tmp_path, vector_add,
                                                                              vector_add_library):
    task, cases = vector_add
    wrapper = tmp_path / "closing_wrapper.py"
    wrapper.write_text(CLOSING_WRAPPER)
    result = run_cases(task, vector_add_library, "cpu", cases, timeout_s=60, wrapper=[sys.executable, str(wrapper)])
    assert len(result.cases) == len(cases) and all(c["passed"] for c in result.cases)


PRINTING_PROGRAM = r"""#include <cstdio>
int main() {
    printf("the program ran\n");
    return 0;
}
"""


def test_a_set_program_under_a_wrapper_that_closes_descriptors_still_reports(tmp_path):
    library, entry, _ = program.build(PRINTING_PROGRAM, "cpu", tmp_path / "cache", "")
    scratch = Path(tempfile.mkdtemp(dir=tmp_path))
    wrapper = tmp_path / "closing_wrapper.py"
    wrapper.write_text(CLOSING_WRAPPER)
    ran = program.run(library, entry, scratch, "cpu", 60, wrapper=[sys.executable, str(wrapper)])
    assert ran.returncode == 0 and "the program ran" in ran.output, ran
    assert ran.landlock_abi == landlock.abi_version() or landlock.abi_version() == 0


# --- set programs: CPU workers inside Landlock, the CUDA runtime preloaded on the GPU runtime ---

PEEKING_PROGRAM = r"""#include <cstdio>
#include <unistd.h>
#include <sys/syscall.h>
__global__ void peek() {
    if (threadIdx.x != 0) return;
    usleep(2000);  // long enough for the worker to take blocks too
    if (syscall(SYS_gettid) != getpid()) {  // on a worker thread of the CPU runtime
        FILE* f = fopen("__SECRET__", "r");
        printf(f ? "a worker read the secret\n" : "a worker was kept out\n");
        if (f) fclose(f);
    }
}
int main() {
    peek<<<32, 32>>>();
    cudaDeviceSynchronize();
    return 0;
}
"""


@needs_landlock
def test_a_set_program_s_kernels_on_cpu_runtime_workers_are_inside_its_landlock_domain(tmp_path):
    """Landlock binds the thread that restricts itself and the threads it starts later: the CPU runtime's workers,
    which run the kernels, start after it, so a kernel cannot read outside the scratch dir either."""
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the program\n")
    source = PEEKING_PROGRAM.replace("__SECRET__", str(secret))
    library, entry, _ = program.build(source, "cpu", tmp_path / "cache", "")
    scratch = Path(tempfile.mkdtemp(dir=tmp_path))
    ran = program.run(library, entry, scratch, "cpu", 60)
    assert ran.returncode == 0, ran
    assert "a worker was kept out" in ran.output and "read the secret" not in ran.output, ran.output


def test_the_set_child_preloads_the_harness_s_cuda_runtime_for_an_nvcc_build_on_the_gpu_runtime_only(tmp_path):
    """Only a program that depends on the shared CUDA runtime gets it preloaded: a CPU-runtime build (profiled as
    "gpu" by the stand-in ncu tests) would have its shim's CUDA functions shadowed by the real ones."""
    from pytest_cudabench.source.compiler import compile_library
    from pytest_cudabench.source.static_check import needed_libraries
    from pytest_cudabench.timing.gpu_api import load_cudart

    cpu_build, _, _ = program.build(PRINTING_PROGRAM, "cpu", tmp_path / "cache", "")
    assert not any(name.startswith("libcudart") for name in needed_libraries(cpu_build))
    assert program_child.preload_runtime("gpu", str(cpu_build)) is None
    try:
        expected = load_cudart()._name
        nvcc_build = compile_library(CUDA_PROGRAM.replace("int main()", "int program_main()"),
                                     cache_dir=tmp_path / "nvcc").library
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no CUDA toolkit here: {exc}")
    assert any(name.startswith("libcudart.so") for name in needed_libraries(nvcc_build))
    assert program_child.preload_runtime("cpu", str(nvcc_build)) is None
    assert program_child.preload_runtime("gpu", str(nvcc_build)) == expected


CUDA_PROGRAM = r"""#include <cstdio>
#include <cuda_runtime.h>
__global__ void nothing() {}
int main() {
    int count = -1;
    cudaError_t code = cudaGetDeviceCount(&count);  // binds the program to libcudart
    printf("the program ran (cudaGetDeviceCount: %d)\n", (int)code);
    return 0;
}
"""


def test_a_gpu_program_finds_the_cuda_runtime_without_the_loader_s_search_path(tmp_path, monkeypatch):
    """The dynamic loader runs without its cache here (ld.so --inhibit-cache, no LD_LIBRARY_PATH): the
    program's libcudart.so.N dependency is then found only because the child preloaded the runtime the harness
    uses, by its path. No GPU needed: the program asks the runtime for devices and returns 0 either way."""
    from pytest_cudabench.source.toolkit import find_nvcc

    try:
        find_nvcc()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"needs nvcc: {exc}")
    loader = Path("/lib64/ld-linux-x86-64.so.2")
    if not loader.exists():
        pytest.skip("needs the x86-64 dynamic loader to run Python without its cache")
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    from pytest_cudabench.timing.gpus import default_arch

    library, entry, _ = program.build(CUDA_PROGRAM, "gpu", tmp_path / "cache", default_arch())
    scratch = Path(tempfile.mkdtemp(dir=tmp_path))
    ran = program.run(library, entry, scratch, "gpu", 120, wrapper=[str(loader), "--inhibit-cache"])
    assert ran.returncode == 0 and "the program ran" in ran.output, ran.output
    assert ran.harness_error is None, ran.harness_error
