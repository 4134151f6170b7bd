#include <cuda_runtime.h>

#define SMEM_GROUPS 4096  // 32 KB of private 64-bit sums per block

__global__ void group_sum_shared(const int* __restrict__ keys, const int* __restrict__ vals, long long* sums, int n,
                                 int num_groups) {
    __shared__ unsigned long long local[SMEM_GROUPS];
    for (int g = threadIdx.x; g < num_groups; g += blockDim.x) local[g] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        atomicAdd(&local[keys[i]], (unsigned long long)(long long)vals[i]);
    __syncthreads();
    for (int g = threadIdx.x; g < num_groups; g += blockDim.x)
        if (local[g]) atomicAdd((unsigned long long*)&sums[g], local[g]);
}

__global__ void group_sum_global(const int* __restrict__ keys, const int* __restrict__ vals, long long* sums, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        atomicAdd((unsigned long long*)&sums[keys[i]], (unsigned long long)(long long)vals[i]);
}

extern "C" void solve(const int* keys, const int* vals, long long* sums, int n, int num_groups) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    cudaMemset(sums, 0, sizeof(long long) * (size_t)num_groups);
    if (num_groups <= SMEM_GROUPS) {
        if (grid > 512) grid = 512;
        group_sum_shared<<<grid, block>>>(keys, vals, sums, n, num_groups);
    } else {
        if (grid > 4096) grid = 4096;
        group_sum_global<<<grid, block>>>(keys, vals, sums, n);
    }
}
