// cuda_shim/racecheck.h -- racecheck: shared-memory hazards within a barrier interval (the __tsan_* hooks).
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

namespace cudabench {

// Built with -fsanitize=thread (build.py, not with AddressSanitizer), g++ calls __tsan_read*/__tsan_write* before
// every load and store and __tsan_atomic* for atomics; the shim defines them (no ThreadSanitizer runtime). When
// cudabench_cpu_racecheck(1) is on, a plain access to a word of the block's shared memory (function-scope
// __shared__ variables, as fresh_shared registers them, and dynamic shared memory) is checked against the word's
// last accesses: a write by one thread and a read or write by another in the same interval between __syncthreads
// is a hazard (two writes alone are not reported), unless both are lanes of one warp and a warp operation (__syncwarp, a shuffle, ...) of that warp was
// released in between. Atomics are never hazards. The first hazard is reported like compute-sanitizer's
// racecheck, with kernel, block, both threads, and both code addresses as {pc:0x...}, which the harness turns into
// source lines of the library (addr2line).
struct ShadowWord {
    unsigned epoch[3];           // [0]: last write, [1], [2]: two of the reads since
    unsigned short tid[3], syncs[3];
    unsigned pc[3];
    unsigned char bytes[3];      // which bytes of the word the access touched: threads may share a word, not a byte
};
static const unsigned kStaticShadow = 48 * 1024 / 4;
static int g_racecheck = 0, g_race_reported = 0;

#ifdef __SANITIZE_THREAD__
#define CB_NOTSAN __attribute__((no_sanitize_thread, noinline))
extern "C" const char __ehdr_start __attribute__((visibility("hidden")));

CB_NOTSAN static ShadowWord* shadow_of(Worker* w, uintptr_t a) {
    uintptr_t d = (uintptr_t)w->dsmem;
    if (a - d < w->job->smem) return w->shadow + kStaticShadow + (a - d) / 4;
    for (int k = 0; k < w->nfresh; k++) {
        uintptr_t f = (uintptr_t)w->fresh[k];
        if (a - f < w->fresh_size[k]) {
            unsigned i = w->fresh_shadow[k] + (unsigned)((a - f) / 4);
            return i < kStaticShadow ? w->shadow + i : nullptr;
        }
    }
    return nullptr;
}

CB_NOTSAN static void race_report(Worker* w, int me, const ShadowWord* sw, int k, bool write, unsigned pc) {
    if (__atomic_exchange_n(&g_race_reported, 1, __ATOMIC_RELAXED)) return;
    const uint3 a = w->fibers[me].tid, b = w->fibers[sw->tid[k]].tid;
    const char* kind = write ? "write-after-read" : "read-after-write";
    set_error(cudaErrorLaunchFailure, false,
              "shared-memory race (%s hazard) in kernel %s, block (%u,%u,%u): thread (%u,%u,%u) %s a word of "
              "shared memory at {pc:%#x} that thread (%u,%u,%u) %s at {pc:%#x}, with no __syncthreads() between "
              "them; add one (__syncwarp() only orders the lanes of one warp), or use an atomic",
              kind, w->job->name, blockIdx.x, blockIdx.y, blockIdx.z, a.x, a.y, a.z, write ? "writes" : "reads",
              pc, b.x, b.y, b.z, k == 0 ? "wrote" : "read", sw->pc[k]);
}

CB_NOTSAN static void race_access(const void* p, size_t n, bool write, const void* ret) {
    Worker* w = tl_worker;
    if (!w || !w->cur || g_race_reported) return;
    if (!w->shadow) {
        w->shadow = (ShadowWord*)calloc(kStaticShadow + kMaxDynSmem / 4, sizeof(ShadowWord));
        if (!w->shadow) return;
    }
    int me = (int)(w->cur - w->fibers);
    unsigned e = w->epoch, syncs = w->warps[me >> 5].syncs;
    unsigned pc = (unsigned)((const char*)ret - &__ehdr_start - 1);
    uintptr_t start = (uintptr_t)p, a = start & ~(uintptr_t)3, end = start + (n ? n : 1);
    for (; a < end; a += 4) {
        ShadowWord* sw = shadow_of(w, a);
        if (!sw) continue;
        unsigned lo = start > a ? (unsigned)(start - a) : 0, hi = end < a + 4 ? (unsigned)(end - a) : 4;
        unsigned char bytes = (unsigned char)(((1u << hi) - 1) & ~((1u << lo) - 1));
        // a read against the last write; a write against the reads since. Two writes alone are not reported (the
        // same value stored by many threads is a common, benign pattern; different values make the result depend
        // on thread order, which the thread-order runs catch).
        for (int k = write ? 1 : 0; k < (write ? 3 : 1); k++) {
            int other = sw->tid[k];
            if (sw->epoch[k] != e || other == me || !(sw->bytes[k] & bytes)) continue;
            if ((other >> 5) == (me >> 5) && sw->syncs[k] != syncs) continue;  // ordered by a warp operation
            race_report(w, me, sw, k, write, pc);
            return;
        }
        int slot = 0;
        if (!write) slot = (sw->epoch[1] != e || sw->tid[1] == me) ? 1 : 2;
        sw->epoch[slot] = e;
        sw->tid[slot] = (unsigned short)me;
        sw->syncs[slot] = (unsigned short)syncs;
        sw->pc[slot] = pc;
        sw->bytes[slot] = bytes;
    }
}

#endif

}  // namespace cudabench

