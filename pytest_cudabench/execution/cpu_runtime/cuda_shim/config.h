// cuda_shim/config.h -- configuration (the target architecture's limits) and the error state.
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

namespace cudabench {

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

}  // namespace cudabench
