#include <cuda_runtime.h>

// Transposed direct form II, one thread per channel; consecutive threads touch consecutive addresses each step.
__global__ void biquad_kernel(const float* __restrict__ x, const float* __restrict__ coef, float* __restrict__ y,
                              int T, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float b0 = coef[5 * c], b1 = coef[5 * c + 1], b2 = coef[5 * c + 2], a1 = coef[5 * c + 3], a2 = coef[5 * c + 4];
    float s1 = 0.0f, s2 = 0.0f;
    for (int t = 0; t < T; ++t) {
        size_t i = (size_t)t * C + c;
        float xt = x[i];
        float yt = b0 * xt + s1;
        s1 = b1 * xt - a1 * yt + s2;
        s2 = b2 * xt - a2 * yt;
        y[i] = yt;
    }
}

extern "C" void solve(const float* x, const float* coef, float* y, int T, int C) {
    const int block = 128;
    biquad_kernel<<<(C + block - 1) / block, block>>>(x, coef, y, T, C);
}
