// cuda_shim/atomics.h -- atomics (GCC __atomic builtins; floating point by compare-and-swap).
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

#define CB_RLX __ATOMIC_RELAXED
#define CB_ATOMIC_BITS(T)                                                                                          \
    static inline T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, CB_RLX); }                              \
    static inline T atomicSub(T* a, T v) { return __atomic_fetch_sub(a, v, CB_RLX); }                              \
    static inline T atomicExch(T* a, T v) { return __atomic_exchange_n(a, v, CB_RLX); }                            \
    static inline T atomicAnd(T* a, T v) { return __atomic_fetch_and(a, v, CB_RLX); }                              \
    static inline T atomicOr(T* a, T v) { return __atomic_fetch_or(a, v, CB_RLX); }                                \
    static inline T atomicXor(T* a, T v) { return __atomic_fetch_xor(a, v, CB_RLX); }                              \
    static inline T atomicMin(T* a, T v) {                                                                         \
        T old = __atomic_load_n(a, CB_RLX);                                                                        \
        while (v < old && !__atomic_compare_exchange_n(a, &old, v, true, CB_RLX, CB_RLX)) {}                       \
        return old;                                                                                                \
    }                                                                                                              \
    static inline T atomicMax(T* a, T v) {                                                                         \
        T old = __atomic_load_n(a, CB_RLX);                                                                        \
        while (v > old && !__atomic_compare_exchange_n(a, &old, v, true, CB_RLX, CB_RLX)) {}                       \
        return old;                                                                                                \
    }                                                                                                              \
    static inline T atomicCAS(T* a, T cmp, T v) {                                                                  \
        T expected = cmp;                                                                                          \
        if (!__atomic_compare_exchange_n(a, &expected, v, false, CB_RLX, CB_RLX)) cudabench::yield_fiber();        \
        return expected;                                                                                           \
    }
CB_ATOMIC_BITS(int)
CB_ATOMIC_BITS(unsigned int)
CB_ATOMIC_BITS(unsigned long long)
CB_ATOMIC_BITS(long long)
#undef CB_ATOMIC_BITS
static inline unsigned short atomicCAS(unsigned short* a, unsigned short cmp, unsigned short v) {
    unsigned short expected = cmp;
    if (!__atomic_compare_exchange_n(a, &expected, v, false, CB_RLX, CB_RLX)) cudabench::yield_fiber();
    return expected;
}
static inline unsigned atomicInc(unsigned* a, unsigned lim) {
    unsigned old = __atomic_load_n(a, CB_RLX);
    while (!__atomic_compare_exchange_n(a, &old, old >= lim ? 0u : old + 1u, true, CB_RLX, CB_RLX)) {}
    return old;
}
static inline unsigned atomicDec(unsigned* a, unsigned lim) {
    unsigned old = __atomic_load_n(a, CB_RLX);
    while (!__atomic_compare_exchange_n(a, &old, (old == 0 || old > lim) ? lim : old - 1u, true, CB_RLX, CB_RLX)) {}
    return old;
}
namespace cudabench {
template <class T, class U, class F> static inline T cas_update(T* a, F f) {
    static_assert(sizeof(T) == sizeof(U), "size mismatch");
    U* ai = reinterpret_cast<U*>(a);
    U old = __atomic_load_n(ai, CB_RLX), nw;
    for (;;) {
        T cur, next;
        memcpy((void*)&cur, &old, sizeof(T));
        next = f(cur);
        memcpy(&nw, (const void*)&next, sizeof(T));
        if (__atomic_compare_exchange_n(ai, &old, nw, true, CB_RLX, CB_RLX)) return cur;
    }
}
}  // namespace cudabench
static inline float atomicAdd(float* a, float v) { return cudabench::cas_update<float, unsigned>(a, [v](float x) { return x + v; }); }
static inline double atomicAdd(double* a, double v) { return cudabench::cas_update<double, unsigned long long>(a, [v](double x) { return x + v; }); }
static inline float atomicSub(float* a, float v) { return cudabench::cas_update<float, unsigned>(a, [v](float x) { return x - v; }); }
static inline float atomicExch(float* a, float v) {
    unsigned r = __atomic_exchange_n(reinterpret_cast<unsigned*>(a), cudabench::from_bits<unsigned>(cudabench::to_bits(v)), CB_RLX);
    return cudabench::from_bits<float>(r);
}
static inline float atomicMax(float* a, float v) { return cudabench::cas_update<float, unsigned>(a, [v](float x) { return v > x ? v : x; }); }
static inline float atomicMin(float* a, float v) { return cudabench::cas_update<float, unsigned>(a, [v](float x) { return v < x ? v : x; }); }
static inline double atomicMax(double* a, double v) { return cudabench::cas_update<double, unsigned long long>(a, [v](double x) { return v > x ? v : x; }); }
static inline double atomicMin(double* a, double v) { return cudabench::cas_update<double, unsigned long long>(a, [v](double x) { return v < x ? v : x; }); }
static inline __half atomicAdd(__half* a, __half v) { return cudabench::cas_update<__half, unsigned short>(a, [v](__half x) { return __float2half(__half2float(x) + __half2float(v)); }); }
static inline __half2 atomicAdd(__half2* a, __half2 v) { return cudabench::cas_update<__half2, unsigned>(a, [v](__half2 x) { return __hadd2(x, v); }); }
static inline __nv_bfloat16 atomicAdd(__nv_bfloat16* a, __nv_bfloat16 v) { return cudabench::cas_update<__nv_bfloat16, unsigned short>(a, [v](__nv_bfloat16 x) { return __float2bfloat16(__bfloat162float(x) + __bfloat162float(v)); }); }
static inline __nv_bfloat162 atomicAdd(__nv_bfloat162* a, __nv_bfloat162 v) { return cudabench::cas_update<__nv_bfloat162, unsigned>(a, [v](__nv_bfloat162 x) { return __hadd2(x, v); }); }
#define CB_SCOPED_ATOMIC(name)                                                                                       \
    template <class... A> static inline auto name##_block(A... a) -> decltype(name(a...)) { return name(a...); }     \
    template <class... A> static inline auto name##_system(A... a) -> decltype(name(a...)) { return name(a...); }
CB_SCOPED_ATOMIC(atomicAdd) CB_SCOPED_ATOMIC(atomicSub) CB_SCOPED_ATOMIC(atomicExch) CB_SCOPED_ATOMIC(atomicMin)
CB_SCOPED_ATOMIC(atomicMax) CB_SCOPED_ATOMIC(atomicAnd) CB_SCOPED_ATOMIC(atomicOr) CB_SCOPED_ATOMIC(atomicXor)
CB_SCOPED_ATOMIC(atomicCAS) CB_SCOPED_ATOMIC(atomicInc) CB_SCOPED_ATOMIC(atomicDec)
#undef CB_SCOPED_ATOMIC
#undef CB_RLX
