// cuda_shim/device_functions.h -- device functions: __syncthreads, warp intrinsics, loads and stores.
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

#define __syncthreads() ::cudabench::sync_block(__LINE__, 1)
#define __syncthreads_count(p) ::cudabench::sync_block(__LINE__, (p))
#define __syncthreads_and(p) (::cudabench::sync_block(__LINE__, (p)) == (int)(blockDim.x * blockDim.y * blockDim.z))
#define __syncthreads_or(p) (::cudabench::sync_block(__LINE__, (p)) != 0)

static inline void __syncwarp(unsigned mask = 0xffffffffu) { cudabench::warp_op(cudabench::W_SYNC, mask, 0, 0, 32); }
template <class T> static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    return cudabench::from_bits<T>(cudabench::warp_op(cudabench::W_SHFL, mask, cudabench::to_bits(v), src, width));
}
template <class T> static inline T __shfl_up_sync(unsigned mask, T v, unsigned int d, int width = 32) {
    return cudabench::from_bits<T>(cudabench::warp_op(cudabench::W_UP, mask, cudabench::to_bits(v), (int)d, width));
}
template <class T> static inline T __shfl_down_sync(unsigned mask, T v, unsigned int d, int width = 32) {
    return cudabench::from_bits<T>(cudabench::warp_op(cudabench::W_DOWN, mask, cudabench::to_bits(v), (int)d, width));
}
template <class T> static inline T __shfl_xor_sync(unsigned mask, T v, int m, int width = 32) {
    return cudabench::from_bits<T>(cudabench::warp_op(cudabench::W_XOR, mask, cudabench::to_bits(v), m, width));
}
static inline unsigned __ballot_sync(unsigned mask, int p) { return (unsigned)cudabench::warp_op(cudabench::W_BALLOT, mask, p != 0, 0, 32); }
static inline int __any_sync(unsigned mask, int p) { return (int)cudabench::warp_op(cudabench::W_ANY, mask, p != 0, 0, 32); }
static inline int __all_sync(unsigned mask, int p) { return (int)cudabench::warp_op(cudabench::W_ALL, mask, p != 0, 0, 32); }
static inline int __uni_sync(unsigned mask, int p) { return __all_sync(mask, p) || !__any_sync(mask, p); }
template <class T> static inline unsigned __match_any_sync(unsigned mask, T v) {
    return (unsigned)cudabench::warp_op(cudabench::W_MATCH_ANY, mask, cudabench::to_bits(v), 0, 32);
}
template <class T> static inline unsigned __match_all_sync(unsigned mask, T v, int* pred) {
    unsigned r = (unsigned)cudabench::warp_op(cudabench::W_MATCH_ALL, mask, cudabench::to_bits(v), 0, 32);
    if (pred) *pred = r != 0;
    return r;
}
static inline unsigned __reduce_add_sync(unsigned m, unsigned v) { return (unsigned)cudabench::warp_op(cudabench::W_RADD, m, v, 0, 32); }
static inline int __reduce_add_sync(unsigned m, int v) { return (int)(unsigned)cudabench::warp_op(cudabench::W_RADD, m, (unsigned)v, 0, 32); }
static inline unsigned __reduce_min_sync(unsigned m, unsigned v) { return (unsigned)cudabench::warp_op(cudabench::W_RMIN, m, v, 0, 32); }
static inline int __reduce_min_sync(unsigned m, int v) { return (int)(unsigned)cudabench::warp_op(cudabench::W_RMINS, m, (unsigned)v, 0, 32); }
static inline unsigned __reduce_max_sync(unsigned m, unsigned v) { return (unsigned)cudabench::warp_op(cudabench::W_RMAX, m, v, 0, 32); }
static inline int __reduce_max_sync(unsigned m, int v) { return (int)(unsigned)cudabench::warp_op(cudabench::W_RMAXS, m, (unsigned)v, 0, 32); }
static inline unsigned __reduce_and_sync(unsigned m, unsigned v) { return (unsigned)cudabench::warp_op(cudabench::W_RAND, m, v, 0, 32); }
static inline unsigned __reduce_or_sync(unsigned m, unsigned v) { return (unsigned)cudabench::warp_op(cudabench::W_ROR, m, v, 0, 32); }
static inline unsigned __reduce_xor_sync(unsigned m, unsigned v) { return (unsigned)cudabench::warp_op(cudabench::W_RXOR, m, v, 0, 32); }
static inline unsigned __activemask() {
    cudabench::Worker* w = cudabench::tl_worker;
    if (!w || !w->cur) return 1u;
    int idx = (int)(w->cur - w->fibers);
    return ~w->warps[idx >> 5].done;
}
static inline unsigned __lanemask_lt() {
    cudabench::Worker* w = cudabench::tl_worker;
    int lane = (w && w->cur) ? (int)(w->cur - w->fibers) & 31 : 0;
    return (1u << lane) - 1u;
}

[[noreturn]] static inline void __trap() { cudabench::kernel_fault(cudaErrorLaunchFailure, "__trap() called"); }
[[noreturn]] static inline void __brkpt() { cudabench::kernel_fault(cudaErrorLaunchFailure, "__brkpt() called"); }
static inline void __nanosleep(unsigned) { cudabench::yield_fiber(); }
static inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_block() { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline long long clock64() { return (long long)__builtin_ia32_rdtsc(); }
static inline unsigned long long __globaltimer() { return (unsigned long long)(cudabench::now_s() * 1e9); }
static inline unsigned __smid() { return 0; }

// loads and stores with cache hints
template <class T> static inline T __ldg(const T* p) { return *p; }
template <class T> static inline T __ldca(const T* p) { return *p; }
template <class T> static inline T __ldcg(const T* p) { return *p; }
template <class T> static inline T __ldcs(const T* p) { return *p; }
template <class T> static inline T __ldlu(const T* p) { return *p; }
template <class T> static inline T __ldcv(const T* p) { return *p; }
template <class T> static inline void __stwb(T* p, T v) { *p = v; }
template <class T> static inline void __stcg(T* p, T v) { *p = v; }
template <class T> static inline void __stcs(T* p, T v) { *p = v; }
template <class T> static inline void __stwt(T* p, T v) { *p = v; }
