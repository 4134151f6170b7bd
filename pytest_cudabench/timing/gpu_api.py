"""The harness's own GPU work behind one small interface: device memory, copies (pageable host-to-device and
device-to-host, device-to-device on the legacy default stream), memsets, events, streams, the persisting-L2 controls
and the profiler switch, on the device's primary context, which the answer's CUDA runtime uses too.

Two implementations: NVIDIA's cuda-bindings (`cuda.bindings.driver`, binary wheels for every Python and CUDA; the
default) and pycuda (`pip install pytest-cudabench[pycuda]`, built from source). `--cudabench-gpu-api` picks one;
`auto` takes the first installed, cuda-bindings first. Importing this module imports neither: only `open_gpu_api`
does, in the process that runs on the GPU.

Why the driver API of cuda-bindings and not its `cuda.bindings.runtime`: that module carries its own static copy of
the CUDA runtime, a second runtime instance beside the answer's libcudart with its own last-error state. The driver
API reaches the same libcuda and primary context as the answer's runtime. What only the answer's runtime instance
knows (the error its last launch left, whether it can start on this driver) goes through `AnswerRuntime`: libcudart
loaded first and globally, so that the answer's library binds to that same instance.

Every call's status is checked. Failures to start (no driver, no device, a toolkit newer than the driver, no memory
for a context) raise `GpuApiError` naming the cause and the fix: a problem of the machine, never of the answer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ..config import GPU_APIS
from ..errors import CudaError, GpuApiError
from ..source.toolkit import cudart_candidates

ATTR_MULTIPROCESSOR_COUNT = 16  # CU_DEVICE_ATTRIBUTE_* and cudaDevAttr* share their numbers
ATTR_L2_CACHE_SIZE = 38
ATTR_MAX_THREADS_PER_MULTIPROCESSOR = 39
ATTR_COMPUTE_CAPABILITY_MAJOR = 75
ATTR_COMPUTE_CAPABILITY_MINOR = 76

INSTALL = {
    "cuda-bindings": "pip install 'pytest-cudabench[gpu]' (NVIDIA's cuda-bindings, binary wheels: "
                     "cuda-bindings 12.x for a CUDA 12 driver, 13.x for CUDA 13)",
    "pycuda": "pip install 'pytest-cudabench[pycuda]' (builds from source: needs nvcc, g++ and Python's headers)",
}
_MODULES = {"cuda-bindings": "cuda.bindings", "pycuda": "pycuda"}

# Driver error names with what to do about them, for the calls that start the GPU.
START_HINTS = {
    "CUDA_ERROR_NO_DEVICE": "no CUDA device is visible to this process: check nvidia-smi, CUDA_VISIBLE_DEVICES "
                            "(--cudabench-gpus), and in a container that it was started with the GPUs (--gpus all)",
    "CUDA_ERROR_INVALID_DEVICE": "that device is not visible here: check CUDA_VISIBLE_DEVICES (--cudabench-gpus)",
    "CUDA_ERROR_OUT_OF_MEMORY": "the GPU has no memory left for a context: other processes hold it (see nvidia-smi)",
    "CUDA_ERROR_DEVICES_UNAVAILABLE": "the GPU is busy or unavailable (exclusive-process compute mode with another "
                                      "process on it?): see nvidia-smi",
    "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH": "the driver's library and its kernel module are of different versions (a "
                                         "driver update without a reboot?): reboot or reinstall the driver",
    "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE": "CUDA forward-compatibility libraries are on the library path of a "
                                                 "GPU that does not support them: remove cuda-compat from it",
    "CUDA_ERROR_STUB_LIBRARY": "the CUDA driver found is the toolkit's stub (lib64/stubs): take the stubs directory "
                               "off LD_LIBRARY_PATH",
    "CUDA_ERROR_NOT_INITIALIZED": "the driver did not initialise: see dmesg and nvidia-smi",
    "CUDA_ERROR_OPERATING_SYSTEM": "the driver could not open the GPU's device files (/dev/nvidia*): check their "
                                   "permissions, and in a container the devices it was given",
}

# cudaError_t codes (driver_types.h) that the answer's runtime returns when it cannot start.
CUDA_ERROR_MEMORY_ALLOCATION = 2
CUDA_ERROR_INITIALIZATION = 3
CUDA_ERROR_INSUFFICIENT_DRIVER = 35
CUDA_ERROR_NO_DEVICE = 100
RUNTIME_START_NAMES = {
    CUDA_ERROR_MEMORY_ALLOCATION: "CUDA_ERROR_OUT_OF_MEMORY", CUDA_ERROR_NO_DEVICE: "CUDA_ERROR_NO_DEVICE",
    46: "CUDA_ERROR_DEVICES_UNAVAILABLE", 803: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
    804: "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE", 34: "CUDA_ERROR_STUB_LIBRARY",
    CUDA_ERROR_INITIALIZATION: "CUDA_ERROR_NOT_INITIALIZED",
}


def cuda_version_text(version: int) -> str:
    """13000 -> "13.0" (the encoding of cuDriverGetVersion and cudaRuntimeGetVersion)."""
    return f"{version // 1000}.{version % 1000 // 10}"


# ---------------------------------------------------------------- which API


def installed_gpu_apis(find_spec: Callable[[str], Any] = importlib.util.find_spec) -> list[str]:
    """The GPU APIs this Python can import, in order of preference; none is imported."""
    found = []
    for name in GPU_APIS[1:]:
        try:
            if find_spec(_MODULES[name]) is not None:
                found.append(name)
        except (ImportError, ValueError):  # a broken namespace package: not usable
            pass
    return found


def resolve_gpu_api(requested: str = "auto", installed: list[str] | None = None) -> str:
    """The API to use: the one asked for, or with `auto` the first installed. Raises GpuApiError when it is absent."""
    installed = installed_gpu_apis() if installed is None else installed
    if requested not in GPU_APIS:
        raise GpuApiError(f"--cudabench-gpu-api={requested}: use one of {', '.join(GPU_APIS)}")
    if requested == "auto":
        if installed:
            return installed[0]
        raise GpuApiError("no GPU API is installed for the harness's GPU work: " + INSTALL["cuda-bindings"]
                          + ", or " + INSTALL["pycuda"])
    if requested not in installed:
        others = f" ({', '.join(installed)} is installed: --cudabench-gpu-api=auto uses it)" if installed else ""
        raise GpuApiError(f"--cudabench-gpu-api={requested}, but {requested} is not installed: "
                          f"{INSTALL[requested]}{others}")
    return requested


def why_not(name: str, installed: list[str], chosen: str | None) -> str:
    """One phrase on an API that is not the one used."""
    if name not in installed:
        return f"{name}: not installed"
    return f"{name}: installed, not chosen ({chosen} comes first; --cudabench-gpu-api={name} picks it)"


class GpuApi(Protocol):
    """What the harness does on the GPU. Pointers are ints; everything asynchronous goes to the legacy default
    stream, where the answer's launches and the timing events go."""

    name: str
    device: int

    def attribute(self, attr: int) -> int: ...
    def device_name(self) -> str: ...
    def driver_version(self) -> int: ...
    def mem_get_info(self) -> tuple[int, int]: ...
    def alloc(self, nbytes: int) -> int: ...
    def free(self, pointer: int) -> None: ...
    def copy_htod(self, pointer: int, data: Any) -> None: ...
    def copy_dtoh(self, pointer: int, nbytes: int) -> bytes: ...
    def copy_dtod_async(self, dst: int, src: int, nbytes: int) -> None: ...
    def memset(self, pointer: int, byte: int, nbytes: int) -> None: ...
    def memset_async(self, pointer: int, byte: int, nbytes: int) -> None: ...
    def event_create(self) -> Any: ...
    def event_record(self, event: Any) -> None: ...
    def event_elapsed_s(self, start: Any, end: Any) -> float: ...
    def event_destroy(self, event: Any) -> None: ...
    def stream_create(self) -> Any: ...
    def stream_destroy(self, stream: Any) -> None: ...
    def synchronize(self) -> None: ...
    def reset_persisting_l2(self) -> bool: ...
    def persisting_l2_limit(self) -> int | None: ...
    def access_policy_window_bytes(self) -> int | None: ...
    def profiler_start(self) -> None: ...
    def profiler_stop(self) -> None: ...
    def close(self) -> None: ...


