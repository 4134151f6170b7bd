#include <cuda_runtime.h>

#define BLOCK 128

// Each block computes BLOCK consecutive outputs; it stages the taps (reversed) and its input span in shared memory.
__global__ void decimate_kernel(const float* __restrict__ x, const float* __restrict__ h, float* __restrict__ y,
                                int M, int D, int K) {
    extern __shared__ float smem[];
    float* taps = smem;           // K values, reversed: taps[j] = h[K - 1 - j]
    float* span = smem + K;       // BLOCK * D + K - 1 values
    long long m0 = (long long)blockIdx.x * BLOCK;
    long long start = m0 * D;
    long long n = (long long)(M - 1) * D + K;
    int len = BLOCK * D + K - 1;
    for (int j = threadIdx.x; j < K; j += BLOCK) taps[j] = h[K - 1 - j];
    for (int j = threadIdx.x; j < len; j += BLOCK) {
        long long g = start + j;
        span[j] = g < n ? x[g] : 0.0f;
    }
    __syncthreads();
    long long m = m0 + threadIdx.x;
    if (m >= M) return;
    const float* s = span + threadIdx.x * D;
    float acc = 0.0f;
    for (int j = 0; j < K; ++j) acc = fmaf(taps[j], s[j], acc);
    y[m] = acc;
}

extern "C" void solve(const float* x, const float* h, float* y, int M, int D, int K) {
    size_t smem = sizeof(float) * (size_t)(K + BLOCK * D + K - 1);
    decimate_kernel<<<(M + BLOCK - 1) / BLOCK, BLOCK, smem>>>(x, h, y, M, D, K);
}
