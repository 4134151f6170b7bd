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

// ---- toolkit headers (compile fine under g++ as host code) -------------------------------------------------------
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <float.h>
#include <assert.h>
#include <stdarg.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <climits>
#include <cfloat>
#include <new>
#include <type_traits>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <signal.h>
#include <unistd.h>
#include <time.h>
#include <ctype.h>
#include <dlfcn.h>
#include <cxxabi.h>
#include <string>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/asan_interface.h>
#endif

// ---- CUDA keywords -------------------------------------------------------------------------------------------------
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

namespace cudabench {

// ---- configuration and error state -------------------------------------------------------------------------------
static const int kMaxThreads = 1024;
static const size_t kMaxDynSmem = 227 * 1024;  // the largest any architecture has (the shared storage's size)
// The target architecture's limits (build.py defines CUDABENCH_SM from --cudabench-arch): a block gets at most
// 48 KB of shared memory (static + dynamic) unless its kernel opts in to more with cudaFuncSetAttribute(...,
// cudaFuncAttributeMaxDynamicSharedMemorySize, bytes), and never more than the architecture's opt-in maximum
// (the CUDA C++ Programming Guide's "maximum amount of shared memory per thread block").
#ifndef CUDABENCH_SM
#define CUDABENCH_SM 90
#endif
static const size_t kDefaultSmem = 48 * 1024;
static constexpr size_t optin_smem(int sm) {
    return sm >= 120 ? 99 * 1024 : sm >= 90 ? 227 * 1024 : sm == 89 || sm == 86 ? 99 * 1024 : sm >= 80 ? 163 * 1024
         : sm == 75 ? 64 * 1024 : sm >= 70 ? 96 * 1024 : 48 * 1024;
}
static const size_t kOptinSmem = optin_smem(CUDABENCH_SM);
#ifdef __SANITIZE_ADDRESS__
static const size_t kStack = 1024 * 1024;
#else
static const size_t kStack = 256 * 1024;
#endif
static const size_t kGuard = 4096;
static const size_t kStagger = 64 * 1024;  // stack tops are staggered so that fibers do not alias in the caches

static int g_workers = 1;
// Order in which a block's ready threads run between barriers (cudabench_cpu_schedule): a race whose outcome
// depends on it gives different results under different orders.
enum { SCHED_FORWARD = 0, SCHED_REVERSE = 1, SCHED_SHUFFLE = 2, SCHED_WARPS = 3 };
static int g_schedule = SCHED_FORWARD;
static unsigned long long g_sched_seed = 0;
static unsigned long long g_memcap = 16ULL << 30;
static pthread_mutex_t g_err_mu = PTHREAD_MUTEX_INITIALIZER;
static volatile int g_sticky = 0;     // cudaError_t of a kernel fault; later launches are no-ops
static int g_last = 0;                // cudaGetLastError
static int g_knockout = 0;            // cudabench_cpu_knockout: launches are no-ops
static unsigned long long g_progress = 0;  // cudabench_cpu_progress: threads finished + barriers passed
static int g_report_code = 0;         // first error worth reporting to the harness
static char g_report[1024];

static void set_error(int code, bool sticky, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_error(int code, bool sticky, const char* fmt, ...) {
    pthread_mutex_lock(&g_err_mu);
    if (!g_report_code) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g_report, sizeof g_report, fmt, ap);
        va_end(ap);
        g_report_code = code;
    }
    if (sticky && !g_sticky) g_sticky = code;
    if (!g_last) g_last = code;
    pthread_mutex_unlock(&g_err_mu);
}

static inline cudaError_t api_result(int code) {
    if (code && !g_last) g_last = code;
    return (cudaError_t)code;
}

// ---- fibers ------------------------------------------------------------------------------------------------------
extern "C" void cudabench_swapctx(void** save_sp, void* to_sp) __attribute__((visibility("hidden")));
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".globl cudabench_swapctx\n"
    ".hidden cudabench_swapctx\n"
    ".type cudabench_swapctx, @function\n"
    "cudabench_swapctx:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size cudabench_swapctx, .-cudabench_swapctx\n");

enum { ST_READY = 0, ST_BAR = 1, ST_WARP = 2, ST_DONE = 3 };
enum { W_SYNC, W_SHFL, W_UP, W_DOWN, W_XOR, W_BALLOT, W_ANY, W_ALL, W_MATCH_ANY, W_MATCH_ALL,
       W_RADD, W_RMIN, W_RMAX, W_RMINS, W_RMAXS, W_RAND, W_ROR, W_RXOR };

struct Fiber {
    void* sp;
    int stack;  // index of its stack in the worker's pool; -1 before it starts
    uint3 tid;
    int state, site;
    int wop, warg, wwidth;
    unsigned wmask;
    unsigned long long wval, result;
#ifdef __SANITIZE_ADDRESS__
    void* fake;
#endif
};

struct WarpState { unsigned arrived, done, syncs; bool mixed; };  // syncs: warp operations released (racecheck)  // mixed: arrived lanes wait at different operations

struct Job {
    const char* name;
    dim3 grid, block;
    size_t smem;
    void (*tramp)(const void*);
    const void* fn;
    unsigned long long nblocks;
    unsigned long long next;
    size_t smem_limit;       // static + dynamic shared memory a block may use (48 KB, or the opt-in maximum)
    volatile int refused;    // a block found its static shared memory over smem_limit: the rest are not run
};

struct Worker {
    Fiber* fibers;
    int* queue;
    int qhead, qcount;
    char** stacks;     // pool of fiber stacks (lowest usable address), allocated as concurrency requires
    int* free_stacks;
    int nstacks, nfree;
    int n, live;
    int bar_arrived, bar_site, bar_count;
    bool bar_mixed, aborted;
    Fiber* cur;
    void* sched_sp;
    const Job* job;
    unsigned char* dsmem;
    int* order;              // scratch list of fibers made ready together, in the order they are queued
    unsigned long long rng;  // SCHED_SHUFFLE: seeded per block, so a run does not depend on which worker ran it
    void* fresh[64];         // function-scope __shared__ variables already filled with junk in this block
    size_t fresh_size[64];
    unsigned fresh_shadow[64];  // racecheck: index of the variable's first word in `shadow`
    int nfresh;
    unsigned nshadow;           // words of `shadow` given to this block's __shared__ variables
    size_t static_smem;         // bytes of function-scope __shared__ variables this block has declared
    unsigned long long progress;  // threads finished and barriers passed, not yet added to g_progress
    unsigned epoch;             // racecheck: barrier intervals, counted over all the worker's blocks
    struct ShadowWord* shadow;  // racecheck: last accesses of each 4-byte word of static then dynamic shared memory
    WarpState warps[32];
#ifdef __SANITIZE_ADDRESS__
    const void* sched_lo;
    size_t sched_size;
    bool have_sched;
#endif
};

static CB_TLS Worker* tl_worker;
static CB_TLS unsigned char* tl_dsmem;

static CB_RT Worker* get_worker() {
    Worker* w = tl_worker;
    if (w) return w;
    w = (Worker*)calloc(1, sizeof(Worker));
    w->fibers = (Fiber*)calloc(kMaxThreads, sizeof(Fiber));
    w->queue = (int*)calloc(kMaxThreads, sizeof(int));
    w->stacks = (char**)calloc(kMaxThreads, sizeof(char*));
    w->free_stacks = (int*)calloc(kMaxThreads, sizeof(int));
    w->order = (int*)calloc(kMaxThreads, sizeof(int));
    w->dsmem = (unsigned char*)aligned_alloc(256, kMaxDynSmem + 256);
    if (!w->fibers || !w->queue || !w->stacks || !w->free_stacks || !w->order || !w->dsmem) {
        fprintf(stderr, "cudabench: out of memory\n");
        abort();
    }
    tl_dsmem = w->dsmem;
    tl_worker = w;
    return w;
}

static const size_t kStackRegion = kStack + kStagger;

static void fiber_entry();