def open_gpu_api(requested: str = "auto", device: int = 0) -> GpuApi:
    """The chosen API, started on `device`'s primary context (made current in this thread)."""
    name = resolve_gpu_api(requested)
    return CudaBindingsApi(device) if name == "cuda-bindings" else PycudaApi(device)


# ---------------------------------------------------------------- cuda-bindings (driver API)


def _host_address(data: Any) -> tuple[int, Any]:
    """The address of a host buffer (bytes, bytearray, memoryview, numpy array) without copying it, and the object
    that keeps it alive."""
    import numpy as np

    array = np.frombuffer(data, dtype=np.uint8)
    return array.ctypes.data, array


class CudaBindingsApi:
    name = "cuda-bindings"

    def __init__(self, device: int = 0):
        try:
            from cuda.bindings import driver
        except ImportError as exc:
            raise GpuApiError(f"cuda-bindings does not import ({exc}): {INSTALL['cuda-bindings']}") from None
        self.driver = driver
        self.legacy_stream = driver.CUstream(driver.CU_STREAM_LEGACY)
        try:
            self._call("cuInit", 0)
            self.handle = self._call("cuDeviceGet", device)
            self.context = self._call("cuDevicePrimaryCtxRetain", self.handle)
            self._call("cuCtxSetCurrent", self.context)
        except GpuApiError:
            raise
        except CudaError as exc:
            raise GpuApiError(self._start_message(f"device {device}", exc)) from None
        self.device = device

    def _start_message(self, what: str, exc: CudaError) -> str:
        name = getattr(exc, "error_name", "")
        text = f"cuda-bindings could not start CUDA on {what}: {exc}"
        if name in START_HINTS:
            return f"{text}; {START_HINTS[name]}"
        hint = bindings_driver_mismatch(self.bindings_version(), _driver_version_or_none(self))
        return f"{text}; {hint}" if hint else text

    def _unreachable(self, call: str, exc: Exception) -> str:
        """The binding could not reach the driver's function: no driver library (cuda.pathfinder's error), or a
        driver older than the bindings that lacks the function."""
        text = f"cuda-bindings could not call {call}: {str(exc).strip().rstrip('.')}"
        driver = _driver_version_or_none(self) if call != "cuDriverGetVersion" else None
        if driver is None:
            return (f"{text}; install the NVIDIA driver (libcuda.so.1 must be on the loader's path), and in a "
                    "container start it with the GPUs (--gpus all)")
        hint = bindings_driver_mismatch(self.bindings_version(), driver)
        return f"{text}; {hint}" if hint else (f"{text} (cuda-bindings {self.bindings_version()}, the driver "
                                               f"supports CUDA {cuda_version_text(driver)})")

    @staticmethod
    def bindings_version() -> str:
        from cuda import bindings

        return getattr(bindings, "__version__", "")

    def _call(self, name: str, *args: Any) -> Any:
        try:
            result = getattr(self.driver, name)(*args)
        except Exception as exc:
            raise GpuApiError(self._unreachable(name, exc)) from None
        status, values = (result[0], result[1:]) if isinstance(result, tuple) else (result, ())
        if status != self.driver.CUresult.CUDA_SUCCESS:
            raise self._error(name, status)
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def _error(self, call: str, status: Any) -> CudaError:
        name = getattr(status, "name", str(status))
        try:
            described = self.driver.cuGetErrorString(status)
            text = described[1].decode() if described[0] == self.driver.CUresult.CUDA_SUCCESS else ""
        except Exception:  # describing the error must not hide it
            text = ""
        error = CudaError(f"{call} failed: {name}" + (f" ({text})" if text else ""))
        error.error_name = name  # type: ignore[attr-defined]
        return error

    def attribute(self, attr: int) -> int:
        return int(self._call("cuDeviceGetAttribute", self.driver.CUdevice_attribute(attr), self.handle))

    def device_name(self) -> str:
        return bytes(self._call("cuDeviceGetName", 256, self.handle)).split(b"\0", 1)[0].decode(errors="replace")

    def driver_version(self) -> int:
        return int(self._call("cuDriverGetVersion"))

    def mem_get_info(self) -> tuple[int, int]:
        free, total = self._call("cuMemGetInfo")
        return int(free), int(total)

    def alloc(self, nbytes: int) -> int:
        return int(self._call("cuMemAlloc", nbytes))

    def free(self, pointer: int) -> None:
        self._call("cuMemFree", pointer)

    def copy_htod(self, pointer: int, data: Any) -> None:
        address, keep = _host_address(data)
        self._call("cuMemcpyHtoD", pointer, address, keep.nbytes)

    def copy_dtoh(self, pointer: int, nbytes: int) -> bytes:
        out = bytearray(nbytes)
        if nbytes:
            address = ctypes.addressof((ctypes.c_char * nbytes).from_buffer(out))
            self._call("cuMemcpyDtoH", address, pointer, nbytes)
        return bytes(out)

    def copy_dtod_async(self, dst: int, src: int, nbytes: int) -> None:
        self._call("cuMemcpyDtoDAsync", dst, src, nbytes, self.legacy_stream)

    def memset(self, pointer: int, byte: int, nbytes: int) -> None:
        self._call("cuMemsetD8", pointer, byte, nbytes)

    def memset_async(self, pointer: int, byte: int, nbytes: int) -> None:
        self._call("cuMemsetD8Async", pointer, byte, nbytes, self.legacy_stream)

    def event_create(self) -> Any:
        return self._call("cuEventCreate", self.driver.CUevent_flags.CU_EVENT_DEFAULT)

    def event_record(self, event: Any) -> None:
        self._call("cuEventRecord", event, self.legacy_stream)

    def event_elapsed_s(self, start: Any, end: Any) -> float:
        return float(self._call("cuEventElapsedTime", start, end)) * 1e-3

    def event_destroy(self, event: Any) -> None:
        self._call("cuEventDestroy", event)

    def stream_create(self) -> Any:
        return self._call("cuStreamCreate", self.driver.CUstream_flags.CU_STREAM_DEFAULT)

    def stream_destroy(self, stream: Any) -> None:
        self._call("cuStreamDestroy", stream)

    def synchronize(self) -> None:
        self._call("cuCtxSynchronize")

    def reset_persisting_l2(self) -> bool:
        """False where the device has no persisting L2 (the refusal is not an error of anyone's)."""
        return self.driver.cuCtxResetPersistingL2Cache()[0] == self.driver.CUresult.CUDA_SUCCESS

    def persisting_l2_limit(self) -> int | None:
        status, value = self.driver.cuCtxGetLimit(self.driver.CUlimit.CU_LIMIT_PERSISTING_L2_CACHE_SIZE)
        return int(value) if status == self.driver.CUresult.CUDA_SUCCESS else None

    def access_policy_window_bytes(self) -> int | None:
        attribute = self.driver.CUstreamAttrID(1)  # the access-policy window (its member name varies by version)
        status, value = self.driver.cuStreamGetAttribute(self.legacy_stream, attribute)
        return int(value.accessPolicyWindow.num_bytes) if status == self.driver.CUresult.CUDA_SUCCESS else None

    def profiler_start(self) -> None:
        self._call("cuProfilerStart")

    def profiler_stop(self) -> None:
        self._call("cuProfilerStop")

    def close(self) -> None:
        if getattr(self, "context", None) is not None:
            self.driver.cuDevicePrimaryCtxRelease(self.handle)
            self.context = None


