#include <cuda_runtime.h>
#include <cfloat>

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

__device__ float block_max(float v) {
    __shared__ float partial[32];
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = lane < warps ? partial[lane] : -FLT_MAX;
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    __syncthreads();
    return v;
}

__global__ void cross_entropy_rows(const float* __restrict__ logits, const int* __restrict__ labels,
                                   float* __restrict__ loss, int classes) {
    const float* row = logits + (size_t)blockIdx.x * classes;
    float m = -FLT_MAX;
    for (int c = threadIdx.x; c < classes; c += blockDim.x) m = fmaxf(m, row[c]);
    m = block_max(m);
    float s = 0.0f;
    for (int c = threadIdx.x; c < classes; c += blockDim.x) s += expf(row[c] - m);
    s = block_sum(s);
    if (threadIdx.x == 0) loss[blockIdx.x] = (m - row[labels[blockIdx.x]]) + logf(s);
}

extern "C" void solve(const float* logits, const int* labels, float* loss, int rows, int classes) {
    int block = classes >= 1024 ? 256 : 128;
    cross_entropy_rows<<<rows, block>>>(logits, labels, loss, classes);
}
