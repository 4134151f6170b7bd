"""CPU runtime: runs CUDA answers written by language models on a machine without a GPU.

Design
------
* ``rewrite.py`` lexes the answer (comments and literals are never touched) and rewrites kernel launches
  ``k<<<grid, block, smem, stream>>>(args)`` into calls of ``cudabench::Launcher`` and ``extern __shared__`` arrays
  into pointers to per-worker dynamic shared memory; line numbers are kept (``#line``), so g++ errors point at the
  original source. ``unsupported_features`` finds what cannot run here (grid-wide synchronisation and the rarer
  cooperative groups, inline PTX, tensor cores, legacy texture references, surfaces, CUB, Thrust, dynamic
  parallelism, cuBLAS, ...).
* ``cuda_shim.h`` is the whole runtime, force-included by g++: an umbrella over one header per section in
  ``cuda_shim/`` (each uses the ones before it; ``build.runtime_version`` hashes them all into the build cache's key).
  CUDA keywords, built-in variables, the runtime API on host memory, atomics (GCC ``__atomic`` builtins), warp
  intrinsics, math intrinsics (mapped to libm), half and bfloat16 (the toolkit's own ``cuda_fp16.h``/``cuda_bf16.h``,
  plus the functions they define for device code only), cooperative groups (thread_block, tiles of up to 32 threads
  with shuffles/votes, cg::reduce/scan) and texture objects (cudaArray, linear and pitch2D resources; point/linear
  filtering, clamp/border/wrap/mirror addressing).
  Each CUDA thread is a fiber (x86-64 context switch, 256 KiB stack + guard page); a block runs on one OS worker
  thread, so ``__shared__`` is ``thread_local``; blocks are spread over a pool of workers. ``__syncthreads`` is a
  counting barrier (exited threads count as arrived, different ``__syncthreads`` call sites do not match: a
  deadlock); warp operations are barriers over their mask's lanes; dynamic shared memory is filled with 0xFF bytes
  (NaN / -1) at each block start, fresh ``cudaMalloc``/``cudaMallocManaged``/``cudaMallocAsync`` memory too. Kernels
  run synchronously at launch. Launches obey the target architecture's limits (``-DCUDABENCH_SM=90`` from
  ``--cudabench-arch``; block and grid dimensions, and shared memory per block: 48 KB unless the kernel opted in with
  ``cudaFuncAttributeMaxDynamicSharedMemorySize``, at most the architecture's opt-in maximum, static + dynamic),
  failing with the error a GPU returns.
* ``build_cpu_program`` builds a complete program (own ``main()``, file I/O relative to its cwd) with the same g++
  flags: an executable, or a shared library exporting ``extern "C" int cudabench_program_main(int, char**)``.
* ``build.py`` compiles with ``g++ -std=c++17 -O2 -shared -fPIC -z defs`` (``-fsanitize=address`` on request;
  otherwise ``-fsanitize=thread`` instrumentation whose ``__tsan_*`` hooks the shim itself defines: racecheck).
* Thread orders: a block's ready threads run forward, in reverse, shuffled (seeded) or with warps interleaved lane by
  lane (each warp running on through its warp operations); function-scope ``__shared__`` variables are filled with
  0xFF bytes once per block, as dynamic shared memory is.

The shared library contract
---------------------------
Besides the answer's ``extern "C" void solve(...)``, the library exports:

``void cudabench_cpu_configure(int workers, unsigned long long mem_cap_bytes)``
    worker threads for blocks (call before ``solve``; nothing opens a file during ``solve``) and the simulated
    device memory size (``cudaMalloc`` beyond it returns ``cudaErrorMemoryAllocation``; 0 keeps 16 GiB).
``void cudabench_cpu_schedule(int order, unsigned long long seed)``
    the order of a block's threads between barriers for the launches that follow: 0 forward, 1 reverse, 2 shuffled
    (seeded by ``seed`` and the block index), 3 warps interleaved. A correct kernel gives the same result in all.
``int cudabench_cpu_racecheck(int on)``
    shared-memory race detection for the launches that follow (returns 0 for an AddressSanitizer build, which cannot
    check): the first hazard becomes the error, naming kernel, block, both threads and both accesses as
    ``{pc:0x...}`` offsets in the library, which ``addr2line`` turns into source lines.
``void cudabench_cpu_register(void* ptr, unsigned long long bytes)``
    declares a buffer handed to ``solve`` as device memory; ``cudaMemcpy``/``cudaMemset`` outside registered or
    ``cudaMalloc``'d ranges return ``cudaErrorInvalidValue`` without writing.
``void cudabench_cpu_unregister(void* ptr)``
    forgets a registered buffer before the harness unmaps it.
``void cudabench_cpu_protect(int on)``
    1: device memory (registered buffers and ``cudaMalloc``'d memory, not managed memory) is ``PROT_NONE`` while host
    code runs, accessible only inside the runtime calls that touch it (launches, copies, memsets), as a GPU allows;
    host code dereferencing a device pointer then dies of SIGSEGV after a line on stderr starting
    ``cudabench-cpu: host code accessed device memory`` (supervisor.host_access_fault reads it). 0: accessible.
``const char* cudabench_cpu_error(void)`` / ``const char* cudabench_cpu_error_name(void)``
    NULL, or the first error of the process: deadlock, ``__trap()``, failed device ``assert``, invalid launch
    configuration, too much shared memory, ... and its CUDA error name. Kernel faults are sticky: later launches
    are no-ops and ``cudaGetLastError``/``cudaDeviceSynchronize`` return the error.
``void cudabench_cpu_knockout(int on)``
    1: every kernel launch that follows is a no-op that succeeds (the knockout run, execution/knockout.py).
``unsigned long long cudabench_cpu_progress(void)``
    the kernels' work so far: CUDA threads finished plus barriers passed (progress.py tells slow from hung by it).
``void cudabench_cpu_reset_error(void)``
    clears the error state (for harnesses that call ``solve`` more than once in a process).
"""

from .build import CpuBuildError, CpuRuntimeUnsupported, build_cpu_library, build_cpu_program
from .rewrite import rewrite_source, unsupported_features

__all__ = ["CpuBuildError", "CpuRuntimeUnsupported", "build_cpu_library", "build_cpu_program",
           "rewrite_source", "unsupported_features"]
