#include <cuda_runtime.h>

__global__ void sdot_kernel(const float* __restrict__ x, const float* __restrict__ y, float* out, int n) {
    __shared__ float warp_sums[32];
    float v = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) v = fmaf(x[i], y[i], v);
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int warps = (blockDim.x + 31) >> 5;
        v = lane < warps ? warp_sums[lane] : 0.0f;
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
        if (lane == 0) atomicAdd(out, v);
    }
}

extern "C" void solve(const float* x, const float* y, float* out, int n) {
    int grid = (n + 255) / 256;
    if (grid > 1024) grid = 1024;
    cudaMemset(out, 0, sizeof(float));
    sdot_kernel<<<grid, 256>>>(x, y, out, n);
}
