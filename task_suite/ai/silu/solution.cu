#include <cuda_runtime.h>

__global__ void silu_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float v = x[i];
        y[i] = v / (1.0f + expf(-v));
    }
}

extern "C" void solve(const float* x, float* y, int n) {
    int grid = (n + 255) / 256;
    if (grid > 8192) grid = 8192;
    silu_kernel<<<grid, 256>>>(x, y, n);
}
