// cuda_shim/device_memory.h -- device memory bookkeeping (registered and allocated ranges).
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

namespace cudabench {

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

}  // namespace cudabench
