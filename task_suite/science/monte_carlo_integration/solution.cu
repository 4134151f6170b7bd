#include <cuda_runtime.h>

__global__ void mc_partial(const float* __restrict__ u, float* __restrict__ partial, int n) {
    __shared__ float warp_sums[32];
    float s = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float x = u[3 * (size_t)i], y = u[3 * (size_t)i + 1], z = u[3 * (size_t)i + 2];
        s += expf(-(x * x + y * y + z * z));
    }
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) warp_sums[warp] = s;
    __syncthreads();
    if (warp == 0) {
        s = lane < (int)(blockDim.x >> 5) ? warp_sums[lane] : 0.0f;
        for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
        if (lane == 0) partial[blockIdx.x] = s;
    }
}

__global__ void mc_final(const float* __restrict__ partial, float* __restrict__ result, int count, int n) {
    __shared__ double sh[256];
    double s = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
    sh[threadIdx.x] = s;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) sh[threadIdx.x] += sh[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) result[0] = (float)(sh[0] / n);
}

extern "C" void solve(const float* u, float* result, int n) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 1024) grid = 1024;
    float* partial = nullptr;
    cudaMalloc(&partial, sizeof(float) * grid);
    mc_partial<<<grid, block>>>(u, partial, n);
    mc_final<<<1, 256>>>(partial, result, grid, n);
    cudaFree(partial);
}
