// cuda_shim/keywords.h -- CUDA keywords, built-in variables, stream and event types.
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

#undef __global__
#define __global__
#undef __device__
#define __device__
#undef __host__
#define __host__
#undef __shared__
#define __shared__ thread_local
#undef __constant__
#define __constant__
#undef __managed__
#define __managed__
#undef __launch_bounds__
#define __launch_bounds__(...)
#undef __grid_constant__
#define __grid_constant__
#undef __noinline__
#define __noinline__
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 800
#endif
#define CUDABENCH_CPU_RUNTIME 1

#define CB_TLS thread_local
// The runtime's own code is not instrumented in a racecheck build (-fsanitize=thread): only the answer's accesses are.
#ifdef __SANITIZE_THREAD__
#define CB_RT __attribute__((no_sanitize_thread))
#else
#define CB_RT
#endif

static CB_TLS uint3 threadIdx;
static CB_TLS uint3 blockIdx;
static CB_TLS dim3 blockDim;
static CB_TLS dim3 gridDim;
static constexpr int warpSize = 32;

struct CUstream_st { int unused; };
struct CUevent_st { double t; };
