// cuda_shim/runtime_api.h -- the CUDA runtime API on host memory, and the C++ overloads the toolkit declares only for nvcc.
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

extern "C" {
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