def _driver_version_or_none(api: CudaBindingsApi) -> int | None:
    try:
        return api.driver_version() or None
    except Exception:  # no driver library at all
        return None


def bindings_driver_mismatch(bindings_version: str, driver_version: int | None) -> str:
    """What to do when cuda-bindings is of a newer CUDA major version than the driver ("" when it is not)."""
    try:
        bindings_major = int(bindings_version.split(".")[0])
    except ValueError:
        return ""
    if driver_version is None or bindings_major <= driver_version // 1000:
        return ""
    major = driver_version // 1000
    return (f"cuda-bindings {bindings_version} is for CUDA {bindings_major}, the driver supports CUDA "
            f"{cuda_version_text(driver_version)}: pip install 'cuda-bindings>={major}.0,<{major + 1}', or update "
            "the driver")


# ---------------------------------------------------------------- pycuda


class PycudaApi:
    """pycuda on the primary context. pycuda has no persisting-L2 or stream-attribute calls: those, and the profiler
    switch, go through the answer's runtime instance (`AnswerRuntime`), which works on the same context."""

    name = "pycuda"

    def __init__(self, device: int = 0):
        try:
            import pycuda.driver as cuda
        except ImportError as exc:  # pycuda links the driver's library itself: without a driver it cannot import
            fix = ("install the NVIDIA driver (libcuda.so.1), and in a container start it with the GPUs (--gpus all)"
                   if "libcuda" in str(exc) else INSTALL["pycuda"])
            raise GpuApiError(f"pycuda does not import ({exc}): {fix}") from None
        self.cuda = cuda
        try:
            cuda.init()
            self.handle = cuda.Device(device)
            self.context = self.handle.retain_primary_context()
            self.context.push()
        except cuda.Error as exc:
            hint = next((h for n, h in START_HINTS.items() if _pycuda_mentions(exc, n)), "see nvidia-smi")
            raise GpuApiError(f"pycuda could not start CUDA on device {device}: {exc}; {hint}") from None
        self.device = device
        self.allocations: dict[int, Any] = {}
        self.runtime = AnswerRuntime.load()

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self.cuda.Error as exc:
            raise CudaError(f"{what} failed: {exc}") from None

    def attribute(self, attr: int) -> int:
        return int(self._call("cuDeviceGetAttribute", self.handle.get_attribute,
                              self.cuda.device_attribute.values[attr]))

    def device_name(self) -> str:
        return str(self.handle.name())

    def driver_version(self) -> int:
        return int(self._call("cuDriverGetVersion", self.cuda.get_driver_version))

    def mem_get_info(self) -> tuple[int, int]:
        free, total = self._call("cuMemGetInfo", self.cuda.mem_get_info)
        return int(free), int(total)

    def alloc(self, nbytes: int) -> int:
        allocation = self._call("cuMemAlloc", self.cuda.mem_alloc, nbytes)
        self.allocations[int(allocation)] = allocation
        return int(allocation)

    def free(self, pointer: int) -> None:
        allocation = self.allocations.pop(pointer, None)
        if allocation is not None:
            self._call("cuMemFree", allocation.free)

    def copy_htod(self, pointer: int, data: Any) -> None:
        _address, array = _host_address(data)
        self._call("cuMemcpyHtoD", self.cuda.memcpy_htod, pointer, array)

    def copy_dtoh(self, pointer: int, nbytes: int) -> bytes:
        out = bytearray(nbytes)
        if nbytes:
            self._call("cuMemcpyDtoH", self.cuda.memcpy_dtoh, out, pointer)
        return bytes(out)

    def copy_dtod_async(self, dst: int, src: int, nbytes: int) -> None:
        self._call("cuMemcpyDtoDAsync", self.cuda.memcpy_dtod_async, dst, src, nbytes, None)

    def memset(self, pointer: int, byte: int, nbytes: int) -> None:
        self._call("cuMemsetD8", self.cuda.memset_d8, pointer, byte, nbytes)

    def memset_async(self, pointer: int, byte: int, nbytes: int) -> None:
        self._call("cuMemsetD8Async", self.cuda.memset_d8_async, pointer, byte, nbytes, None)

    def event_create(self) -> Any:
        return self._call("cuEventCreate", self.cuda.Event)

    def event_record(self, event: Any) -> None:
        self._call("cuEventRecord", event.record, None)

    def event_elapsed_s(self, start: Any, end: Any) -> float:
        return float(self._call("cuEventElapsedTime", end.time_since, start)) * 1e-3

    def event_destroy(self, event: Any) -> None:
        pass  # pycuda destroys an event with its Python object

    def stream_create(self) -> Any:
        return self._call("cuStreamCreate", self.cuda.Stream)

    def stream_destroy(self, stream: Any) -> None:
        pass  # with its Python object

    def synchronize(self) -> None:
        self._call("cuCtxSynchronize", self.cuda.Context.synchronize)

    def reset_persisting_l2(self) -> bool:
        return self.runtime.reset_persisting_l2()

    def persisting_l2_limit(self) -> int | None:
        return self.runtime.persisting_l2_limit()

    def access_policy_window_bytes(self) -> int | None:
        return self.runtime.access_policy_window_bytes()

    def profiler_start(self) -> None:
        self.runtime.check(self.runtime.lib.cudaProfilerStart(), "cudaProfilerStart")

    def profiler_stop(self) -> None:
        self.runtime.check(self.runtime.lib.cudaProfilerStop(), "cudaProfilerStop")

    def close(self) -> None:
        if getattr(self, "context", None) is not None:
            for allocation in self.allocations.values():
                allocation.free()
            self.allocations.clear()
            self.context.pop()
            self.context = None


