// cuda_shim/host_access.h -- host access to device memory (cudabench_cpu_protect); allocations, copies and memsets under it.
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

namespace cudabench {

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

}  // namespace cudabench
