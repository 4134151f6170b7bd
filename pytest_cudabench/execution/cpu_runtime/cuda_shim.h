// cuda_shim.h -- the cudabench CPU runtime: runs CUDA C++ kernels on the CPU when compiled with g++.
//
// Force-included (g++ -include) before the answer's source, which build.py has rewritten first:
//   kernel<<<grid, block, smem, stream>>>(args)  ->  ::cudabench::Launcher("kernel", grid, block, smem, stream)(
//                                                       [&](auto&&... a) { kernel(a...); }, args)
//   extern __shared__ T name[];                  ->  T* const name = reinterpret_cast<T*>(::cudabench::tl_dsmem);
//
// Design: every CUDA thread of a block is a fiber (own stack with a guard page, switched by a few lines of x86-64
// assembly).  A worker (an OS thread) runs one block at a time, so `__shared__` variables are `thread_local`.
// `__syncthreads` is a counting barrier where exited threads count as arrived; warp operations are barriers over
// the lanes of their mask.  When no fiber can run, warp operations waiting for lanes that are blocked elsewhere are
// released with the lanes present; if that is not possible the block is deadlocked: a sticky error is recorded and
// the block is abandoned.  The CUDA runtime API works on host memory; the harness registers its buffers.
#ifndef CUDABENCH_CUDA_SHIM_H
#define CUDABENCH_CUDA_SHIM_H

#if !defined(__x86_64__)
#error "the cudabench CPU runtime supports x86-64 only"
#endif

// The runtime, one header per section (cuda_shim/), in the order they build on each other. build.py's
// runtime_version hashes every file of this folder into the CPU build cache's key.
#include "cuda_shim/toolkit.h"
#include "cuda_shim/keywords.h"
#include "cuda_shim/config.h"
#include "cuda_shim/fibers.h"
#include "cuda_shim/workers.h"
#include "cuda_shim/barriers.h"
#include "cuda_shim/device_memory.h"
#include "cuda_shim/host_access.h"
#include "cuda_shim/racecheck.h"
#include "cuda_shim/harness.h"
#include "cuda_shim/runtime_api.h"
#include "cuda_shim/device_functions.h"
#include "cuda_shim/atomics.h"
#include "cuda_shim/intrinsics.h"
#include "cuda_shim/half.h"
#include "cuda_shim/cooperative_groups.h"
#include "cuda_shim/textures.h"
#include "cuda_shim/program.h"

#endif  // CUDABENCH_CUDA_SHIM_H