def _pycuda_mentions(exc: Exception, error_name: str) -> bool:
    """pycuda's messages carry the driver's description, not the enum name: match on its words."""
    words = error_name.removeprefix("CUDA_ERROR_").replace("_", " ").lower()
    return words in str(exc).lower().replace("-", " ")


# ---------------------------------------------------------------- the answer's runtime instance (ctypes)


CUDA_LIMIT_PERSISTING_L2_CACHE_SIZE = 0x06  # cudaLimitPersistingL2CacheSize (enum cudaLimit)
CUDA_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW = 1  # cudaStreamAttributeAccessPolicyWindow
STREAM_ATTR_VALUE_WORDS = 8  # cudaStreamAttrValue is a union padded to 64 bytes: 8 aligned 64-bit words

_cudart: ctypes.CDLL | None = None


def load_cudart() -> ctypes.CDLL:
    """The CUDA runtime library, loaded once with RTLD_GLOBAL so that kernel libraries built with
    `-cudart shared` bind to this same instance (one runtime, one view of the context, its streams and errors)."""
    global _cudart
    if _cudart is None:
        errors = []
        for cand in cudart_candidates():
            if "/" in cand and not Path(cand).exists():
                continue
            try:
                _cudart = ctypes.CDLL(cand, mode=ctypes.RTLD_GLOBAL)
                break
            except OSError as exc:
                errors.append(f"{cand}: {exc}")
        else:
            raise GpuApiError("cannot load the CUDA runtime (libcudart) that answers link against: "
                              + ("; ".join(errors[-3:]) or "not found")
                              + "; install a CUDA toolkit (CUDA_HOME) or pip install nvidia-cuda-runtime")
        _declare(_cudart)
    return _cudart


