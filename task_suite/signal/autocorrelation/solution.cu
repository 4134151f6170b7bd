#include <cuda_runtime.h>

#define CHUNK 1024
#define BLOCK 256

__global__ void autocorr_kernel(const float* __restrict__ x, float* __restrict__ r, int n, int nlag) {
    extern __shared__ float s[];  // CHUNK + nlag - 1 samples
    int b = blockIdx.y;
    const float* row = x + (size_t)b * n;
    int c0 = blockIdx.x * CHUNK;
    int len = min(CHUNK, n - c0);              // samples i owned by this block
    int total = CHUNK + nlag - 1;
    for (int t = threadIdx.x; t < total; t += BLOCK) {
        int g = c0 + t;
        s[t] = g < n ? row[g] : 0.0f;
    }
    __syncthreads();
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = BLOCK >> 5;
    for (int k = warp; k < nlag; k += warps) {
        float acc = 0.0f;
        for (int i = lane; i < len; i += 32) acc = fmaf(s[i], s[i + k], acc);  // zeros past the row end
        for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
        if (lane == 0) atomicAdd(&r[(size_t)b * nlag + k], acc);
    }
}

extern "C" void solve(const float* x, float* r, int B, int n, int nlag) {
    cudaMemset(r, 0, sizeof(float) * (size_t)B * nlag);
    dim3 grid((n + CHUNK - 1) / CHUNK, B);
    size_t smem = sizeof(float) * (CHUNK + nlag - 1);
    autocorr_kernel<<<grid, BLOCK, smem>>>(x, r, n, nlag);
}
