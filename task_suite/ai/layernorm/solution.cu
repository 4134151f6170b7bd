#include <cuda_runtime.h>

__device__ float block_sum(float v) {
    __shared__ float partial[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = lane < warps ? partial[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();  // partial[] is reused by the next call
    return v;
}

__global__ void layernorm_rows(const float* __restrict__ x, const float* __restrict__ gamma,
                               const float* __restrict__ beta, float* __restrict__ y, int cols) {
    const float* row = x + (size_t)blockIdx.x * cols;
    float* out = y + (size_t)blockIdx.x * cols;
    float s = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) s += row[c];
    float mu = block_sum(s) / cols;
    float q = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        float d = row[c] - mu;
        q += d * d;
    }
    float inv = rsqrtf(block_sum(q) / cols + 1e-5f);
    for (int c = threadIdx.x; c < cols; c += blockDim.x) out[c] = (row[c] - mu) * inv * gamma[c] + beta[c];
}

extern "C" void solve(const float* x, const float* gamma, const float* beta, float* y, int rows, int cols) {
    int block = cols >= 1024 ? 256 : 128;
    layernorm_rows<<<rows, block>>>(x, gamma, beta, y, cols);
}
