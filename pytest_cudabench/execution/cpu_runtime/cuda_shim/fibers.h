// cuda_shim/fibers.h -- fibers: one per CUDA thread, the block scheduler, thread orders.
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

namespace cudabench {

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

}  // namespace cudabench