#ifdef __SANITIZE_THREAD__
extern "C" {
// the common case, racecheck off, costs the call, one load and one branch
#define CB_RACE(p, n, write) \
    if (__builtin_expect(cudabench::g_racecheck, 0)) cudabench::race_access(p, n, write, __builtin_return_address(0))
#define CB_RACE_HOOKS(N)                                                                                            \
    CB_NOTSAN void __tsan_read##N(void* p) { CB_RACE(p, N, false); }                                                \
    CB_NOTSAN void __tsan_write##N(void* p) { CB_RACE(p, N, true); }                                                \
    CB_NOTSAN void __tsan_unaligned_read##N(void* p) { CB_RACE(p, N, false); }                                      \
    CB_NOTSAN void __tsan_unaligned_write##N(void* p) { CB_RACE(p, N, true); }                                      \
    CB_NOTSAN void __tsan_volatile_read##N(void* p) { CB_RACE(p, N, false); }                                       \
    CB_NOTSAN void __tsan_volatile_write##N(void* p) { CB_RACE(p, N, true); }
CB_RACE_HOOKS(1) CB_RACE_HOOKS(2) CB_RACE_HOOKS(4) CB_RACE_HOOKS(8) CB_RACE_HOOKS(16)
#undef CB_RACE_HOOKS
CB_NOTSAN void __tsan_read_range(void* p, unsigned long n) { CB_RACE(p, n, false); }
CB_NOTSAN void __tsan_write_range(void* p, unsigned long n) { CB_RACE(p, n, true); }
#undef CB_RACE
CB_NOTSAN void __tsan_init(void) {}
CB_NOTSAN void __tsan_func_entry(void*) {}
CB_NOTSAN void __tsan_func_exit(void) {}
CB_NOTSAN void __tsan_vptr_update(void*, void*) {}
CB_NOTSAN void __tsan_vptr_read(void*) {}
CB_NOTSAN void __tsan_atomic_thread_fence(int) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
CB_NOTSAN void __tsan_atomic_signal_fence(int) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
// atomics are never races: each hook does the operation (sequentially consistent, which every order allows)
#define CB_ATOMIC_HOOKS(N, T)                                                                                       \
    CB_NOTSAN T __tsan_atomic##N##_load(const volatile T* a, int) { return __atomic_load_n(a, __ATOMIC_SEQ_CST); }  \
    CB_NOTSAN void __tsan_atomic##N##_store(volatile T* a, T v, int) { __atomic_store_n(a, v, __ATOMIC_SEQ_CST); }  \
    CB_NOTSAN T __tsan_atomic##N##_exchange(volatile T* a, T v, int) { return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST); } \
    CB_NOTSAN T __tsan_atomic##N##_fetch_add(volatile T* a, T v, int) { return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); } \
    CB_NOTSAN T __tsan_atomic##N##_fetch_sub(volatile T* a, T v, int) { return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST); } \
    CB_NOTSAN T __tsan_atomic##N##_fetch_and(volatile T* a, T v, int) { return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST); } \
    CB_NOTSAN T __tsan_atomic##N##_fetch_or(volatile T* a, T v, int) { return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST); } \
    CB_NOTSAN T __tsan_atomic##N##_fetch_xor(volatile T* a, T v, int) { return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST); } \
    CB_NOTSAN T __tsan_atomic##N##_fetch_nand(volatile T* a, T v, int) { return __atomic_fetch_nand(a, v, __ATOMIC_SEQ_CST); } \
    CB_NOTSAN int __tsan_atomic##N##_compare_exchange_strong(volatile T* a, T* c, T v, int, int) {                  \
        return __atomic_compare_exchange_n(a, c, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                     \
    }                                                                                                               \
    CB_NOTSAN int __tsan_atomic##N##_compare_exchange_weak(volatile T* a, T* c, T v, int, int) {                    \
        return __atomic_compare_exchange_n(a, c, v, true, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                      \
    }                                                                                                               \
    CB_NOTSAN T __tsan_atomic##N##_compare_exchange_val(volatile T* a, T c, T v, int, int) {                        \
        __atomic_compare_exchange_n(a, &c, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                           \
        return c;                                                                                                   \
    }
CB_ATOMIC_HOOKS(8, unsigned char) CB_ATOMIC_HOOKS(16, unsigned short) CB_ATOMIC_HOOKS(32, unsigned int)
CB_ATOMIC_HOOKS(64, unsigned long long)
#undef CB_ATOMIC_HOOKS
}  // extern "C"
#endif
