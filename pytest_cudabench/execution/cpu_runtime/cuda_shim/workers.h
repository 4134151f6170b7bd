// cuda_shim/workers.h -- the worker pool and kernel launches (launch limits, cudabench::Launcher).
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

namespace cudabench {

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

}  // namespace cudabench