// Give fiber f a stack from the pool (never the running fiber's) and the initial frame that enters fiber_entry.
static CB_RT bool start_fiber(Worker* w, Fiber* f) {
    if (w->nfree == 0) {
        if (w->nstacks == kMaxThreads) return false;
        void* p = mmap(nullptr, kStackRegion + kGuard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return false;
        mprotect(p, kGuard, PROT_NONE);  // guard page below the stack: an overflow faults
        w->stacks[w->nstacks] = (char*)p + kGuard;
        w->free_stacks[w->nfree++] = w->nstacks++;
    }
    int s = w->free_stacks[--w->nfree];
    f->stack = s;
    void** sp = (void**)(w->stacks[s] + kStackRegion - (size_t)(s % 191) * 320);  // staggered: no cache aliasing
    *--sp = nullptr;
    *--sp = (void*)&fiber_entry;
    for (int r = 0; r < 6; r++) *--sp = nullptr;
    f->sp = sp;
    return true;
}

static CB_RT inline void q_push(Worker* w, int i) {
    int pos = w->qhead + w->qcount;
    if (pos >= kMaxThreads) pos -= kMaxThreads;
    w->queue[pos] = i;
    w->qcount++;
}
static CB_RT inline void q_push_front(Worker* w, int i) {
    w->qhead = w->qhead ? w->qhead - 1 : kMaxThreads - 1;
    w->queue[w->qhead] = i;
    w->qcount++;
}
static CB_RT inline unsigned long long sched_rand(Worker* w) {  // splitmix64
    unsigned long long z = (w->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
// Fiber index at position k of the block's base order: thread order, or under SCHED_WARPS lane by lane across the
// warps (lane 0 of every warp, then lane 1, ...); -1 for positions past the block's last thread.
static CB_RT inline int base_order(Worker* w, int k) {
    if (g_schedule != SCHED_WARPS) return k < w->n ? k : -1;
    int nwarps = (w->n + 31) / 32, i = (k % nwarps) * 32 + k / nwarps;
    return i < w->n ? i : -1;
}
// Queue the fibers w->order[0..count) made ready together (at block start, a barrier, or a warp operation's
// release): forward keeps their order, reverse reverses it, shuffle permutes it; under SCHED_WARPS the lanes a warp
// operation releases go first, so that warp runs on through its warp operations while the others wait.
static CB_RT void queue_ready(Worker* w, int count, bool warp_release) {
    int* idx = w->order;
    switch (g_schedule) {
    case SCHED_REVERSE:
        for (int k = count - 1; k >= 0; k--) q_push(w, idx[k]);
        return;
    case SCHED_SHUFFLE:
        for (int k = count - 1; k > 0; k--) {
            int r = (int)(sched_rand(w) % (unsigned long long)(k + 1)), t = idx[k];
            idx[k] = idx[r];
            idx[r] = t;
        }
        break;
    case SCHED_WARPS:
        if (warp_release) {
            for (int k = count - 1; k >= 0; k--) q_push_front(w, idx[k]);
            return;
        }
        break;
    }
    for (int k = 0; k < count; k++) q_push(w, idx[k]);
}
static CB_RT inline int q_pop(Worker* w) {
    int i = w->queue[w->qhead];
    if (++w->qhead == kMaxThreads) w->qhead = 0;
    w->qcount--;
    return i;
}

static CB_RT inline void do_swap(Worker* w, void** save, Fiber* to, bool exiting) {
#ifdef __SANITIZE_ADDRESS__
    void* fake = nullptr;
#else
    (void)exiting;
#endif
    if (to) {
        if (to->stack < 0 && !start_fiber(w, to)) {
            set_error(cudaErrorLaunchOutOfResources, true, "kernel %s: cannot allocate fiber stacks", w->job->name);
            w->aborted = true;
            if (save == &w->sched_sp) return;
            to = nullptr;
        }
    }
#ifdef __SANITIZE_ADDRESS__
    if (to) __sanitizer_start_switch_fiber(exiting ? nullptr : &fake, w->stacks[to->stack], kStackRegion);
    else __sanitizer_start_switch_fiber(exiting ? nullptr : &fake, w->sched_lo, w->sched_size);
#endif
    if (to) {
        w->cur = to;
        threadIdx = to->tid;
        cudabench_swapctx(save, to->sp);
    } else {
        w->cur = nullptr;
        cudabench_swapctx(save, w->sched_sp);
    }
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
}

static void release_warp(Worker* w, int wi, unsigned group, Fiber* self);

// Lanes of warp wi waiting at the same warp operation (same kind and mask) as lane l.
static CB_RT unsigned warp_group(Worker* w, int wi, int l) {
    WarpState& ws = w->warps[wi];
    if (!ws.mixed) return ws.arrived;
    Fiber* base = w->fibers + wi * 32;
    unsigned g = 0;
    for (unsigned m = ws.arrived; m; m &= m - 1) {
        int k = __builtin_ctz(m);
        if (base[k].wop == base[l].wop && base[k].wmask == base[l].wmask) g |= 1u << k;
    }
    return g;
}

static CB_RT inline bool group_complete(Worker* w, int wi, int l, unsigned g) {
    unsigned need = w->fibers[wi * 32 + l].wmask | g;
    return (need & ~(g | w->warps[wi].done)) == 0;
}

// Release the groups of warp wi that are complete (all of them when force: lanes they wait for are stuck).
static CB_RT void check_warp(Worker* w, int wi, bool force) {
    unsigned pending = w->warps[wi].arrived;
    while (pending) {
        int l = __builtin_ctz(pending);
        unsigned g = warp_group(w, wi, l);
        pending &= ~g;
        if (force || group_complete(w, wi, l, g)) release_warp(w, wi, g, nullptr);
    }
}
static void release_bar(Worker* w, Fiber* self);

static CB_RT void describe_deadlock(Worker* w) {
    int sites[4], counts[4], ns = 0, at_warp = 0, done = 0, other_sites = 0;
    for (int i = 0; i < w->n; i++) {
        Fiber& f = w->fibers[i];
        if (f.state == ST_DONE) { done++; continue; }
        if (f.state == ST_WARP) { at_warp++; continue; }
        if (f.state != ST_BAR) continue;
        int k = 0;
        while (k < ns && sites[k] != f.site) k++;
        if (k == ns) {
            if (ns == 4) { other_sites++; continue; }
            sites[ns] = f.site; counts[ns++] = 0;
        }
        counts[k]++;
    }
    char buf[512];
    int len = 0;
    for (int k = 0; k < ns && len < 400; k++)
        len += snprintf(buf + len, sizeof buf - len, "%s%d at __syncthreads (line %d)", k ? ", " : "", counts[k], sites[k]);
    if (other_sites) len += snprintf(buf + len, sizeof buf - len, ", %d at other __syncthreads", other_sites);
    if (at_warp) len += snprintf(buf + len, sizeof buf - len, "%s%d at a warp operation", len ? ", " : "", at_warp);
    set_error(cudaErrorLaunchFailure, true,
              "deadlock in kernel %s: threads of block (%u,%u,%u) wait at different barriers and can never all "
              "arrive (%s; %d exited; a __syncthreads must be reached by all threads of the block or by none)",
              w->job->name, blockIdx.x, blockIdx.y, blockIdx.z, buf, done);
}

// Pick the next fiber to run when the current one blocks or exits; -1: go back to the scheduler.
static CB_RT int next_ready(Worker* w) {
    if (w->aborted) return -1;
    if (w->qcount) return q_pop(w);
    if (w->live == 0) return -1;
    int nwarps = (w->n + 31) / 32;
    for (int i = 0; i < nwarps; i++)
        if (w->warps[i].arrived) check_warp(w, i, true);
    if (w->qcount) return q_pop(w);
    describe_deadlock(w);
    w->aborted = true;
    return -1;
}

static CB_RT void switch_away(Worker* w, bool exiting) {
    Fiber* self = w->cur;
    int nx = next_ready(w);
    if (nx >= 0 && &w->fibers[nx] == self) return;
    do_swap(w, &self->sp, nx >= 0 ? &w->fibers[nx] : nullptr, exiting);
}

[[noreturn]] static CB_RT void abandon_fiber(Worker* w) {
    w->aborted = true;
    do_swap(w, &w->cur->sp, nullptr, false);
    __builtin_unreachable();
}

// Work done, published in batches (a shared counter bumped by every thread would cost the workers' caches).
static CB_RT inline void count_progress(Worker* w) {
    if ((++w->progress & 255) == 0) {
        __atomic_fetch_add(&g_progress, w->progress, __ATOMIC_RELAXED);
        w->progress = 0;
    }
}

static CB_RT void release_bar(Worker* w, Fiber* self) {
    int count = w->bar_count, ready = 0, positions = (w->n + 31) / 32 * 32;
    for (int k = 0; k < positions; k++) {
        int i = base_order(w, k);
        if (i < 0) continue;
        Fiber& f = w->fibers[i];
        if (f.state != ST_BAR) continue;
        f.state = ST_READY;
        f.result = (unsigned long long)count;
        if (&f != self) w->order[ready++] = i;
    }
    queue_ready(w, ready, false);
    w->bar_arrived = 0;
    w->epoch++;
    count_progress(w);
}

static CB_RT inline bool bar_complete(Worker* w) { return w->bar_arrived > 0 && w->bar_arrived + (w->n - w->live) == w->n; }

static CB_RT void bar_fault(Worker* w) {
    describe_deadlock(w);
    abandon_fiber(w);
}

static void fiber_exit(Worker* w) __attribute__((noreturn));
static CB_RT void fiber_exit(Worker* w) {
    Fiber* f = w->cur;
    f->state = ST_DONE;
    w->live--;
    count_progress(w);
    int idx = (int)(f - w->fibers);
    WarpState& ws = w->warps[idx >> 5];
    ws.done |= 1u << (idx & 31);
    if (ws.arrived) check_warp(w, idx >> 5, false);
    if (bar_complete(w)) {
        if (w->bar_mixed) { describe_deadlock(w); w->aborted = true; }
        else release_bar(w, nullptr);
    }
    // switch straight to the next fiber; one not started yet gets another stack than this one, released after
    int nx = next_ready(w);
    Fiber* to = nx >= 0 ? &w->fibers[nx] : nullptr;
    if (to && to->stack < 0 && !start_fiber(w, to)) {
        set_error(cudaErrorLaunchOutOfResources, true, "kernel %s: cannot allocate fiber stacks", w->job->name);
        w->aborted = true;
        to = nullptr;
    }
    w->free_stacks[w->nfree++] = f->stack;
    do_swap(w, &f->sp, to, true);
    __builtin_unreachable();
}

__attribute__((no_sanitize_address)) static CB_RT void fiber_entry() {
    Worker* w = tl_worker;
#ifdef __SANITIZE_ADDRESS__
    if (!w->have_sched) {
        __sanitizer_finish_switch_fiber(nullptr, &w->sched_lo, &w->sched_size);
        w->have_sched = true;
    } else {
        __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
    }
#endif
    w->job->tramp(w->job->fn);
    fiber_exit(w);
}

static CB_RT void run_block(Worker* w, const Job* j, unsigned long long b) {
    unsigned long long gx = j->grid.x, gy = j->grid.y;
    blockIdx.x = (unsigned)(b % gx);
    blockIdx.y = (unsigned)((b / gx) % gy);
    blockIdx.z = (unsigned)(b / (gx * gy));
    blockDim = j->block;
    gridDim = j->grid;
    int n = (int)(j->block.x * j->block.y * j->block.z);
    if (j->smem) memset(w->dsmem, 0xFF, j->smem);  // junk: NaN for floats, -1 for integers
    w->job = j;
    w->n = n;
    w->live = n;
    w->bar_arrived = 0;
    w->bar_mixed = false;
    w->aborted = false;
    int nwarps = (n + 31) / 32;
    for (int i = 0; i < nwarps; i++) {
        w->warps[i].arrived = 0;
        w->warps[i].syncs = 0;
        w->warps[i].mixed = false;
        int lanes = n - i * 32;
        w->warps[i].done = lanes >= 32 ? 0u : ~((1u << lanes) - 1u);
    }
    w->nfree = 0;
    for (int s = w->nstacks - 1; s >= 0; s--) w->free_stacks[w->nfree++] = s;
    unsigned x = 0, y = 0, z = 0;
    for (int i = 0; i < n; i++) {
        Fiber& f = w->fibers[i];
        f.tid.x = x;
        f.tid.y = y;
        f.tid.z = z;
        if (++x == j->block.x) {
            x = 0;
            if (++y == j->block.y) { y = 0; z++; }
        }
        f.state = ST_READY;
        f.stack = -1;
    }
    w->rng = g_sched_seed ^ (b * 0xD1B54A32D192ED03ULL);
    w->nfresh = 0;
    w->nshadow = 0;
    w->static_smem = 0;
    w->epoch++;
    w->qhead = 0;
    w->qcount = 0;
    int ready = 0, positions = (n + 31) / 32 * 32;
    for (int k = 0; k < positions; k++) {
        int i = base_order(w, k);
        if (i >= 0) w->order[ready++] = i;
    }
    queue_ready(w, ready, false);
    for (;;) {  // a fiber comes back here when it exits or the block is abandoned
        int nx = next_ready(w);
        if (nx < 0) break;
        do_swap(w, &w->sched_sp, &w->fibers[nx], false);
        if (w->aborted) break;
    }
    w->cur = nullptr;
#ifdef __SANITIZE_ADDRESS__
    if (w->aborted)
        for (int s = 0; s < w->nstacks; s++) __asan_unpoison_memory_region(w->stacks[s], kStackRegion);
#endif
}

static CB_RT void run_blocks(Job* j) {
    Worker* w = get_worker();
    for (;;) {
        if (g_sticky) break;
        unsigned long long b = __atomic_fetch_add(&j->next, 1ULL, __ATOMIC_RELAXED);
        if (b >= j->nblocks || j->refused) break;
        run_block(w, j, b);
    }
    __atomic_fetch_add(&g_progress, w->progress, __ATOMIC_RELAXED);
    w->progress = 0;
}

// ---- worker pool -------------------------------------------------------------------------------------------------
static pthread_mutex_t g_pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_pool_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_done_cv = PTHREAD_COND_INITIALIZER;
static pthread_t g_pool_threads[256];
static int g_pool_n = 0;
static Job* g_pool_job = nullptr;
static unsigned long g_pool_gen = 0;
static int g_pool_active = 0;
static bool g_pool_stop = false;

static CB_RT void* pool_main(void*) {
    get_worker();
    unsigned long seen = 0;
    pthread_mutex_lock(&g_pool_mu);
    for (;;) {
        while (g_pool_gen == seen && !g_pool_stop) pthread_cond_wait(&g_pool_cv, &g_pool_mu);
        if (g_pool_stop) break;
        seen = g_pool_gen;
        Job* j = g_pool_job;
        pthread_mutex_unlock(&g_pool_mu);
        run_blocks(j);
        pthread_mutex_lock(&g_pool_mu);
        if (--g_pool_active == 0) pthread_cond_signal(&g_done_cv);
    }
    pthread_mutex_unlock(&g_pool_mu);
    return nullptr;
}

static CB_RT void pool_shutdown() {
    pthread_mutex_lock(&g_pool_mu);
    g_pool_stop = true;
    pthread_cond_broadcast(&g_pool_cv);
    pthread_mutex_unlock(&g_pool_mu);
    for (int i = 0; i < g_pool_n; i++) pthread_join(g_pool_threads[i], nullptr);
    g_pool_n = 0;
    g_pool_stop = false;
}

static CB_RT void pool_start() {
    if (g_pool_n < g_workers - 1) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 8u << 20);
        while (g_pool_n < g_workers - 1) {
            if (pthread_create(&g_pool_threads[g_pool_n], &attr, pool_main, nullptr) != 0) break;
            g_pool_n++;
        }
        pthread_attr_destroy(&attr);
    }
}

static CB_RT void pool_run(Job* j) {
    int helpers = g_workers - 1;
    if (j->nblocks < (unsigned long long)g_workers) helpers = (int)j->nblocks - 1;
    if (helpers <= 0) { run_blocks(j); return; }
    pool_start();
    pthread_mutex_lock(&g_pool_mu);
    g_pool_job = j;
    g_pool_active = g_pool_n;
    g_pool_gen++;
    pthread_cond_broadcast(&g_pool_cv);
    pthread_mutex_unlock(&g_pool_mu);
    run_blocks(j);
    pthread_mutex_lock(&g_pool_mu);
    while (g_pool_active > 0) pthread_cond_wait(&g_done_cv, &g_pool_mu);
    pthread_mutex_unlock(&g_pool_mu);
}

// Device memory is accessible while one is in scope, also under cudabench_cpu_protect (see "host access to device
// memory" below, where the members are defined).
static int g_protect = 0;
static int g_device_depth = 0;  // nesting of DeviceAccess on the host thread (atomic: workers may call API too)
struct DeviceAccess {
    bool active;
    DeviceAccess();
    ~DeviceAccess();
    DeviceAccess(const DeviceAccess&) = delete;
    DeviceAccess& operator=(const DeviceAccess&) = delete;
};

// Kernels opted in to more than 48 KB of dynamic shared memory (cudaFuncSetAttribute with
// cudaFuncAttributeMaxDynamicSharedMemorySize), each with its function's name where the dynamic symbol table has it.
struct SmemOptin { const void* fn; size_t bytes; char name[200]; };
static SmemOptin g_optins[64];
static int g_noptins = 0;

static cudaError_t set_smem_optin(const void* fn, int bytes) {
    if (!fn || bytes < 0 || (size_t)bytes > kOptinSmem) return api_result(cudaErrorInvalidValue);
    pthread_mutex_lock(&g_err_mu);
    int k = 0;
    while (k < g_noptins && g_optins[k].fn != fn) k++;
    if (k == g_noptins && g_noptins < 64) {
        g_noptins++;
        g_optins[k].fn = fn;
        g_optins[k].name[0] = 0;
        Dl_info info;
        if (dladdr(fn, &info) && info.dli_sname) {
            int status = 0;
            char* plain = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
            snprintf(g_optins[k].name, sizeof g_optins[k].name, "%s", plain && status == 0 ? plain : info.dli_sname);
            free(plain);
        }
    }
    if (k < 64) g_optins[k].bytes = (size_t)bytes;
    pthread_mutex_unlock(&g_err_mu);
    return cudaSuccess;
}

// Whether `name` (a launch's kernel expression, e.g. "ns :: reduce < float , 256 >") names the function `symbol`
// (demangled): its last identifier before any template arguments appears there as a whole word. An opt-in whose
// function has no name (a static kernel, an executable) counts for every kernel.
static bool names_function(const char* name, const char* symbol) {
    if (!symbol[0]) return true;
    const char* end = strchr(name, '<');
    if (!end) end = name + strlen(name);
    while (end > name && end[-1] == ' ') end--;
    const char* start = end;
    while (start > name && (isalnum((unsigned char)start[-1]) || start[-1] == '_')) start--;
    size_t len = (size_t)(end - start);
    if (!len) return true;
    for (const char* p = strstr(symbol, std::string(start, len).c_str()); p; p = strstr(p + 1, std::string(start, len).c_str())) {
        bool left = p == symbol || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        bool right = !(isalnum((unsigned char)p[len]) || p[len] == '_');
        if (left && right) return true;
    }
    return false;
}

// The dynamic shared memory kernel `name` may request: 48 KB, or the most it opted in to.
static size_t dynamic_smem_allowed(const char* name) {
    size_t allowed = kDefaultSmem;
    pthread_mutex_lock(&g_err_mu);
    for (int k = 0; k < g_noptins; k++)
        if (g_optins[k].bytes > allowed && names_function(name, g_optins[k].name)) allowed = g_optins[k].bytes;
    pthread_mutex_unlock(&g_err_mu);
    return allowed;
}

static CB_RT void launch_job(const char* name, dim3 g, dim3 b, size_t smem, void (*tramp)(const void*), const void* fn) {
    if (g_sticky || g_knockout) return;
    unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
    if (!g.x || !g.y || !g.z || !b.x || !b.y || !b.z || b.x > 1024 || b.y > 1024 || b.z > 64 || threads > 1024 ||
        g.x > 2147483647u || g.y > 65535 || g.z > 65535) {
        set_error(cudaErrorInvalidConfiguration, false,
                  "invalid launch configuration for kernel %s: grid (%u,%u,%u), block (%u,%u,%u) (at most 1024 "
                  "threads per block, block.z <= 64, grid.y/z <= 65535, no zero dimension)",
                  name, g.x, g.y, g.z, b.x, b.y, b.z);
        return;
    }
    size_t allowed = dynamic_smem_allowed(name);
    if (smem > allowed) {
        if (smem > kOptinSmem)
            set_error(cudaErrorInvalidValue, false,
                      "kernel %s requests %zu bytes of dynamic shared memory; a block on sm_%d gets at most %zu "
                      "bytes (a GPU refuses the launch)", name, smem, CUDABENCH_SM, kOptinSmem);
        else
            set_error(cudaErrorInvalidValue, false,
                      "kernel %s requests %zu bytes of dynamic shared memory without opting in: above 48 KB a GPU "
                      "refuses the launch unless cudaFuncSetAttribute(kernel, "
                      "cudaFuncAttributeMaxDynamicSharedMemorySize, bytes) allowed it first (sm_%d: up to %zu bytes)",
                      name, smem, CUDABENCH_SM, kOptinSmem);
        return;
    }
    Job j;
    j.name = name;
    j.grid = g;
    j.block = b;
    j.smem = smem;
    j.tramp = tramp;
    j.fn = fn;
    j.nblocks = (unsigned long long)g.x * g.y * g.z;
    j.next = 0;
    j.smem_limit = allowed > kDefaultSmem ? kOptinSmem : kDefaultSmem;
    j.refused = 0;
    Worker* w = tl_worker;
    if (w && w->cur) {
        set_error(cudaErrorNotSupported, true, "kernel %s launched from device code (dynamic parallelism)", name);
        abandon_fiber(w);
    }
    DeviceAccess access;
    pool_run(&j);
    fflush(stdout);
}

template <class C> static void tramp(const void* p) { (*static_cast<const C*>(p))(); }

struct Launcher {
    const char* name;
    dim3 g, b;
    size_t smem;
    Launcher(const char* n, dim3 grid, dim3 block, size_t shmem = 0, cudaStream_t = 0)
        : name(n), g(grid), b(block), smem(shmem) {}
    template <class F, class... A> void operator()(F f, A... a) const {
        auto call = [f, a...]() { f(a...); };
        launch_job(name, g, b, smem, &tramp<decltype(call)>, &call);
    }
};

// ---- barriers and warp operations --------------------------------------------------------------------------------
static CB_RT int sync_block(int site, int pred) {
    Worker* w = tl_worker;
    if (!w || !w->cur) return pred != 0;
    Fiber* f = w->cur;
    if (w->bar_arrived == 0) {
        w->bar_site = site;
        w->bar_mixed = false;
        w->bar_count = 0;
    } else if (site != w->bar_site) {
        w->bar_mixed = true;
    }
    w->bar_count += pred != 0;
    w->bar_arrived++;
    f->state = ST_BAR;
    f->site = site;
    if (bar_complete(w)) {
        if (w->bar_mixed) bar_fault(w);
        release_bar(w, f);
        return (int)f->result;
    }
    switch_away(w, false);
    return (int)f->result;
}

static CB_RT void release_warp(Worker* w, int wi, unsigned arr, Fiber* self) {
    WarpState& ws = w->warps[wi];
    Fiber* base = w->fibers + wi * 32;
    for (unsigned m = arr; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        Fiber& t = base[l];
        int width = t.wwidth;
        if (width <= 0 || width > 32 || (width & (width - 1))) width = 32;
        int seg = l & ~(width - 1), s = l;
        unsigned long long r = 0;
        unsigned members = arr & (t.wmask | (1u << l));
        switch (t.wop) {
        case W_SYNC: break;
        case W_SHFL: s = seg + (t.warg & (width - 1)); break;
        case W_UP: s = (l - seg) - t.warg >= 0 ? l - t.warg : l; break;
        case W_DOWN: s = (l - seg) + t.warg < width ? l + t.warg : l; break;
        case W_XOR: s = l ^ (t.warg & 31); if (s >= seg + width) s = l; break;
        case W_BALLOT: case W_ANY: case W_ALL:
            for (unsigned g = members; g; g &= g - 1) {
                int k = __builtin_ctz(g);
                if (base[k].wval) r |= 1ull << k;
            }
            if (t.wop == W_ANY) r = r != 0;
            else if (t.wop == W_ALL) r = r == members;
            break;
        case W_MATCH_ANY: case W_MATCH_ALL:
            for (unsigned g = members; g; g &= g - 1) {
                int k = __builtin_ctz(g);
                if (base[k].wval == t.wval) r |= 1ull << k;
            }
            if (t.wop == W_MATCH_ALL) r = (r == members) ? r : 0;
            break;
        default: {
            unsigned long long acc = t.wval;
            for (unsigned g = members; g; g &= g - 1) {
                unsigned long long v = base[__builtin_ctz(g)].wval;
                switch (t.wop) {
                case W_RADD: acc = (g == members) ? v : (unsigned)(acc + v); break;
                case W_RMIN: acc = (unsigned)v < (unsigned)acc ? v : acc; break;
                case W_RMAX: acc = (unsigned)v > (unsigned)acc ? v : acc; break;
                case W_RMINS: acc = (int)v < (int)acc ? v : acc; break;
                case W_RMAXS: acc = (int)v > (int)acc ? v : acc; break;
                case W_RAND: acc &= v; break;
                case W_ROR: acc |= v; break;
                case W_RXOR: acc = (g == members) ? v : acc ^ v; break;
                }
            }
            r = acc;
        }
        }
        if (t.wop >= W_SHFL && t.wop <= W_XOR) r = (arr >> s) & 1u ? base[s].wval : t.wval;
        t.result = r;
    }
    int ready = 0;
    for (unsigned m = arr; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        base[l].state = ST_READY;
        if (&base[l] != self) w->order[ready++] = wi * 32 + l;
    }
    queue_ready(w, ready, true);
    ws.syncs++;
    ws.arrived &= ~arr;
    if (ws.mixed) {
        unsigned rest = ws.arrived;  // still mixed only if the lanes left wait at different operations
        ws.mixed = rest && warp_group(w, wi, __builtin_ctz(rest)) != rest;
    }
}

static CB_RT unsigned long long warp_op(int op, unsigned mask, unsigned long long val, int arg, int width) {
    Worker* w = tl_worker;
    if (!w || !w->cur) {  // called from host code: a warp of one thread
        switch (op) {
        case W_BALLOT: return val ? 1 : 0;
        case W_ANY: case W_ALL: return val != 0;
        case W_MATCH_ANY: case W_MATCH_ALL: return 1;
        default: return val;
        }
    }
    Fiber* f = w->cur;
    int idx = (int)(f - w->fibers);
    unsigned bit = 1u << (idx & 31);
    WarpState& ws = w->warps[idx >> 5];
    f->wop = op;
    f->wmask = mask;
    f->wval = val;
    f->warg = arg;
    f->wwidth = width;
    f->state = ST_WARP;
    if (ws.arrived && !ws.mixed) {
        Fiber& first = w->fibers[(idx & ~31) + __builtin_ctz(ws.arrived)];
        if (first.wop != op || first.wmask != mask) ws.mixed = true;
    }
    ws.arrived |= bit;
    unsigned g = warp_group(w, idx >> 5, idx & 31);
    if (group_complete(w, idx >> 5, idx & 31, g)) {
        release_warp(w, idx >> 5, g, f);
        return f->result;
    }
    switch_away(w, false);
    return f->result;
}

// Called (by the rewritten source) after each function-scope __shared__ declaration: the first thread of a block to
// reach it fills the variable with junk, as a GPU leaves shared memory uninitialised; otherwise the worker's
// thread_local storage would still hold what the previous block or launch left there (a result a racing answer
// could read).
static CB_RT void fresh_shared(void* p, size_t n) {
    Worker* w = tl_worker;
    if (!w || !w->cur) return;
    for (int k = 0; k < w->nfresh; k++)
        if (w->fresh[k] == p) return;
    if (w->nfresh == 64) return;  // never refill a variable the block may be using
    w->fresh[w->nfresh] = p;
    w->fresh_size[w->nfresh] = n;
    w->fresh_shadow[w->nfresh++] = w->nshadow;
    w->nshadow += (unsigned)((n + 3) / 4);
    memset(p, 0xFF, n);
    w->static_smem += n;
    if (w->static_smem + w->job->smem > w->job->smem_limit) {  // a GPU refuses such a launch
        Job* j = const_cast<Job*>(w->job);
        if (!j->refused) {
            j->refused = 1;
            set_error(cudaErrorInvalidValue, false,
                      "kernel %s uses %zu bytes of __shared__ variables and requests %zu bytes of dynamic shared "
                      "memory: more than the %zu bytes a block gets on sm_%d%s (a GPU refuses the launch)",
                      j->name, w->static_smem, j->smem, j->smem_limit, CUDABENCH_SM,
                      j->smem_limit == kDefaultSmem ? " without cudaFuncAttributeMaxDynamicSharedMemorySize" : "");
        }
        abandon_fiber(w);
    }
}

static CB_RT void yield_fiber() {  // let the other threads of the block run (spin loops, failed CAS)
    Worker* w = tl_worker;
    if (!w || !w->cur || !w->qcount) return;
    Fiber* f = w->cur;
    q_push(w, (int)(f - w->fibers));
    switch_away(w, false);
}

[[noreturn]] static CB_RT void kernel_fault(int code, const char* what) {
    Worker* w = tl_worker;
    if (w && w->cur) {
        set_error(code, true, "%s in kernel %s, block (%u,%u,%u), thread (%u,%u,%u)", what, w->job->name,
                  blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
        abandon_fiber(w);
    }
    fprintf(stderr, "cudabench: %s in host code\n", what);
    abort();
}

template <class T> static inline unsigned long long to_bits(T v) {
    static_assert(sizeof(T) <= 8, "warp operations support types of at most 8 bytes");
    unsigned long long r = 0;
    memcpy(&r, &v, sizeof(T));
    return r;
}
template <class T> static inline T from_bits(unsigned long long v) {
    T r;
    memcpy((void*)&r, &v, sizeof(T));
    return r;
}

// ---- device memory bookkeeping -----------------------------------------------------------------------------------
struct Range { char* p; size_t n; int kind; };  // kind 0: registered by the harness, 1: cudaMalloc, 2: managed
static pthread_mutex_t g_mem_mu = PTHREAD_MUTEX_INITIALIZER;
static Range* g_ranges = nullptr;
static int g_nranges = 0, g_capranges = 0;
static unsigned long long g_allocated = 0;

static void add_range(void* p, size_t n, int kind) {
    pthread_mutex_lock(&g_mem_mu);
    if (g_nranges == g_capranges) {
        int cap = g_capranges ? 2 * g_capranges : 64;
        Range* r = (Range*)realloc(g_ranges, cap * sizeof(Range));
        if (!r) { pthread_mutex_unlock(&g_mem_mu); return; }
        g_ranges = r;
        g_capranges = cap;
    }
    g_ranges[g_nranges++] = Range{(char*)p, n, kind};
    pthread_mutex_unlock(&g_mem_mu);
}

static bool in_range(const void* p, size_t n) {
    const char* c = (const char*)p;
    bool ok = false;
    pthread_mutex_lock(&g_mem_mu);
    for (int i = g_nranges - 1; i >= 0; i--) {
        const Range& r = g_ranges[i];
        if (c >= r.p && c <= r.p + r.n && n <= (size_t)(r.p + r.n - c)) { ok = true; break; }
    }
    pthread_mutex_unlock(&g_mem_mu);
    return ok;
}

// ---- host access to device memory ---------------------------------------------------------------------------------
// On a GPU, host code that dereferences a device pointer faults. With cudabench_cpu_protect(1) the harness asks the
// same of this runtime: device ranges (the harness's buffers and cudaMalloc'd memory, not managed memory) are
// PROT_NONE while host code runs and accessible only inside the runtime calls that touch them (a DeviceAccess in
// scope: launches, copies, memsets); a host access faults, and the fault handler names it before the process dies.
static struct sigaction g_previous_segv;
static const char kHostAccessMark[] = "cudabench-cpu: host code accessed device memory";

static size_t page_size() {
    static size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

// The pages of a range: its own (cudaMalloc'd memory is mapped whole pages; a harness buffer's pages hold only it).
static void range_access(const Range& r, int prot) {
    if (r.kind == 2 || r.n == 0) return;
    uintptr_t page = page_size();
    uintptr_t lo = (uintptr_t)r.p & ~(page - 1);
    uintptr_t hi = ((uintptr_t)r.p + r.n + page - 1) & ~(page - 1);
    mprotect((void*)lo, hi - lo, prot);
}

static void all_ranges_access(int prot) {
    pthread_mutex_lock(&g_mem_mu);
    for (int i = 0; i < g_nranges; i++) range_access(g_ranges[i], prot);
    pthread_mutex_unlock(&g_mem_mu);
}

static bool host_mode() { return g_protect && __atomic_load_n(&g_device_depth, __ATOMIC_ACQUIRE) == 0; }

DeviceAccess::DeviceAccess() : active(g_protect != 0) {
    if (active && __atomic_fetch_add(&g_device_depth, 1, __ATOMIC_ACQ_REL) == 0) all_ranges_access(PROT_READ | PROT_WRITE);
}
DeviceAccess::~DeviceAccess() {
    if (active && __atomic_sub_fetch(&g_device_depth, 1, __ATOMIC_ACQ_REL) == 0 && g_protect) all_ranges_access(PROT_NONE);
}

static void on_segv(int sig, siginfo_t* info, void* context) {
    const char* addr = (const char*)info->si_addr;
    if (host_mode()) {
        for (int i = 0; i < g_nranges; i++) {  // no lock in a signal handler: the host thread is the one faulting
            const Range& r = g_ranges[i];
            if (r.kind != 2 && addr >= r.p && addr < r.p + r.n) {
                char line[320];
                int len = snprintf(line, sizeof line, "\n%s (byte %zu of a %zu-byte %s) outside any kernel; on a "
                                   "GPU a device pointer cannot be dereferenced on the host (copy with cudaMemcpy, or "
                                   "compute in a kernel)\n", kHostAccessMark, (size_t)(addr - r.p), r.n,
                                   r.kind == 1 ? "cudaMalloc'd buffer" : "device buffer given to the answer");
                if (len > 0) (void)!write(2, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
                break;
            }
        }
    }
    // Whatever it was, the previous disposition (default: die with SIGSEGV) takes the re-executed fault.
    sigaction(SIGSEGV, &g_previous_segv, nullptr);
    (void)sig;
    (void)context;
}

static void set_protect(int on) {
#ifdef __SANITIZE_ADDRESS__
    return;  // device memory shares heap pages there (see device_alloc); ASan has its own fault reports
#endif
    static bool installed = false;
    if (on && !installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_segv;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, &g_previous_segv);
        installed = true;
    }
    if (on == g_protect) return;
    g_protect = on;
    if (__atomic_load_n(&g_device_depth, __ATOMIC_ACQUIRE) == 0) all_ranges_access(on ? PROT_NONE : PROT_READ | PROT_WRITE);
}

static cudaError_t device_alloc(void** p, size_t n, int kind = 1) {
    if (!p) return api_result(cudaErrorInvalidValue);
    if (g_sticky) return (cudaError_t)g_sticky;
    *p = nullptr;
    if (n == 0) return cudaSuccess;
    pthread_mutex_lock(&g_mem_mu);
    bool over = g_allocated + n > g_memcap;
    if (!over) g_allocated += n;
    pthread_mutex_unlock(&g_mem_mu);
    if (over) return api_result(cudaErrorMemoryAllocation);
#ifdef __SANITIZE_ADDRESS__
    // AddressSanitizer puts redzones around heap blocks only: its builds keep malloc'd device memory (unprotected)
    void* q = aligned_alloc(256, (n + 255) & ~(size_t)255);
    if (!q) q = MAP_FAILED;
#else
    // Whole pages of its own (page-aligned, as cudaMalloc's 256-byte alignment needs): they can be protected alone.
    size_t mapped = (n + page_size() - 1) & ~(page_size() - 1);
    void* q = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
#endif
    if (q == MAP_FAILED) {
        pthread_mutex_lock(&g_mem_mu);
        g_allocated -= n;
        pthread_mutex_unlock(&g_mem_mu);
        return api_result(cudaErrorMemoryAllocation);
    }
    // Junk, as shared memory gets: a GPU's allocator hands back freed blocks with their old contents, so an answer
    // that reads memory it never wrote (an accumulator it did not clear) must not find zeros here.
    memset(q, 0xFF, n);
    add_range(q, n, kind);
    if (kind != 2 && host_mode()) range_access(Range{(char*)q, n, kind}, PROT_NONE);
    *p = q;
    return cudaSuccess;
}

static cudaError_t device_free(void* p) {
    if (!p) return cudaSuccess;
    pthread_mutex_lock(&g_mem_mu);
    for (int i = 0; i < g_nranges; i++) {
        if (g_ranges[i].p == p && g_ranges[i].kind != 0) {
            size_t n = g_ranges[i].n;
            g_allocated -= n;
            g_ranges[i] = g_ranges[--g_nranges];
            pthread_mutex_unlock(&g_mem_mu);
#ifdef __SANITIZE_ADDRESS__
            free(p);
#else
            munmap(p, (n + page_size() - 1) & ~(page_size() - 1));
#endif
            return cudaSuccess;
        }
    }
    pthread_mutex_unlock(&g_mem_mu);
    return api_result(cudaErrorInvalidValue);
}

static cudaError_t checked_copy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
    if (g_sticky) return (cudaError_t)g_sticky;
    if (n == 0) return cudaSuccess;
    if (!dst || !src) return api_result(cudaErrorInvalidValue);
    bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if ((dst_dev && !in_range(dst, n)) || (src_dev && !in_range(src, n))) return api_result(cudaErrorInvalidValue);
    DeviceAccess access;
    memmove(dst, src, n);
    return cudaSuccess;
}

static cudaError_t checked_set(void* dst, int value, size_t n) {
    if (g_sticky) return (cudaError_t)g_sticky;
    if (n == 0) return cudaSuccess;
    if (!dst || !in_range(dst, n)) return api_result(cudaErrorInvalidValue);
    DeviceAccess access;
    memset(dst, value, n);
    return cudaSuccess;
}

static double now_s() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

__attribute__((constructor)) static void init_defaults() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        g_workers = n < 1 ? 1 : (n > 8 ? 8 : n);
    }
}

