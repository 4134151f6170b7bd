#include <cuda_runtime.h>
#include <stdint.h>

__global__ void quantize_rows(const float* __restrict__ x, int8_t* __restrict__ q, float* __restrict__ scale,
                              int cols) {
    __shared__ float partial[32];
    const float* row = x + (size_t)blockIdx.x * cols;
    int8_t* out = q + (size_t)blockIdx.x * cols;
    float m = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, fabsf(row[c]));
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) partial[warp] = m;
    __syncthreads();
    m = lane < warps ? partial[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    float s = m > 0.0f ? m / 127.0f : 1.0f;
    if (threadIdx.x == 0) scale[blockIdx.x] = s;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        float v = rintf(row[c] / s);
        out[c] = (int8_t)fminf(fmaxf(v, -127.0f), 127.0f);
    }
}

extern "C" void solve(const float* x, int8_t* q, float* scale, int rows, int cols) {
    int block = cols >= 1024 ? 256 : 128;
    quantize_rows<<<rows, block>>>(x, q, scale, cols);
}
