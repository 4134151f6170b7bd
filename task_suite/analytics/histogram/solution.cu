#include <cuda_runtime.h>

__global__ void histogram_shared(const int* __restrict__ x, int* bins, int n, int num_bins) {
    extern __shared__ int local[];
    for (int b = threadIdx.x; b < num_bins; b += blockDim.x) local[b] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        atomicAdd(&local[x[i]], 1);
    __syncthreads();
    for (int b = threadIdx.x; b < num_bins; b += blockDim.x)
        if (local[b]) atomicAdd(&bins[b], local[b]);
}

__global__ void histogram_global(const int* __restrict__ x, int* bins, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        atomicAdd(&bins[x[i]], 1);
}

extern "C" void solve(const int* x, int* bins, int n, int num_bins) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 1024) grid = 1024;
    cudaMemset(bins, 0, sizeof(int) * (size_t)num_bins);
    size_t smem = sizeof(int) * (size_t)num_bins;
    if (smem <= 48 * 1024) histogram_shared<<<grid, block, smem>>>(x, bins, n, num_bins);
    else histogram_global<<<grid, block>>>(x, bins, n);
}