// ---- racecheck: shared-memory hazards within a barrier interval -------------------------------------------------
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

// ---- the harness interface ---------------------------------------------------------------------------------------
extern "C" {
void cudabench_cpu_configure(int workers, unsigned long long mem_cap_bytes) {
    using namespace cudabench;
    if (workers < 1) workers = 1;
    if (workers > 256) workers = 256;
    if (g_pool_n && g_pool_n != workers - 1) pool_shutdown();
    g_workers = workers;
    if (mem_cap_bytes) g_memcap = mem_cap_bytes;
    get_worker();
    pool_start();  // threads exist before solve runs (a sandbox may forbid more than that later)
}
// The order of a block's threads between barriers for the launches that follow: 0 forward (thread order), 1 reverse,
// 2 a shuffle seeded by `seed` (and the block index), 3 warps interleaved lane by lane, each warp running on through
// its warp operations. A correct kernel gives the same result under all of them.
void cudabench_cpu_schedule(int order, unsigned long long seed) {
    cudabench::g_schedule = (order >= 0 && order <= 3) ? order : 0;
    cudabench::g_sched_seed = seed;
}
// racecheck (see above) for the launches that follow: 1 on, 0 off; returns 1 if this build can check, else 0.
int cudabench_cpu_racecheck(int on) {
#ifdef __SANITIZE_THREAD__
    cudabench::g_racecheck = on;
    cudabench::g_race_reported = 0;
    return 1;
#else
    (void)on;
    return 0;
#endif
}
void cudabench_cpu_register(void* ptr, unsigned long long bytes) { cudabench::add_range(ptr, (size_t)bytes, 0); }
// Forgets a registered buffer (the harness is about to unmap it: it must never be protected again).
void cudabench_cpu_unregister(void* ptr) {
    using namespace cudabench;
    pthread_mutex_lock(&g_mem_mu);
    for (int i = 0; i < g_nranges; i++) {
        if (g_ranges[i].p == (char*)ptr && g_ranges[i].kind == 0) {
            g_ranges[i] = g_ranges[--g_nranges];
            break;
        }
    }
    pthread_mutex_unlock(&g_mem_mu);
}
// 1: device memory is inaccessible to host code from now on (see "host access to device memory"); 0: accessible.
void cudabench_cpu_protect(int on) { cudabench::set_protect(on ? 1 : 0); }
const char* cudabench_cpu_error(void) { return cudabench::g_report_code ? cudabench::g_report : nullptr; }
const char* cudabench_cpu_error_name(void) {
    return cudabench::g_report_code ? cudaGetErrorName((cudaError_t)cudabench::g_report_code) : nullptr;
}
// 1: every kernel launch from now on is a no-op that succeeds (the knockout run: outputs an answer still gets right
// without any kernel were computed on the host).
void cudabench_cpu_knockout(int on) { cudabench::g_knockout = on ? 1 : 0; }
// Work the kernels have done so far: CUDA threads finished plus barriers passed (published in batches per worker).
unsigned long long cudabench_cpu_progress(void) { return __atomic_load_n(&cudabench::g_progress, __ATOMIC_RELAXED); }
void cudabench_cpu_reset_error(void) {
    cudabench::g_report_code = 0;
    cudabench::g_report[0] = 0;
    cudabench::g_sticky = 0;
    cudabench::g_last = 0;
}

// device-side assert(): glibc's __assert_fail, redirected with -Wl,--wrap=__assert_fail
void __real___assert_fail(const char*, const char*, unsigned int, const char*) __attribute__((noreturn));
__attribute__((noreturn)) void __wrap___assert_fail(const char* expr, const char* file, unsigned int line,
                                                    const char* func) {
    char buf[600];
    snprintf(buf, sizeof buf, "device-side assert failed (%s:%u: %s: Assertion `%s' failed)", file, line, func, expr);
    cudabench::Worker* w = cudabench::tl_worker;
    if (w && w->cur) cudabench::kernel_fault(cudaErrorAssert, buf);
    __real___assert_fail(expr, file, line, func);
}

// ---- CUDA runtime API ----------------------------------------------------------------------------------------------
cudaError_t cudaMalloc(void** p, size_t n) { return cudabench::device_alloc(p, n); }
cudaError_t cudaMallocManaged(void** p, size_t n, unsigned int) { return cudabench::device_alloc(p, n, 2); }
cudaError_t cudaMallocAsync(void** p, size_t n, cudaStream_t) { return cudabench::device_alloc(p, n); }
cudaError_t cudaMallocPitch(void** p, size_t* pitch, size_t w, size_t h) {
    size_t pw = (w + 255) & ~(size_t)255;
    if (pitch) *pitch = pw;
    return cudabench::device_alloc(p, pw * h);
}
cudaError_t cudaFree(void* p) { return cudabench::device_free(p); }
cudaError_t cudaFreeAsync(void* p, cudaStream_t) { return cudabench::device_free(p); }
cudaError_t cudaMallocHost(void** p, size_t n) {
    if (!p) return cudabench::api_result(cudaErrorInvalidValue);
    *p = malloc(n ? n : 1);
    return *p ? cudaSuccess : cudabench::api_result(cudaErrorMemoryAllocation);
}
cudaError_t cudaHostAlloc(void** p, size_t n, unsigned int) { return cudaMallocHost(p, n); }
cudaError_t cudaFreeHost(void* p) { free(p); return cudaSuccess; }
cudaError_t cudaMemcpy(void* d, const void* s, size_t n, enum cudaMemcpyKind k) { return cudabench::checked_copy(d, s, n, k); }
cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, enum cudaMemcpyKind k, cudaStream_t) {
    return cudabench::checked_copy(d, s, n, k);
}
cudaError_t cudaMemcpy2D(void* d, size_t dp, const void* s, size_t sp, size_t w, size_t h, enum cudaMemcpyKind k) {
    if (h == 0 || w == 0) return cudaSuccess;
    if (w > dp || w > sp) return cudabench::api_result(cudaErrorInvalidPitchValue);
    for (size_t r = 0; r < h; r++) {
        cudaError_t e = cudabench::checked_copy((char*)d + r * dp, (const char*)s + r * sp, w, k);
        if (e) return e;
    }
    return cudaSuccess;
}
cudaError_t cudaMemset(void* d, int v, size_t n) { return cudabench::checked_set(d, v, n); }
cudaError_t cudaMemsetAsync(void* d, int v, size_t n, cudaStream_t) { return cudabench::checked_set(d, v, n); }
cudaError_t cudaMemcpyToSymbol(const void* sym, const void* src, size_t n, size_t off, enum cudaMemcpyKind) {
    cudabench::DeviceAccess access;  // `src` may be device memory
    memcpy((char*)sym + off, src, n);
    return cudaSuccess;
}
cudaError_t cudaMemcpyFromSymbol(void* dst, const void* sym, size_t n, size_t off, enum cudaMemcpyKind) {
    cudabench::DeviceAccess access;
    memcpy(dst, (const char*)sym + off, n);
    return cudaSuccess;
}
cudaError_t cudaGetSymbolAddress(void** p, const void* sym) { *p = (void*)sym; return cudaSuccess; }
cudaError_t cudaMemPrefetchAsync(const void*, size_t, struct cudaMemLocation, unsigned int, cudaStream_t) { return cudaSuccess; }
cudaError_t cudaMemGetInfo(size_t* fr, size_t* total) {
    if (total) *total = cudabench::g_memcap;
    if (fr) *fr = cudabench::g_memcap - cudabench::g_allocated;
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize(void) { fflush(stdout); return (cudaError_t)cudabench::g_sticky; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { fflush(stdout); return (cudaError_t)cudabench::g_sticky; }
cudaError_t cudaGetLastError(void) {
    int r = cudabench::g_sticky ? cudabench::g_sticky : cudabench::g_last;
    cudabench::g_last = 0;
    return (cudaError_t)r;
}
cudaError_t cudaPeekAtLastError(void) {
    return (cudaError_t)(cudabench::g_sticky ? cudabench::g_sticky : cudabench::g_last);
}
cudaError_t cudaDeviceReset(void) { return cudaSuccess; }
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudabench::api_result(cudaErrorInvalidDevice); }
cudaError_t cudaGetDevice(int* d) { if (d) *d = 0; return cudaSuccess; }
cudaError_t cudaGetDeviceCount(int* c) { if (c) *c = 1; return cudaSuccess; }
cudaError_t cudaDeviceSetLimit(enum cudaLimit, size_t) { return cudaSuccess; }
cudaError_t cudaDeviceSetCacheConfig(enum cudaFuncCache) { return cudaSuccess; }
cudaError_t cudaFuncSetCacheConfig(const void*, enum cudaFuncCache) { return cudaSuccess; }
cudaError_t cudaFuncSetAttribute(const void* f, enum cudaFuncAttribute attr, int value) {
    if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) return cudabench::set_smem_optin(f, value);
    return cudaSuccess;
}
cudaError_t cudaFuncGetAttributes(struct cudaFuncAttributes* a, const void*) {
    if (!a) return cudabench::api_result(cudaErrorInvalidValue);
    memset(a, 0, sizeof *a);
    a->maxThreadsPerBlock = 1024;
    a->numRegs = 32;
    a->ptxVersion = 80;
    a->binaryVersion = 80;
    a->maxDynamicSharedSizeBytes = 48 * 1024;
    return cudaSuccess;
}
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int* nb, const void*, int bs, size_t, unsigned int) {
    if (!nb || bs <= 0) return cudabench::api_result(cudaErrorInvalidValue);
    int r = 2048 / bs;
    *nb = r < 1 ? 1 : (r > 32 ? 32 : r);
    return cudaSuccess;
}
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* nb, const void* f, int bs, size_t smem) {
    return cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(nb, f, bs, smem, 0);
}
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp* p, int dev) {
    if (!p || dev != 0) return cudabench::api_result(cudaErrorInvalidValue);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "cudabench CPU runtime (simulated sm_80 device)");
    p->totalGlobalMem = cudabench::g_memcap;
    p->sharedMemPerBlock = 48 * 1024;
    p->sharedMemPerBlockOptin = cudabench::kOptinSmem;
    p->sharedMemPerMultiprocessor = 228 * 1024;
    p->regsPerBlock = 65536;
    p->regsPerMultiprocessor = 65536;
    p->warpSize = 32;
    p->memPitch = 2147483647;
    p->maxThreadsPerBlock = 1024;
    p->maxThreadsDim[0] = 1024; p->maxThreadsDim[1] = 1024; p->maxThreadsDim[2] = 64;
    p->maxGridSize[0] = 2147483647; p->maxGridSize[1] = 65535; p->maxGridSize[2] = 65535;
    p->totalConstMem = 65536;
    p->major = 8;
    p->minor = 0;
    p->textureAlignment = 512;
    p->multiProcessorCount = 108;
    p->concurrentKernels = 1;
    p->unifiedAddressing = 1;
    p->memoryBusWidth = 5120;
    p->l2CacheSize = 40 * 1024 * 1024;
    p->maxThreadsPerMultiProcessor = 2048;
    p->maxBlocksPerMultiProcessor = 32;
    p->managedMemory = 1;
    p->asyncEngineCount = 2;
    p->globalL1CacheSupported = 1;
    p->localL1CacheSupported = 1;
    return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* v, enum cudaDeviceAttr attr, int dev) {
    if (!v || dev != 0) return cudabench::api_result(cudaErrorInvalidValue);
    switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *v = 1024; break;
    case cudaDevAttrMaxBlockDimX: case cudaDevAttrMaxBlockDimY: *v = 1024; break;
    case cudaDevAttrMaxBlockDimZ: *v = 64; break;
    case cudaDevAttrMaxGridDimX: *v = 2147483647; break;
    case cudaDevAttrMaxGridDimY: case cudaDevAttrMaxGridDimZ: *v = 65535; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *v = 48 * 1024; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *v = (int)cudabench::kMaxDynSmem; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *v = 228 * 1024; break;
    case cudaDevAttrWarpSize: *v = 32; break;
    case cudaDevAttrMultiProcessorCount: *v = 108; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *v = 2048; break;
    case cudaDevAttrComputeCapabilityMajor: *v = 8; break;
    case cudaDevAttrComputeCapabilityMinor: *v = 0; break;
    case cudaDevAttrMaxRegistersPerBlock: *v = 65536; break;
    case cudaDevAttrL2CacheSize: *v = 40 * 1024 * 1024; break;
    default: *v = 0; break;
    }
    return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { if (!s) return cudaErrorInvalidValue; *s = new CUstream_st(); return cudaSuccess; }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) { return cudaStreamCreate(s); }
