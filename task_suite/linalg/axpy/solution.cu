#include <cuda_runtime.h>

__global__ void axpy_kernel(const float* __restrict__ x, float* __restrict__ y, float alpha, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        y[i] = fmaf(alpha, x[i], y[i]);
}

extern "C" void solve(const float* x, float* y, float alpha, int n) {
    int grid = (n + 255) / 256;
    if (grid > 8192) grid = 8192;
    axpy_kernel<<<grid, 256>>>(x, y, alpha, n);
}
