#include <cuda_runtime.h>

__global__ void relu_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        y[i] = fmaxf(x[i], 0.0f);
}

extern "C" void solve(const float* x, float* y, int n) {
    int grid = (n + 255) / 256;
    if (grid > 8192) grid = 8192;
    relu_kernel<<<grid, 256>>>(x, y, n);
}