cudaError_t cudaStreamDestroy(cudaStream_t s) { delete s; return cudaSuccess; }
cudaError_t cudaStreamQuery(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned int) { return cudaSuccess; }
cudaError_t cudaEventCreate(cudaEvent_t* e) { if (!e) return cudaErrorInvalidValue; *e = new CUevent_st(); return cudaSuccess; }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int) { return cudaEventCreate(e); }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) { if (e) e->t = cudabench::now_s(); return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return (cudaError_t)cudabench::g_sticky; }
cudaError_t cudaEventQuery(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
    if (!ms || !a || !b) return cudabench::api_result(cudaErrorInvalidValue);
    *ms = (float)((b->t - a->t) * 1000.0);
    return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) { delete e; return cudaSuccess; }
// streams run in order at launch (kernels are synchronous): priorities, callbacks and host functions are immediate
cudaError_t cudaStreamCreateWithPriority(cudaStream_t* s, unsigned int, int) { return cudaStreamCreate(s); }
cudaError_t cudaDeviceGetStreamPriorityRange(int* least, int* greatest) {
    if (least) *least = 0;
    if (greatest) *greatest = -5;
    return cudaSuccess;
}
cudaError_t cudaStreamGetPriority(cudaStream_t, int* p) { if (p) *p = 0; return cudaSuccess; }
cudaError_t cudaLaunchHostFunc(cudaStream_t, cudaHostFn_t fn, void* data) {
    if (!fn) return cudabench::api_result(cudaErrorInvalidValue);
    fn(data);
    return cudaSuccess;
}
cudaError_t cudaStreamAddCallback(cudaStream_t s, cudaStreamCallback_t cb, void* data, unsigned int) {
    if (!cb) return cudabench::api_result(cudaErrorInvalidValue);
    cb(s, (cudaError_t)cudabench::g_sticky, data);
    return cudaSuccess;
}
cudaError_t cudaHostRegister(void*, size_t, unsigned int) { return cudaSuccess; }
cudaError_t cudaHostUnregister(void*) { return cudaSuccess; }
cudaError_t cudaHostGetDevicePointer(void** d, void* h, unsigned int) {
    if (!d) return cudabench::api_result(cudaErrorInvalidValue);
    *d = h;  // mapped host memory: the same address on both sides
    return cudaSuccess;
}
cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes* a, const void* p) {
    if (!a) return cudabench::api_result(cudaErrorInvalidValue);
    memset(a, 0, sizeof *a);
    bool dev = cudabench::in_range(p, 1);
    a->type = dev ? cudaMemoryTypeDevice : cudaMemoryTypeUnregistered;
    a->devicePointer = dev ? (void*)p : nullptr;
    a->hostPointer = dev ? nullptr : (void*)p;
    return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* v) { if (v) *v = CUDART_VERSION; return cudaSuccess; }
