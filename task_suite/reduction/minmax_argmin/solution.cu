#include <cuda_runtime.h>

// Order-preserving map of float bits to unsigned (no NaNs): a < b as floats iff key(a) < key(b).
__device__ __forceinline__ unsigned ordered(float v) {
    unsigned u = __float_as_uint(v);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float unordered(unsigned k) {
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

// keys[0]: min as (ordered value << 32 | index), atomicMin; keys[1]: max as (ordered value << 32 | ~index), atomicMax.
__global__ void minmax_kernel(const float* __restrict__ x, int n, unsigned long long* keys) {
    unsigned long long kmin = ~0ull, kmax = 0ull;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        unsigned long long o = (unsigned long long)ordered(x[i]) << 32;
        unsigned long long a = o | (unsigned)i, b = o | (0xffffffffu - (unsigned)i);
        kmin = a < kmin ? a : kmin;
        kmax = b > kmax ? b : kmax;
    }
    for (int off = 16; off > 0; off >>= 1) {
        unsigned long long a = __shfl_down_sync(0xffffffffu, kmin, off);
        unsigned long long b = __shfl_down_sync(0xffffffffu, kmax, off);
        kmin = a < kmin ? a : kmin;
        kmax = b > kmax ? b : kmax;
    }
    __shared__ unsigned long long smin[32], smax[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) { smin[warp] = kmin; smax[warp] = kmax; }
    __syncthreads();
    if (warp == 0) {
        kmin = lane < warps ? smin[lane] : ~0ull;
        kmax = lane < warps ? smax[lane] : 0ull;
        for (int off = 16; off > 0; off >>= 1) {
            unsigned long long a = __shfl_down_sync(0xffffffffu, kmin, off);
            unsigned long long b = __shfl_down_sync(0xffffffffu, kmax, off);
            kmin = a < kmin ? a : kmin;
            kmax = b > kmax ? b : kmax;
        }
        if (lane == 0) {
            atomicMin(&keys[0], kmin);
            atomicMax(&keys[1], kmax);
        }
    }
}

__global__ void decode_kernel(const unsigned long long* keys, float* minmax, int* argminmax) {
    minmax[0] = unordered((unsigned)(keys[0] >> 32));
    minmax[1] = unordered((unsigned)(keys[1] >> 32));
    argminmax[0] = (int)(unsigned)(keys[0] & 0xffffffffu);
    argminmax[1] = (int)(0xffffffffu - (unsigned)(keys[1] & 0xffffffffu));
}

extern "C" void solve(const float* x, float* minmax, int* argminmax, int n) {
    unsigned long long* keys;
    cudaMalloc(&keys, 2 * sizeof(unsigned long long));
    cudaMemset(keys, 0xff, sizeof(unsigned long long));
    cudaMemset(keys + 1, 0, sizeof(unsigned long long));
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 1024) grid = 1024;
    minmax_kernel<<<grid, block>>>(x, n, keys);
    decode_kernel<<<1, 1>>>(keys, minmax, argminmax);
    cudaFree(keys);
}
