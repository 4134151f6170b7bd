// cuda_shim/harness.h -- the harness interface (cudabench_cpu_*; see cpu_runtime/__init__.py), device-side assert.
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

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

}  // extern "C"