cudaError_t cudaRuntimeGetVersion(int* v) { if (v) *v = CUDART_VERSION; return cudaSuccess; }
cudaError_t cudaSetDeviceFlags(unsigned int) { return cudaSuccess; }
cudaError_t cudaGetDeviceFlags(unsigned int* f) { if (f) *f = 0; return cudaSuccess; }
cudaError_t cudaDeviceGetLimit(size_t* v, enum cudaLimit l) {
    if (!v) return cudabench::api_result(cudaErrorInvalidValue);
    *v = l == cudaLimitStackSize ? 1024 : l == cudaLimitPrintfFifoSize ? (1 << 20) : l == cudaLimitMallocHeapSize ? (8 << 20) : 0;
    return cudaSuccess;
}
cudaError_t cudaChooseDevice(int* d, const struct cudaDeviceProp*) { if (d) *d = 0; return cudaSuccess; }
cudaError_t cudaDeviceGetCacheConfig(enum cudaFuncCache* c) { if (c) *c = cudaFuncCachePreferNone; return cudaSuccess; }
cudaError_t cudaDeviceSetSharedMemConfig(enum cudaSharedMemConfig) { return cudaSuccess; }
cudaError_t cudaMemcpyPeer(void* d, int, const void* s, int, size_t n) { return cudabench::checked_copy(d, s, n, cudaMemcpyDeviceToDevice); }
cudaError_t cudaMemcpyPeerAsync(void* d, int dd, const void* s, int sd, size_t n, cudaStream_t) { return cudaMemcpyPeer(d, dd, s, sd, n); }
cudaError_t cudaMemcpy2DAsync(void* d, size_t dp, const void* s, size_t sp, size_t w, size_t h, enum cudaMemcpyKind k, cudaStream_t) {
    return cudaMemcpy2D(d, dp, s, sp, w, h, k);
}
cudaError_t cudaMemset2D(void* d, size_t pitch, int v, size_t w, size_t h) {
    for (size_t r = 0; r < h; r++) {
        cudaError_t e = cudabench::checked_set((char*)d + r * pitch, v, w);
        if (e) return e;
    }
    return cudaSuccess;
}
cudaError_t cudaMemset2DAsync(void* d, size_t pitch, int v, size_t w, size_t h, cudaStream_t) { return cudaMemset2D(d, pitch, v, w, h); }
cudaError_t cudaEventRecordWithFlags(cudaEvent_t e, cudaStream_t s, unsigned int) { return cudaEventRecord(e, s); }

const char* cudaGetErrorName(cudaError_t e) {
    switch (e) {
#define CB_ERR(x) case x: return #x;
    CB_ERR(cudaSuccess) CB_ERR(cudaErrorInvalidValue) CB_ERR(cudaErrorMemoryAllocation)
    CB_ERR(cudaErrorInitializationError) CB_ERR(cudaErrorInvalidConfiguration) CB_ERR(cudaErrorInvalidPitchValue)
    CB_ERR(cudaErrorInvalidDevice) CB_ERR(cudaErrorInvalidDevicePointer) CB_ERR(cudaErrorInvalidMemcpyDirection)
    CB_ERR(cudaErrorLaunchFailure) CB_ERR(cudaErrorLaunchOutOfResources) CB_ERR(cudaErrorLaunchTimeout)
    CB_ERR(cudaErrorAssert) CB_ERR(cudaErrorNotSupported) CB_ERR(cudaErrorIllegalAddress)
    CB_ERR(cudaErrorNoDevice) CB_ERR(cudaErrorInvalidResourceHandle) CB_ERR(cudaErrorNotReady)
    CB_ERR(cudaErrorInvalidDeviceFunction) CB_ERR(cudaErrorUnknown)
#undef CB_ERR
    default: return "cudaErrorUnknown";
    }
}
const char* cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorAssert: return "device-side assert triggered";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    default: return cudaGetErrorName(e);
    }
}
}  // extern "C"

// ---- C++ overloads of the runtime API that the toolkit declares only for nvcc ------------------------------------
template <class T> static inline cudaError_t cudaMemcpyToSymbol(const T& sym, const void* src, size_t n, size_t off = 0,
                                                                enum cudaMemcpyKind k = cudaMemcpyHostToDevice) {
    return ::cudaMemcpyToSymbol((const void*)&sym, src, n, off, k);
}
template <class T> static inline cudaError_t cudaMemcpyToSymbolAsync(const T& sym, const void* src, size_t n, size_t off = 0,
                                                                     enum cudaMemcpyKind k = cudaMemcpyHostToDevice,
                                                                     cudaStream_t = 0) {
    return ::cudaMemcpyToSymbol((const void*)&sym, src, n, off, k);
}
template <class T> static inline cudaError_t cudaMemcpyFromSymbol(void* dst, const T& sym, size_t n, size_t off = 0,
                                                                  enum cudaMemcpyKind k = cudaMemcpyDeviceToHost) {
    return ::cudaMemcpyFromSymbol(dst, (const void*)&sym, n, off, k);
}
template <class T> static inline cudaError_t cudaMemcpyFromSymbolAsync(void* dst, const T& sym, size_t n, size_t off = 0,
                                                                       enum cudaMemcpyKind k = cudaMemcpyDeviceToHost,
                                                                       cudaStream_t = 0) {
    return ::cudaMemcpyFromSymbol(dst, (const void*)&sym, n, off, k);
}
template <class T> static inline cudaError_t cudaGetSymbolAddress(void** p, const T& sym) {
    return ::cudaGetSymbolAddress(p, (const void*)&sym);
}
template <class T> static inline cudaError_t cudaGetSymbolSize(size_t* n, const T&) { *n = sizeof(T); return cudaSuccess; }
template <class T> static inline cudaError_t cudaFuncSetAttribute(T* f, enum cudaFuncAttribute attr, int value) {
    return ::cudaFuncSetAttribute((const void*)f, attr, value);
}
template <class T> static inline cudaError_t cudaFuncSetCacheConfig(T*, enum cudaFuncCache) { return cudaSuccess; }
template <class T> static inline cudaError_t cudaFuncGetAttributes(struct cudaFuncAttributes* a, T*) {
    return ::cudaFuncGetAttributes(a, nullptr);
}

// ---- device functions ----------------------------------------------------------------------------------------------
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

// ---- atomics -------------------------------------------------------------------------------------------------------
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

// ---- integer and bit intrinsics ------------------------------------------------------------------------------------
static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
static inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned __brev(unsigned x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
    return __builtin_bswap32(x);
}
static inline unsigned long long __brevll(unsigned long long x) {
    return ((unsigned long long)__brev((unsigned)x) << 32) | __brev((unsigned)(x >> 32));
}
static inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
    unsigned long long v = ((unsigned long long)y << 32) | x;
    unsigned r = 0;
    for (int i = 0; i < 4; i++) r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7))) & 0xFF) << (8 * i);
    return r;
}
static inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned s) {
    unsigned long long v = ((unsigned long long)hi << 32) | lo;
    return (unsigned)((v << (s & 31)) >> 32);
}
static inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned s) {
    unsigned long long v = ((unsigned long long)hi << 32) | lo;
    return (unsigned)(v >> (s & 31));
}
static inline unsigned __funnelshift_lc(unsigned lo, unsigned hi, unsigned s) { return __funnelshift_l(lo, hi, s > 32 ? 32 : s); }
static inline unsigned __funnelshift_rc(unsigned lo, unsigned hi, unsigned s) { return __funnelshift_r(lo, hi, s > 32 ? 32 : s); }
static inline int __mul24(int a, int b) { return (int)((long long)((a << 8) >> 8) * ((b << 8) >> 8)); }
static inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xFFFFFFu) * (b & 0xFFFFFFu); }
static inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
static inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
static inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) { return (unsigned long long)(((unsigned __int128)a * b) >> 64); }
static inline int __hadd(int a, int b) { return (int)(((long long)a + b) >> 1); }
static inline int __rhadd(int a, int b) { return (int)(((long long)a + b + 1) >> 1); }
static inline unsigned __uhadd(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a + b) >> 1); }
static inline unsigned __urhadd(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a + b + 1) >> 1); }
static inline unsigned __sad(int a, int b, unsigned c) { return c + (unsigned)(a > b ? (long long)a - b : (long long)b - a); }
static inline unsigned __usad(unsigned a, unsigned b, unsigned c) { return c + (a > b ? a - b : b - a); }
static inline int __dp4a(int a, int b, int c) {
    for (int i = 0; i < 4; i++) c += (int)(signed char)(a >> (8 * i)) * (int)(signed char)(b >> (8 * i));
    return c;
}

