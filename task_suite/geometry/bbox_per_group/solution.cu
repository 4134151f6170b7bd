#include <cuda_runtime.h>

#define SMEM_GROUPS 2048  // 4 keys each: 32 KB

__device__ __forceinline__ unsigned to_key(float v) {
    unsigned u = __float_as_uint(v);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float from_key(unsigned k) {
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

// keys[g * 4 + c]: c = 0, 1 min keys (start at 0xFFFFFFFF), c = 2, 3 max keys (start at 0)
__global__ void init_keys(unsigned* keys, int num_groups) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < num_groups * 4; i += gridDim.x * blockDim.x)
        keys[i] = (i & 3) < 2 ? 0xFFFFFFFFu : 0u;
}

__global__ void bbox_shared(const float* __restrict__ x, const float* __restrict__ y, const int* __restrict__ group,
                            unsigned* keys, int n, int num_groups) {
    __shared__ unsigned local[SMEM_GROUPS * 4];
    for (int i = threadIdx.x; i < num_groups * 4; i += blockDim.x) local[i] = (i & 3) < 2 ? 0xFFFFFFFFu : 0u;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        unsigned* b = local + 4 * group[i];
        unsigned kx = to_key(x[i]), ky = to_key(y[i]);
        atomicMin(&b[0], kx);
        atomicMin(&b[1], ky);
        atomicMax(&b[2], kx);
        atomicMax(&b[3], ky);
    }
    __syncthreads();
    for (int i = threadIdx.x; i < num_groups * 4; i += blockDim.x) {
        if ((i & 3) < 2) {
            if (local[i] != 0xFFFFFFFFu) atomicMin(&keys[i], local[i]);
        } else if (local[i] != 0u) {
            atomicMax(&keys[i], local[i]);
        }
    }
}

__global__ void bbox_global(const float* __restrict__ x, const float* __restrict__ y, const int* __restrict__ group,
                            unsigned* keys, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        unsigned* b = keys + 4 * (size_t)group[i];
        unsigned kx = to_key(x[i]), ky = to_key(y[i]);
        atomicMin(&b[0], kx);
        atomicMin(&b[1], ky);
        atomicMax(&b[2], kx);
        atomicMax(&b[3], ky);
    }
}

__global__ void decode(const unsigned* keys, float* bbox, int num_groups) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < num_groups * 4; i += gridDim.x * blockDim.x) {
        unsigned k = keys[i];
        if ((i & 3) < 2) bbox[i] = k == 0xFFFFFFFFu ? __int_as_float(0x7f800000) : from_key(k);
        else bbox[i] = k == 0u ? __int_as_float(0xff800000) : from_key(k);
    }
}

extern "C" void solve(const float* x, const float* y, const int* group, float* bbox, int n, int num_groups) {
    const int block = 256;
    unsigned* keys;
    cudaMalloc(&keys, sizeof(unsigned) * 4 * (size_t)num_groups);
    int ggrid = (num_groups * 4 + block - 1) / block;
    if (ggrid > 65535) ggrid = 65535;
    init_keys<<<ggrid, block>>>(keys, num_groups);
    int grid = (n + block - 1) / block;
    if (num_groups <= SMEM_GROUPS) {
        if (grid > 256) grid = 256;
        bbox_shared<<<grid, block>>>(x, y, group, keys, n, num_groups);
    } else {
        if (grid > 8192) grid = 8192;
        bbox_global<<<grid, block>>>(x, y, group, keys, n);
    }
    decode<<<ggrid, block>>>(keys, bbox, num_groups);
    cudaFree(keys);
}
