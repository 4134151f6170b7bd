#include <cuda_runtime.h>

__global__ void mc_call_kernel(const float* __restrict__ spot, const float* __restrict__ strike,
                               const float* __restrict__ years, const float* __restrict__ z,
                               float* __restrict__ price, float r, float sigma, int paths) {
    __shared__ float warp_sums[32];
    int opt = blockIdx.x;
    float S = spot[opt], K = strike[opt], T = years[opt];
    float drift = (r - 0.5f * sigma * sigma) * T;
    float vol = sigma * sqrtf(T);
    const float* row = z + (size_t)opt * paths;
    float s = 0.0f;
    for (int p = threadIdx.x; p < paths; p += blockDim.x) s += fmaxf(S * expf(drift + vol * row[p]) - K, 0.0f);
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) warp_sums[warp] = s;
    __syncthreads();
    if (warp == 0) {
        s = lane < (int)(blockDim.x >> 5) ? warp_sums[lane] : 0.0f;
        for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
        if (lane == 0) price[opt] = expf(-r * T) * (s / (float)paths);
    }
}

extern "C" void solve(const float* spot, const float* strike, const float* years, const float* z, float* price,
                      float r, float sigma, int n_opt, int paths) {
    mc_call_kernel<<<n_opt, 256>>>(spot, strike, years, z, price, r, sigma, paths);
}