def _declare(rt: ctypes.CDLL) -> None:
    vp, i, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    sigs = {
        "cudaGetErrorString": ([i], ctypes.c_char_p),
        "cudaGetErrorName": ([i], ctypes.c_char_p),
        "cudaFree": ([vp], i),
        "cudaDeviceSynchronize": ([], i),
        "cudaDriverGetVersion": ([ctypes.POINTER(i)], i),
        "cudaRuntimeGetVersion": ([ctypes.POINTER(i)], i),
        "cudaGetLastError": ([], i),
        "cudaProfilerStart": ([], i),
        "cudaProfilerStop": ([], i),
        "cudaDeviceGetLimit": ([ctypes.POINTER(sz), i], i),
    }
    for name, (args, res) in sigs.items():
        fn = getattr(rt, name)
        fn.argtypes, fn.restype = args, res
    # Persisting-L2 controls (CUDA 11+): looked up on their own, so a runtime without them still times.
    optional = {"cudaCtxResetPersistingL2Cache": ([], i), "cudaStreamGetAttribute": ([vp, i, vp], i)}
    for name, (args, res) in optional.items():
        fn = getattr(rt, name, None)
        if fn is not None:
            fn.argtypes, fn.restype = args, res


class AnswerRuntime:
    """The CUDA runtime instance the answer's library binds to (libcudart, loaded first with RTLD_GLOBAL): the one
    place where the answer's launch errors can be read, and whose start on this driver must be checked."""

    def __init__(self, lib: ctypes.CDLL):
        self.lib = lib

    @classmethod
    def load(cls) -> AnswerRuntime:
        return cls(load_cudart())

    def error_text(self, code: int) -> str:
        name = self.lib.cudaGetErrorName(code)
        text = self.lib.cudaGetErrorString(code)
        return f"{name.decode() if name else code}: {text.decode() if text else ''}".rstrip(": ")

    def check(self, code: int, what: str) -> None:
        if code != 0:
            raise CudaError(f"{what} failed: {self.error_text(code)}")

    def versions(self) -> tuple[int, int]:
        """(driver, runtime) CUDA versions as ints (13000 = 13.0); driver 0 without a driver."""
        driver, runtime = ctypes.c_int(), ctypes.c_int()
        self.lib.cudaDriverGetVersion(ctypes.byref(driver))
        self.lib.cudaRuntimeGetVersion(ctypes.byref(runtime))
        return driver.value, runtime.value

    def start(self) -> None:
        """cudaFree(0): the runtime starts on the current (primary) context now, before any answer code runs, and
        its status says whether it can: a failure here is the machine's, named with what to do."""
        code = self.lib.cudaFree(None)
        if code == 0:
            return
        self.lib.cudaGetLastError()
        raise GpuApiError(self.start_failure(code))

    def start_failure(self, code: int) -> str:
        driver, runtime = self.versions()
        text = f"the CUDA runtime could not start (cudaFree(0): {self.error_text(code)})"
        if code == CUDA_ERROR_INSUFFICIENT_DRIVER:
            if driver == 0:
                return (f"{text}: no NVIDIA driver is installed or loadable (libcuda.so.1); install the driver, and "
                        "in a container start it with the GPUs (--gpus all)")
            return (f"{text}: the toolkit's runtime is CUDA {cuda_version_text(runtime)}, the driver supports CUDA "
                    f"{cuda_version_text(driver)}; update the NVIDIA driver, or compile with a toolkit no newer than "
                    f"the driver (CUDA_HOME, or pip install 'nvidia-cuda-nvcc-cu{driver // 1000}')")
        hint = START_HINTS.get(RUNTIME_START_NAMES.get(code, ""))
        return f"{text}; {hint}" if hint else text

    def last_error(self) -> str | None:
        """The error the answer's work left, as "cudaErrorName: description" (reading it clears it), or None."""
        code = self.lib.cudaDeviceSynchronize()
        if code == 0:
            code = self.lib.cudaGetLastError()
        return None if code == 0 else self.error_text(code)

    def reset_persisting_l2(self) -> bool:
        reset = getattr(self.lib, "cudaCtxResetPersistingL2Cache", None)
        if reset is None:
            return False
        if reset() != 0:
            self.lib.cudaGetLastError()
            return False
        return True

    def persisting_l2_limit(self) -> int | None:
        limit = ctypes.c_size_t()
        if self.lib.cudaDeviceGetLimit(ctypes.byref(limit), CUDA_LIMIT_PERSISTING_L2_CACHE_SIZE) == 0:
            return int(limit.value)
        self.lib.cudaGetLastError()
        return None

    def access_policy_window_bytes(self) -> int | None:
        get_attribute = getattr(self.lib, "cudaStreamGetAttribute", None)
        if get_attribute is None:
            return None
        value = (ctypes.c_uint64 * STREAM_ATTR_VALUE_WORDS)()
        if get_attribute(None, CUDA_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW, ctypes.addressof(value)) == 0:
            return int(value[1])  # {void* base_ptr; size_t num_bytes; ...}
        self.lib.cudaGetLastError()
        return None