// ---- conversions and floating-point intrinsics ---------------------------------------------------------------------
static inline int __float_as_int(float x) { int r; memcpy(&r, &x, 4); return r; }
static inline unsigned __float_as_uint(float x) { unsigned r; memcpy(&r, &x, 4); return r; }
static inline float __int_as_float(int x) { float r; memcpy(&r, &x, 4); return r; }
static inline float __uint_as_float(unsigned x) { float r; memcpy(&r, &x, 4); return r; }
static inline long long __double_as_longlong(double x) { long long r; memcpy(&r, &x, 8); return r; }
static inline double __longlong_as_double(long long x) { double r; memcpy(&r, &x, 8); return r; }
static inline int __double2hiint(double x) { return (int)(__double_as_longlong(x) >> 32); }
static inline int __double2loint(double x) { return (int)__double_as_longlong(x); }
static inline double __hiloint2double(int hi, int lo) { return __longlong_as_double(((long long)hi << 32) | (unsigned)lo); }
static inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
static inline int __float2int_rz(float x) { return (int)x; }
static inline int __float2int_rd(float x) { return (int)floorf(x); }
static inline int __float2int_ru(float x) { return (int)ceilf(x); }
static inline unsigned __float2uint_rn(float x) { return (unsigned)nearbyintf(x); }
static inline unsigned __float2uint_rz(float x) { return (unsigned)x; }
static inline unsigned __float2uint_rd(float x) { return (unsigned)floorf(x); }
static inline unsigned __float2uint_ru(float x) { return (unsigned)ceilf(x); }
static inline long long __float2ll_rn(float x) { return (long long)nearbyintf(x); }
static inline long long __float2ll_rz(float x) { return (long long)x; }
static inline int __double2int_rn(double x) { return (int)nearbyint(x); }
static inline int __double2int_rz(double x) { return (int)x; }
static inline float __double2float_rn(double x) { return (float)x; }
static inline float __int2float_rn(int x) { return (float)x; }
static inline float __uint2float_rn(unsigned x) { return (float)x; }
static inline float __ll2float_rn(long long x) { return (float)x; }
static inline double __int2double_rn(int x) { return (double)x; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fadd_rz(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fmul_rz(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fdividef(float a, float b) { return a / b; }
static inline float fdividef(float a, float b) { return a / b; }
static inline float __frcp_rn(float a) { return 1.0f / a; }
static inline float __fsqrt_rn(float a) { return sqrtf(a); }
static inline float __frsqrt_rn(float a) { return 1.0f / sqrtf(a); }
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline float __fmaf_rz(float a, float b, float c) { return fmaf(a, b, c); }
static inline double __dadd_rn(double a, double b) { return a + b; }
static inline double __dsub_rn(double a, double b) { return a - b; }
static inline double __dmul_rn(double a, double b) { return a * b; }
static inline double __ddiv_rn(double a, double b) { return a / b; }
static inline double __drcp_rn(double a) { return 1.0 / a; }
static inline double __dsqrt_rn(double a) { return sqrt(a); }
static inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
static inline float __saturatef(float x) { return x > 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); }
// glibc declares __expf & co. itself: map CUDA's fast intrinsics to the exact libm functions by name
#define __expf expf
#define __exp10f exp10f
#define __logf logf
#define __log2f log2f
#define __log10f log10f
#define __powf powf
#define __sinf sinf
#define __cosf cosf
#define __tanf tanf
#define __tanhf tanhf
#define __sincosf sincosf
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
static inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
static inline double rcbrt(double x) { return 1.0 / cbrt(x); }
static inline float sinpif(float x) { return sinf((float)M_PI * x); }
static inline float cospif(float x) { return cosf((float)M_PI * x); }
static inline double sinpi(double x) { return sin(M_PI * x); }
static inline double cospi(double x) { return cos(M_PI * x); }
static inline void sincospif(float x, float* s, float* c) { *s = sinpif(x); *c = cospif(x); }
static inline void sincospi(double x, double* s, double* c) { *s = sinpi(x); *c = cospi(x); }
static inline float normcdff(float x) { return 0.5f * erfcf(-x * (float)M_SQRT1_2); }
static inline double normcdf(double x) { return 0.5 * erfc(-x * M_SQRT1_2); }
static inline double erfinv(double y) {
    if (y <= -1.0) return -HUGE_VAL;
    if (y >= 1.0) return HUGE_VAL;
    double w = -log((1.0 - y) * (1.0 + y)), x;
    if (w < 5.0) {
        w -= 2.5;
        x = 2.81022636e-08; x = 3.43273939e-07 + x * w; x = -3.5233877e-06 + x * w; x = -4.39150654e-06 + x * w;
        x = 0.00021858087 + x * w; x = -0.00125372503 + x * w; x = -0.00417768164 + x * w; x = 0.246640727 + x * w;
        x = 1.50140941 + x * w;
    } else {
        w = sqrt(w) - 3.0;
        x = -0.000200214257; x = 0.000100950558 + x * w; x = 0.00134934322 + x * w; x = -0.00367342844 + x * w;
        x = 0.00573950773 + x * w; x = -0.0076224613 + x * w; x = 0.00943887047 + x * w; x = 1.00167406 + x * w;
        x = 2.83297682 + x * w;
    }
    x *= y;
    for (int i = 0; i < 2; i++) x -= (erf(x) - y) / (2.0 / sqrt(M_PI) * exp(-x * x));  // Newton refinement
    return x;
}
static inline float erfinvf(float y) { return (float)erfinv(y); }
static inline double erfcinv(double y) { return erfinv(1.0 - y); }
static inline float erfcinvf(float y) { return (float)erfinv(1.0 - (double)y); }
static inline double normcdfinv(double p) { return -M_SQRT2 * erfcinv(2.0 * p); }
static inline float normcdfinvf(float p) { return (float)normcdfinv(p); }
static inline float norm3df(float a, float b, float c) { return sqrtf(a * a + b * b + c * c); }
static inline float rnorm3df(float a, float b, float c) { return 1.0f / sqrtf(a * a + b * b + c * c); }
static inline float norm4df(float a, float b, float c, float d) { return sqrtf(a * a + b * b + c * c + d * d); }
static inline float rhypotf(float a, float b) { return 1.0f / hypotf(a, b); }
static inline double rhypot(double a, double b) { return 1.0 / hypot(a, b); }

// CUDA's global min/max overloads (mixed argument types take the common type)
template <class A, class B, class = typename std::enable_if<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>::type>
static inline constexpr typename std::common_type<A, B>::type min(A a, B b) {
    return (typename std::common_type<A, B>::type)b < (typename std::common_type<A, B>::type)a ? b : a;
}
template <class A, class B, class = typename std::enable_if<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>::type>
static inline constexpr typename std::common_type<A, B>::type max(A a, B b) {
    return (typename std::common_type<A, B>::type)a < (typename std::common_type<A, B>::type)b ? b : a;
}
static inline unsigned umin(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned umax(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long llmin(long long a, long long b) { return a < b ? a : b; }
static inline long long llmax(long long a, long long b) { return a > b ? a : b; }
static inline unsigned long long ullmin(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
static inline unsigned long long ullmax(unsigned long long a, unsigned long long b) { return a > b ? a : b; }

// ---- half and bfloat16 functions that the toolkit headers only define for device code ----------------------------
#define CB_HALF_FUNCS(H, H2, TOF, FROMF)                                                                             \
    static inline H __hfma(H a, H b, H c) { return FROMF(fmaf(TOF(a), TOF(b), TOF(c))); }                            \
    static inline H __hfma_sat(H a, H b, H c) { return FROMF(__saturatef(fmaf(TOF(a), TOF(b), TOF(c)))); }           \
    static inline H __hfma_relu(H a, H b, H c) { float r = fmaf(TOF(a), TOF(b), TOF(c)); return FROMF(r > 0.f ? r : 0.f); } \
    static inline H2 __hfma2(H2 a, H2 b, H2 c) { H2 r; r.x = __hfma(a.x, b.x, c.x); r.y = __hfma(a.y, b.y, c.y); return r; } \
    static inline H hexp(H a) { return FROMF(expf(TOF(a))); }                                                        \
    static inline H hexp2(H a) { return FROMF(exp2f(TOF(a))); }                                                      \
    static inline H hexp10(H a) { return FROMF(exp10f(TOF(a))); }                                                    \
    static inline H hlog(H a) { return FROMF(logf(TOF(a))); }                                                        \
    static inline H hlog2(H a) { return FROMF(log2f(TOF(a))); }                                                      \
    static inline H hlog10(H a) { return FROMF(log10f(TOF(a))); }                                                    \
    static inline H hsqrt(H a) { return FROMF(sqrtf(TOF(a))); }                                                      \
    static inline H hrsqrt(H a) { return FROMF(1.0f / sqrtf(TOF(a))); }                                              \
    static inline H hrcp(H a) { return FROMF(1.0f / TOF(a)); }                                                       \
    static inline H hsin(H a) { return FROMF(sinf(TOF(a))); }                                                        \
    static inline H hcos(H a) { return FROMF(cosf(TOF(a))); }                                                        \
    static inline H htanh(H a) { return FROMF(tanhf(TOF(a))); }                                                      \
    static inline H htanh_approx(H a) { return FROMF(tanhf(TOF(a))); }                                               \
    static inline H hceil(H a) { return FROMF(ceilf(TOF(a))); }                                                      \
    static inline H hfloor(H a) { return FROMF(floorf(TOF(a))); }                                                    \
    static inline H htrunc(H a) { return FROMF(truncf(TOF(a))); }                                                    \
    static inline H hrint(H a) { return FROMF(rintf(TOF(a))); }                                                      \
    static inline H2 h2exp(H2 a) { H2 r; r.x = hexp(a.x); r.y = hexp(a.y); return r; }                              \
    static inline H2 h2exp2(H2 a) { H2 r; r.x = hexp2(a.x); r.y = hexp2(a.y); return r; }                           \
    static inline H2 h2log(H2 a) { H2 r; r.x = hlog(a.x); r.y = hlog(a.y); return r; }                              \
    static inline H2 h2sqrt(H2 a) { H2 r; r.x = hsqrt(a.x); r.y = hsqrt(a.y); return r; }                           \
    static inline H2 h2rsqrt(H2 a) { H2 r; r.x = hrsqrt(a.x); r.y = hrsqrt(a.y); return r; }                        \
    static inline H2 h2rcp(H2 a) { H2 r; r.x = hrcp(a.x); r.y = hrcp(a.y); return r; }                              \
    static inline H2 h2sin(H2 a) { H2 r; r.x = hsin(a.x); r.y = hsin(a.y); return r; }                              \
    static inline H2 h2cos(H2 a) { H2 r; r.x = hcos(a.x); r.y = hcos(a.y); return r; }                              \
    static inline H2 h2tanh(H2 a) { H2 r; r.x = htanh(a.x); r.y = htanh(a.y); return r; }                           \
    static inline H2 h2floor(H2 a) { H2 r; r.x = hfloor(a.x); r.y = hfloor(a.y); return r; }                        \
    static inline H2 h2ceil(H2 a) { H2 r; r.x = hceil(a.x); r.y = hceil(a.y); return r; }
static inline float cb_h2f(__half h) { return __half2float(h); }
static inline __half cb_f2h(float f) { return __float2half(f); }
static inline float cb_b2f(__nv_bfloat16 h) { return __bfloat162float(h); }
static inline __nv_bfloat16 cb_f2b(float f) { return __float2bfloat16(f); }
CB_HALF_FUNCS(__half, __half2, cb_h2f, cb_f2h)
CB_HALF_FUNCS(__nv_bfloat16, __nv_bfloat162, cb_b2f, cb_f2b)
#undef CB_HALF_FUNCS
static inline int __half2int_rn(__half h) { return (int)nearbyintf(__half2float(h)); }
static inline int __half2int_rd(__half h) { return (int)floorf(__half2float(h)); }
static inline int __half2int_ru(__half h) { return (int)ceilf(__half2float(h)); }
static inline int __bfloat162int_rn(__nv_bfloat16 h) { return (int)nearbyintf(__bfloat162float(h)); }

// ---- cooperative groups (the basic forms) --------------------------------------------------------------------------
// thread_block, thread_block_tile<N> (N a power of two up to 32) and tiled_partition, thread_group (tiled_partition
// with a run-time size), grid_group without sync (grid-wide barriers need a cooperative launch, which the CPU
// runtime refuses), cg::sync, cg::reduce / inclusive_scan / exclusive_scan with the cg:: function objects. A tile's
// operations are the warp operations over the tile's lanes, so they keep the runtime's barrier checks.
namespace cooperative_groups {
namespace details {
static inline unsigned block_rank_of_thread() {
    return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}
static inline unsigned block_threads() { return blockDim.x * blockDim.y * blockDim.z; }
static inline unsigned tile_mask(unsigned n) {
    unsigned lane = block_rank_of_thread() & 31u;
    unsigned base = n >= 32 ? 0u : (1u << n) - 1u;
    return n >= 32 ? 0xffffffffu : base << (lane & ~(n - 1));
}
}  // namespace details

class thread_block {
public:
    static void sync(int line = __builtin_LINE()) { ::cudabench::sync_block(line, 1); }
    static unsigned thread_rank() { return details::block_rank_of_thread(); }
    static unsigned size() { return details::block_threads(); }
    static unsigned num_threads() { return details::block_threads(); }
    static dim3 group_index() { return dim3(blockIdx.x, blockIdx.y, blockIdx.z); }
    static dim3 thread_index() { return dim3(threadIdx.x, threadIdx.y, threadIdx.z); }
    static dim3 group_dim() { return blockDim; }
    static dim3 dim_threads() { return blockDim; }
    static bool is_valid() { return true; }
    static void barrier_wait(int line = __builtin_LINE()) { sync(line); }
};
static inline thread_block this_thread_block() { return thread_block(); }

class grid_group {
public:
    static void sync(int = 0) {
        ::cudabench::kernel_fault(cudaErrorNotSupported,
                                  "grid-wide synchronisation (cooperative_groups::grid_group::sync, which needs a "
                                  "cooperative launch) cannot run on the CPU runtime");
    }
    static unsigned long long thread_rank() {
        unsigned long long b = blockIdx.x + (unsigned long long)gridDim.x * (blockIdx.y + (unsigned long long)gridDim.y * blockIdx.z);
        return b * details::block_threads() + details::block_rank_of_thread();
    }
    static unsigned long long size() { return (unsigned long long)gridDim.x * gridDim.y * gridDim.z * details::block_threads(); }
    static unsigned long long num_threads() { return size(); }
    static unsigned long long num_blocks() { return (unsigned long long)gridDim.x * gridDim.y * gridDim.z; }
    static unsigned long long block_rank() {
        return blockIdx.x + (unsigned long long)gridDim.x * (blockIdx.y + (unsigned long long)gridDim.y * blockIdx.z);
    }
    static dim3 group_dim() { return gridDim; }
    static dim3 dim_blocks() { return gridDim; }
    static dim3 block_index() { return dim3(blockIdx.x, blockIdx.y, blockIdx.z); }
    static bool is_valid() { return true; }
};
static inline grid_group this_grid() { return grid_group(); }

// A group of a run-time size: the whole block or a tile of at most 32 threads (a power of two).
class thread_group {
protected:
    unsigned n_;  // 0: the whole block
public:
    explicit thread_group(unsigned n = 0) : n_(n) {}
    thread_group(const thread_block&) : n_(0) {}
    void sync(int line = __builtin_LINE()) const {
        if (n_ == 0) ::cudabench::sync_block(line, 1);
        else __syncwarp(details::tile_mask(n_));
    }
    unsigned thread_rank() const { return n_ ? details::block_rank_of_thread() & (n_ - 1) : details::block_rank_of_thread(); }
    unsigned size() const { return n_ ? n_ : details::block_threads(); }
    unsigned num_threads() const { return size(); }
    unsigned meta_group_rank() const { return n_ ? details::block_rank_of_thread() / n_ : 0; }
    unsigned meta_group_size() const { return n_ ? (details::block_threads() + n_ - 1) / n_ : 1; }
    bool is_valid() const { return true; }
};

template <unsigned N, class Parent = void> class thread_block_tile : public thread_group {
    static_assert(N >= 1 && N <= 32 && (N & (N - 1)) == 0,
                  "the CPU runtime supports cooperative_groups tiles of 1, 2, 4, 8, 16 or 32 threads");
public:
    thread_block_tile() : thread_group(N) {}
    template <class P> thread_block_tile(const thread_block_tile<N, P>&) : thread_group(N) {}
    static constexpr unsigned num_threads() { return N; }
    static constexpr unsigned size() { return N; }
    unsigned mask() const { return details::tile_mask(N); }
    void sync(int = 0) const { __syncwarp(mask()); }
    template <class T> T shfl(T v, int src) const { return __shfl_sync(mask(), v, src, N); }
    template <class T> T shfl_down(T v, unsigned d) const { return __shfl_down_sync(mask(), v, d, N); }
    template <class T> T shfl_up(T v, unsigned d) const { return __shfl_up_sync(mask(), v, d, N); }
    template <class T> T shfl_xor(T v, int m) const { return __shfl_xor_sync(mask(), v, m, N); }
    int any(int p) const { return __any_sync(mask(), p); }
    int all(int p) const { return __all_sync(mask(), p); }
    // bits relative to the tile's first lane, as on the GPU
    unsigned ballot(int p) const {
        unsigned lane0 = (details::block_rank_of_thread() & 31u) & ~(N - 1);
        return __ballot_sync(mask(), p) >> lane0;
    }
    template <class T> unsigned match_any(T v) const {
        unsigned lane0 = (details::block_rank_of_thread() & 31u) & ~(N - 1);
        return __match_any_sync(mask(), v) >> lane0;
    }
    template <class T> unsigned match_all(T v, int& pred) const {
        unsigned lane0 = (details::block_rank_of_thread() & 31u) & ~(N - 1);
        return __match_all_sync(mask(), v, &pred) >> lane0;
    }
};

template <unsigned N, class P> static inline thread_block_tile<N, P> tiled_partition(const P&) {
    return thread_block_tile<N, P>();
}
static inline thread_group tiled_partition(const thread_group& parent, unsigned n) {
    if (n == 0 || n > 32 || (n & (n - 1)))
        ::cudabench::kernel_fault(cudaErrorNotSupported,
                                  "cooperative_groups::tiled_partition with a size other than 1, 2, 4, 8, 16 or 32 "
                                  "cannot run on the CPU runtime");
    (void)parent;
    return thread_group(n);
}
static inline thread_group tiled_partition(const thread_block& parent, unsigned n) {
    return tiled_partition(thread_group(parent), n);
}
template <class G> static inline void sync(const G& g, int line = __builtin_LINE()) { g.sync(line); }
template <class G> static inline unsigned long long thread_rank(const G& g) { return g.thread_rank(); }
template <class G> static inline unsigned long long group_size(const G& g) { return g.size(); }

template <class T = void> struct plus { T operator()(const T& a, const T& b) const { return a + b; } };
template <class T = void> struct less { T operator()(const T& a, const T& b) const { return b < a ? b : a; } };
template <class T = void> struct greater { T operator()(const T& a, const T& b) const { return a < b ? b : a; } };
template <class T = void> struct bit_and { T operator()(const T& a, const T& b) const { return a & b; } };
template <class T = void> struct bit_or { T operator()(const T& a, const T& b) const { return a | b; } };
template <class T = void> struct bit_xor { T operator()(const T& a, const T& b) const { return a ^ b; } };
template <> struct plus<void> { template <class T> T operator()(const T& a, const T& b) const { return a + b; } };
template <> struct less<void> { template <class T> T operator()(const T& a, const T& b) const { return b < a ? b : a; } };
template <> struct greater<void> { template <class T> T operator()(const T& a, const T& b) const { return a < b ? b : a; } };

// Every lane gets op over the tile's values, combined in a butterfly (as the GPU's reduce also does for non-integer
// types, the order of a floating-point sum is not that of a sequential loop).
template <unsigned N, class P, class T, class Op> static inline T reduce(const thread_block_tile<N, P>& g, T v, Op op) {
    for (unsigned o = N / 2; o > 0; o /= 2) v = op(v, g.shfl_xor(v, (int)o));
    return v;
}
template <unsigned N, class P, class T, class Op>
static inline T inclusive_scan(const thread_block_tile<N, P>& g, T v, Op op) {
    unsigned r = g.thread_rank();
    for (unsigned o = 1; o < N; o *= 2) {
        T u = g.shfl_up(v, o);
        if (r >= o) v = op(u, v);
    }
    return v;
}
template <unsigned N, class P, class T> static inline T inclusive_scan(const thread_block_tile<N, P>& g, T v) {
    return inclusive_scan(g, v, plus<T>());
}
template <unsigned N, class P, class T, class Op>
static inline T exclusive_scan(const thread_block_tile<N, P>& g, T v, Op op) {
    T inc = inclusive_scan(g, v, op);
    T prev = g.shfl_up(inc, 1);
    return g.thread_rank() == 0 ? T() : prev;
}
template <unsigned N, class P, class T> static inline T exclusive_scan(const thread_block_tile<N, P>& g, T v) {
    return exclusive_scan(g, v, plus<T>());
}
}  // namespace cooperative_groups

// ---- texture objects ------------------------------------------------------------------------------------------------
// cudaArray (1D/2D/3D), linear and pitch2D resources, cudaCreateTextureObject; fetches with point or linear filtering
// (the weights rounded to 1/256 as the texture unit's 8-bit fractions are), clamp / border / wrap / mirror
// addressing (wrap and mirror with normalized coordinates only, as on the GPU), element-type or normalized-float
// reads. Legacy texture references (texture<...>, cudaBindTexture), layered, cubemap and mipmapped textures and
// surfaces are refused by the source pass.
struct cudaArray {
    cudaChannelFormatDesc desc;
    size_t width, height, depth, elem;
    unsigned char* data;
};
namespace cudabench {
struct TexObject {
    cudaResourceDesc res;
    cudaTextureDesc tex;
    cudaChannelFormatDesc desc;
    const unsigned char* data;
    size_t width, height, depth, pitch, slice, elem;  // pitch: bytes per row; slice: bytes per 2D layer
};
static inline size_t channel_bytes(const cudaChannelFormatDesc& d) { return (size_t)(d.x + d.y + d.z + d.w) / 8; }
static inline const TexObject* tex_of(cudaTextureObject_t t) {
    if (!t) kernel_fault(cudaErrorInvalidValue, "texture fetch from a texture object that was never created");
    return reinterpret_cast<const TexObject*>((uintptr_t)t);
}
// One texel's channels as floats: floating-point channels as they are, integer ones as integers (element type) or
// mapped to [0, 1] / [-1, 1] (cudaReadModeNormalizedFloat).
static inline void texel_floats(const TexObject* o, const unsigned char* p, float out[4]) {
    const int bits[4] = {o->desc.x, o->desc.y, o->desc.z, o->desc.w};
    bool normalized = o->tex.readMode == cudaReadModeNormalizedFloat;
    for (int c = 0; c < 4; c++) {
        float v = 0.0f;
        int b = bits[c];
        if (b == 0) { out[c] = 0.0f; continue; }
        switch (o->desc.f) {
        case cudaChannelFormatKindFloat:
            if (b == 32) { memcpy(&v, p, 4); }
            else { __half h; memcpy((void*)&h, p, 2); v = __half2float(h); }
            break;
        case cudaChannelFormatKindSigned: {
            long long s = b == 8 ? *(const int8_t*)p : b == 16 ? *(const int16_t*)p : *(const int32_t*)p;
            v = normalized && b < 32 ? fmaxf((float)s / (float)((1LL << (b - 1)) - 1), -1.0f) : (float)s;
            break;
        }
        default: {
            unsigned long long u = b == 8 ? *(const uint8_t*)p : b == 16 ? *(const uint16_t*)p : *(const uint32_t*)p;
            v = normalized && b < 32 ? (float)u / (float)((1ULL << b) - 1) : (float)u;
            break;
        }
        }
        out[c] = v;
        p += b / 8;
    }
}
// Texel index along one axis of size n for coordinate x (texel units; u: the normalized coordinate), or -1 for the
// border.
static inline long long tex_address(const TexObject* o, int axis, long long i, size_t n) {
    switch (o->tex.addressMode[axis]) {
    case cudaAddressModeBorder: return (i < 0 || i >= (long long)n) ? -1 : i;
    case cudaAddressModeWrap:
        if (o->tex.normalizedCoords) { i %= (long long)n; return i < 0 ? i + (long long)n : i; }
        break;
    case cudaAddressModeMirror:
        if (o->tex.normalizedCoords) {
            long long p = 2 * (long long)n;
            i %= p;
            if (i < 0) i += p;
            return i >= (long long)n ? p - 1 - i : i;
        }
        break;
    default: break;
    }
    return i < 0 ? 0 : (i >= (long long)n ? (long long)n - 1 : i);
}
static inline const unsigned char* texel_at(const TexObject* o, long long x, long long y, long long z) {
    if (x < 0 || y < 0 || z < 0) return nullptr;
    return o->data + (size_t)z * o->slice + (size_t)y * o->pitch + (size_t)x * o->elem;
}
template <class T> static inline T tex_result(const TexObject* o, const unsigned char* raw, const float* f) {
    T r;
    memset((void*)&r, 0, sizeof(T));
    bool as_floats = f != nullptr;
    if (as_floats) {
        size_t k = sizeof(T) < 16 ? sizeof(T) : 16;
        memcpy((void*)&r, f, k);
    } else if (raw) {
        memcpy((void*)&r, raw, sizeof(T) < o->elem ? sizeof(T) : o->elem);
    } else {
        memcpy((void*)&r, o->tex.borderColor, sizeof(T) < 16 ? sizeof(T) : 16);
    }
    return r;
}
// Whether fetches return floats computed from the texel (filtering, normalized reads, half channels).
static inline bool tex_float_path(const TexObject* o) {
    return o->tex.filterMode == cudaFilterModeLinear || o->tex.readMode == cudaReadModeNormalizedFloat ||
           (o->desc.f == cudaChannelFormatKindFloat && o->desc.x == 16);
}
template <class T> static inline T tex_fetch(const TexObject* o, int dims, float x, float y, float z) {
    const size_t n[3] = {o->width, o->height ? o->height : 1, o->depth ? o->depth : 1};
    float c[3] = {x, y, z};
    if (o->tex.normalizedCoords)
        for (int a = 0; a < dims; a++) c[a] *= (float)n[a];
    if (o->tex.filterMode != cudaFilterModeLinear) {
        long long i[3] = {0, 0, 0};
        for (int a = 0; a < dims; a++) i[a] = tex_address(o, a, (long long)floorf(c[a]), n[a]);
        const unsigned char* p = texel_at(o, i[0], i[1], i[2]);
        if (!tex_float_path(o)) return tex_result<T>(o, p, nullptr);
        float f[4];
        if (p) texel_floats(o, p, f);
        else memcpy(f, o->tex.borderColor, sizeof f);
        return tex_result<T>(o, nullptr, f);
    }
    long long i0[3] = {0, 0, 0};
    float w[3] = {0, 0, 0};
    for (int a = 0; a < dims; a++) {
        float b = c[a] - 0.5f, fl = floorf(b);
        i0[a] = (long long)fl;
        w[a] = roundf((b - fl) * 256.0f) / 256.0f;
    }
    float acc[4] = {0, 0, 0, 0};
    for (int corner = 0; corner < (1 << dims); corner++) {
        float weight = 1.0f;
        long long i[3] = {0, 0, 0};
        for (int a = 0; a < dims; a++) {
            int hi = (corner >> a) & 1;
            weight *= hi ? w[a] : 1.0f - w[a];
            i[a] = tex_address(o, a, i0[a] + hi, n[a]);
        }
        const unsigned char* p = texel_at(o, i[0], i[1], i[2]);
        float f[4];
        if (p) texel_floats(o, p, f);
        else memcpy(f, o->tex.borderColor, sizeof f);
        for (int ch = 0; ch < 4; ch++) acc[ch] += weight * f[ch];
    }
    return tex_result<T>(o, nullptr, acc);
}
static inline cudaError_t array_copy_2d(cudaArray* a, size_t woff, size_t hoff, const void* src, size_t spitch,
                                        size_t wbytes, size_t h, bool to_array, void* dst, size_t dpitch) {
    if (!a) return api_result(cudaErrorInvalidValue);
    size_t row = a->width * a->elem, rows = (a->height ? a->height : 1) * (a->depth ? a->depth : 1);
    if (woff + wbytes > row || hoff + h > rows) return api_result(cudaErrorInvalidValue);
    DeviceAccess access;
    for (size_t r = 0; r < h; r++) {
        unsigned char* cell = a->data + (hoff + r) * row + woff;
        if (to_array) memcpy(cell, (const char*)src + r * spitch, wbytes);
        else memcpy((char*)dst + r * dpitch, cell, wbytes);
    }
    return cudaSuccess;
}
}  // namespace cudabench

extern "C" {
struct cudaChannelFormatDesc cudaCreateChannelDesc(int x, int y, int z, int w, enum cudaChannelFormatKind f) {
    cudaChannelFormatDesc d;
    d.x = x; d.y = y; d.z = z; d.w = w; d.f = f;
    return d;
}
cudaError_t cudaMalloc3DArray(cudaArray_t* out, const struct cudaChannelFormatDesc* desc, struct cudaExtent ext, unsigned int) {
    if (!out || !desc || ext.width == 0) return cudabench::api_result(cudaErrorInvalidValue);
    size_t elem = cudabench::channel_bytes(*desc);
    if (elem == 0) return cudabench::api_result(cudaErrorInvalidChannelDescriptor);
    size_t bytes = ext.width * elem * (ext.height ? ext.height : 1) * (ext.depth ? ext.depth : 1);
    void* data = nullptr;
    cudaError_t e = cudabench::device_alloc(&data, bytes);
    if (e) return e;
    cudaArray* a = new cudaArray();
    a->desc = *desc;
    a->width = ext.width; a->height = ext.height; a->depth = ext.depth; a->elem = elem;
    a->data = (unsigned char*)data;
    cudabench::DeviceAccess access;
    memset(a->data, 0, bytes);
    *out = a;
    return cudaSuccess;
}
cudaError_t cudaMallocArray(cudaArray_t* out, const struct cudaChannelFormatDesc* desc, size_t w, size_t h, unsigned int flags) {
    return cudaMalloc3DArray(out, desc, make_cudaExtent(w, h, 0), flags);
}
cudaError_t cudaFreeArray(cudaArray_t a) {
    if (!a) return cudaSuccess;
    cudabench::device_free(a->data);
    delete a;
    return cudaSuccess;
}
cudaError_t cudaGetChannelDesc(struct cudaChannelFormatDesc* d, cudaArray_const_t a) {
    if (!d || !a) return cudabench::api_result(cudaErrorInvalidValue);
    *d = a->desc;
    return cudaSuccess;
}
cudaError_t cudaArrayGetInfo(struct cudaChannelFormatDesc* d, struct cudaExtent* ext, unsigned int* flags, cudaArray_t a) {
    if (!a) return cudabench::api_result(cudaErrorInvalidValue);
    if (d) *d = a->desc;
    if (ext) *ext = make_cudaExtent(a->width, a->height, a->depth);
    if (flags) *flags = 0;
    return cudaSuccess;
}
cudaError_t cudaMemcpy2DToArray(cudaArray_t dst, size_t woff, size_t hoff, const void* src, size_t spitch, size_t w,
                                size_t h, enum cudaMemcpyKind) {
    return cudabench::array_copy_2d(dst, woff, hoff, src, spitch, w, h, true, nullptr, 0);
}
cudaError_t cudaMemcpy2DToArrayAsync(cudaArray_t dst, size_t woff, size_t hoff, const void* src, size_t spitch,
                                     size_t w, size_t h, enum cudaMemcpyKind k, cudaStream_t) {
    return cudaMemcpy2DToArray(dst, woff, hoff, src, spitch, w, h, k);
}
cudaError_t cudaMemcpy2DFromArray(void* dst, size_t dpitch, cudaArray_const_t src, size_t woff, size_t hoff, size_t w,
                                  size_t h, enum cudaMemcpyKind) {
    return cudabench::array_copy_2d(const_cast<cudaArray*>(src), woff, hoff, nullptr, 0, w, h, false, dst, dpitch);
}
// 1D copies into an array continue across its rows, as the (deprecated) runtime calls do
cudaError_t cudaMemcpyToArray(cudaArray_t dst, size_t woff, size_t hoff, const void* src, size_t count, enum cudaMemcpyKind) {
    if (!dst) return cudabench::api_result(cudaErrorInvalidValue);
    size_t row = dst->width * dst->elem, total = row * (dst->height ? dst->height : 1) * (dst->depth ? dst->depth : 1);
    size_t start = hoff * row + woff;
    if (start + count > total) return cudabench::api_result(cudaErrorInvalidValue);
    cudabench::DeviceAccess access;
    memcpy(dst->data + start, src, count);
    return cudaSuccess;
}
cudaError_t cudaMemcpyToArrayAsync(cudaArray_t dst, size_t woff, size_t hoff, const void* src, size_t count,
                                   enum cudaMemcpyKind k, cudaStream_t) {
    return cudaMemcpyToArray(dst, woff, hoff, src, count, k);
}
cudaError_t cudaMemcpyFromArray(void* dst, cudaArray_const_t src, size_t woff, size_t hoff, size_t count, enum cudaMemcpyKind) {
    if (!src) return cudabench::api_result(cudaErrorInvalidValue);
    size_t row = src->width * src->elem, total = row * (src->height ? src->height : 1) * (src->depth ? src->depth : 1);
    size_t start = hoff * row + woff;
    if (start + count > total) return cudabench::api_result(cudaErrorInvalidValue);
    cudabench::DeviceAccess access;
    memcpy(dst, src->data + start, count);
    return cudaSuccess;
}
cudaError_t cudaMemcpy3D(const struct cudaMemcpy3DParms* p) {
    if (!p) return cudabench::api_result(cudaErrorInvalidValue);
    cudaArray* a = p->dstArray ? p->dstArray : p->srcArray;
    bool to_array = p->dstArray != nullptr;
    if (p->dstArray && p->srcArray) return cudabench::api_result(cudaErrorNotSupported);
    cudabench::DeviceAccess access;
    if (!a) {  // pitched memory to pitched memory: extent.width is in bytes
        const cudaPitchedPtr &s = p->srcPtr, &d = p->dstPtr;
        size_t sh = s.ysize ? s.ysize : p->extent.height, dh = d.ysize ? d.ysize : p->extent.height;
        for (size_t z = 0; z < (p->extent.depth ? p->extent.depth : 1); z++)
            for (size_t y = 0; y < (p->extent.height ? p->extent.height : 1); y++) {
                const char* sp = (const char*)s.ptr + ((p->srcPos.z + z) * sh + p->srcPos.y + y) * s.pitch + p->srcPos.x;
                char* dp = (char*)d.ptr + ((p->dstPos.z + z) * dh + p->dstPos.y + y) * d.pitch + p->dstPos.x;
                cudaError_t e = cudabench::checked_copy(dp, sp, p->extent.width, p->kind);
                if (e) return e;
            }
        return cudaSuccess;
    }
    const cudaPitchedPtr& host = to_array ? p->srcPtr : p->dstPtr;
    const cudaPos& pos = to_array ? p->dstPos : p->srcPos;
    size_t wbytes = p->extent.width * a->elem, row = a->width * a->elem, h = a->height ? a->height : 1;
    size_t hrows = host.ysize ? host.ysize : p->extent.height;
    for (size_t z = 0; z < (p->extent.depth ? p->extent.depth : 1); z++)
        for (size_t y = 0; y < (p->extent.height ? p->extent.height : 1); y++) {
            size_t ay = pos.y + y, az = pos.z + z;
            if (ay >= h || az >= (a->depth ? a->depth : 1) || pos.x * a->elem + wbytes > row)
                return cudabench::api_result(cudaErrorInvalidValue);
            unsigned char* cell = a->data + (az * h + ay) * row + pos.x * a->elem;
            char* hp = (char*)host.ptr + (z * hrows + y) * host.pitch;
            if (to_array) memcpy(cell, hp, wbytes);
            else memcpy(hp, cell, wbytes);
        }
    return cudaSuccess;
}
cudaError_t cudaMalloc3D(struct cudaPitchedPtr* p, struct cudaExtent ext) {
    if (!p) return cudabench::api_result(cudaErrorInvalidValue);
    size_t pitch = (ext.width + 255) & ~(size_t)255;
    void* d = nullptr;
    cudaError_t e = cudabench::device_alloc(&d, pitch * (ext.height ? ext.height : 1) * (ext.depth ? ext.depth : 1));
    if (e) return e;
    *p = make_cudaPitchedPtr(d, pitch, ext.width, ext.height);
    return cudaSuccess;
}
cudaError_t cudaMemset3D(struct cudaPitchedPtr p, int v, struct cudaExtent ext) {
    for (size_t z = 0; z < (ext.depth ? ext.depth : 1); z++) {
        cudaError_t e = cudaMemset2D((char*)p.ptr + z * p.pitch * (p.ysize ? p.ysize : ext.height), p.pitch, v, ext.width, ext.height);
        if (e) return e;
    }
    return cudaSuccess;
}
cudaError_t cudaMemcpy3DAsync(const struct cudaMemcpy3DParms* p, cudaStream_t) { return cudaMemcpy3D(p); }
cudaError_t cudaCreateTextureObject(cudaTextureObject_t* out, const struct cudaResourceDesc* res,
                                    const struct cudaTextureDesc* tex, const struct cudaResourceViewDesc*) {
    if (!out || !res || !tex) return cudabench::api_result(cudaErrorInvalidValue);
    cudabench::TexObject* o = new cudabench::TexObject();
    o->res = *res;
    o->tex = *tex;
    switch (res->resType) {
    case cudaResourceTypeArray: {
        cudaArray* a = res->res.array.array;
        if (!a) { delete o; return cudabench::api_result(cudaErrorInvalidValue); }
        o->desc = a->desc; o->data = a->data; o->elem = a->elem;
        o->width = a->width; o->height = a->height; o->depth = a->depth;
        o->pitch = a->width * a->elem;
        o->slice = o->pitch * (a->height ? a->height : 1);
        break;
    }
    case cudaResourceTypeLinear:
        o->desc = res->res.linear.desc; o->data = (const unsigned char*)res->res.linear.devPtr;
        o->elem = cudabench::channel_bytes(o->desc);
        o->width = o->elem ? res->res.linear.sizeInBytes / o->elem : 0;
        o->pitch = o->slice = o->width * o->elem;
        break;
    case cudaResourceTypePitch2D:
        o->desc = res->res.pitch2D.desc; o->data = (const unsigned char*)res->res.pitch2D.devPtr;
        o->elem = cudabench::channel_bytes(o->desc);
        o->width = res->res.pitch2D.width; o->height = res->res.pitch2D.height;
        o->pitch = res->res.pitch2D.pitchInBytes;
        o->slice = o->pitch * o->height;
        break;
    default:
        delete o;
        return cudabench::api_result(cudaErrorNotSupported);  // mipmapped arrays
    }
    if (!o->elem || !o->data) { delete o; return cudabench::api_result(cudaErrorInvalidValue); }
    *out = (cudaTextureObject_t)(uintptr_t)o;
    return cudaSuccess;
}
cudaError_t cudaDestroyTextureObject(cudaTextureObject_t t) {
    delete reinterpret_cast<cudabench::TexObject*>((uintptr_t)t);
    return cudaSuccess;
}
cudaError_t cudaGetTextureObjectResourceDesc(struct cudaResourceDesc* r, cudaTextureObject_t t) {
    if (!r || !t) return cudabench::api_result(cudaErrorInvalidValue);
    *r = cudabench::tex_of(t)->res;
    return cudaSuccess;
}
cudaError_t cudaGetTextureObjectTextureDesc(struct cudaTextureDesc* d, cudaTextureObject_t t) {
    if (!d || !t) return cudabench::api_result(cudaErrorInvalidValue);
    *d = cudabench::tex_of(t)->tex;
    return cudaSuccess;
}
}  // extern "C"

template <class T> static inline T tex1Dfetch(cudaTextureObject_t t, int i) {
    const cudabench::TexObject* o = cudabench::tex_of(t);
    // integer addressing, no filtering; outside the resource a fetch returns zero
    const unsigned char* p = (i < 0 || (size_t)i >= o->width) ? nullptr : o->data + (size_t)i * o->elem;
    if (!p) { T r; memset((void*)&r, 0, sizeof r); return r; }
    if (o->tex.readMode != cudaReadModeNormalizedFloat && !(o->desc.f == cudaChannelFormatKindFloat && o->desc.x == 16))
        return cudabench::tex_result<T>(o, p, nullptr);
    float f[4];
    cudabench::texel_floats(o, p, f);
    return cudabench::tex_result<T>(o, nullptr, f);
}
template <class T> static inline T tex1D(cudaTextureObject_t t, float x) { return cudabench::tex_fetch<T>(cudabench::tex_of(t), 1, x, 0, 0); }
template <class T> static inline T tex2D(cudaTextureObject_t t, float x, float y) { return cudabench::tex_fetch<T>(cudabench::tex_of(t), 2, x, y, 0); }
template <class T> static inline T tex3D(cudaTextureObject_t t, float x, float y, float z) { return cudabench::tex_fetch<T>(cudabench::tex_of(t), 3, x, y, z); }
template <class T> static inline T tex1DLod(cudaTextureObject_t t, float x, float) { return tex1D<T>(t, x); }
template <class T> static inline T tex2DLod(cudaTextureObject_t t, float x, float y, float) { return tex2D<T>(t, x, y); }
template <class T> static inline T tex3DLod(cudaTextureObject_t t, float x, float y, float z, float) { return tex3D<T>(t, x, y, z); }
template <class T> static inline void tex1Dfetch(T* r, cudaTextureObject_t t, int i) { *r = tex1Dfetch<T>(t, i); }
template <class T> static inline void tex1D(T* r, cudaTextureObject_t t, float x) { *r = tex1D<T>(t, x); }
template <class T> static inline void tex2D(T* r, cudaTextureObject_t t, float x, float y) { *r = tex2D<T>(t, x, y); }
template <class T> static inline void tex3D(T* r, cudaTextureObject_t t, float x, float y, float z) { *r = tex3D<T>(t, x, y, z); }

// ---- whole programs built as a library (build_cpu_program(as_library=True)) ----------------------------------------
// The rewrite renames the program's main to cudabench_user_main_ and exports cudabench_program_main, which calls it
// with whichever of the standard signatures it has.
extern "C" char** environ;
namespace cudabench {
static inline int call_program_main(int (*m)(), int, char**) { return m(); }
static inline int call_program_main(int (*m)(int, char**), int argc, char** argv) { return m(argc, argv); }
static inline int call_program_main(int (*m)(int, const char**), int argc, char** argv) { return m(argc, (const char**)argv); }
static inline int call_program_main(int (*m)(int, char**, char**), int argc, char** argv) { return m(argc, argv, environ); }
}  // namespace cudabench

#endif  // CUDABENCH_CUDA_SHIM_H
