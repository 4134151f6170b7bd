#include <cuda_runtime.h>

__device__ __forceinline__ float ncdf(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }

__global__ void black_scholes_kernel(const float* __restrict__ price, const float* __restrict__ strike,
                                     const float* __restrict__ years, float* __restrict__ call,
                                     float* __restrict__ put, float r, float sigma, int n) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float S = price[i], K = strike[i], T = years[i];
        float sqrt_t = sqrtf(T);
        float vol = sigma * sqrt_t;
        float d1 = (logf(S / K) + (r + 0.5f * sigma * sigma) * T) / vol;
        float d2 = d1 - vol;
        float disc = K * expf(-r * T);
        call[i] = S * ncdf(d1) - disc * ncdf(d2);
        put[i] = disc * ncdf(-d2) - S * ncdf(-d1);
    }
}

extern "C" void solve(const float* price, const float* strike, const float* years, float* call, float* put,
                      float r, float sigma, int n) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 8192) grid = 8192;
    black_scholes_kernel<<<grid, block>>>(price, strike, years, call, put, r, sigma, n);
}
