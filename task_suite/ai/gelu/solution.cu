#include <cuda_runtime.h>

__global__ void gelu_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
    const float inv_sqrt2 = 0.70710678118654752f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + erff(v * inv_sqrt2));
    }
}

extern "C" void solve(const float* x, float* y, int n) {
    int grid = (n + 255) / 256;
    if (grid > 8192) grid = 8192;
    gelu_kernel<<<grid, 256>>>(x, y, n);
}
