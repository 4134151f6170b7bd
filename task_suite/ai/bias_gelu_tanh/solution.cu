#include <cuda_runtime.h>

__global__ void bias_gelu_kernel(const float* __restrict__ x, const float* __restrict__ bias,
                                 float* __restrict__ y, long long total, int cols) {
    const float k = 0.7978845608028654f;  // sqrt(2/pi)
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        float u = x[i] + bias[i % cols];
        y[i] = 0.5f * u * (1.0f + tanhf(k * (u + 0.044715f * u * u * u)));
    }
}

extern "C" void solve(const float* x, const float* bias, float* y, int rows, int cols) {
    long long total = (long long)rows * cols;
    long long grid = (total + 255) / 256;
    if (grid > 16384) grid = 16384;
    bias_gelu_kernel<<<(int)grid, 256>>>(x, bias, y, total, cols);
}
