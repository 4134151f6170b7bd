#include <cuda_runtime.h>

// one warp per row, 8 warps per block
__global__ void gemv_kernel(const float* __restrict__ A, const float* __restrict__ x, float* __restrict__ y,
                            int M, int N) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (row >= M) return;  // whole warps leave together
    const float* a = A + (size_t)row * N;
    float acc = 0.0f;
    for (int j = lane; j < N; j += 32) acc += a[j] * x[j];
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
    if (lane == 0) y[row] = acc;
}

extern "C" void solve(const float* A, const float* x, float* y, int M, int N) {
    int rows_per_block = 8;
    gemv_kernel<<<(M + rows_per_block - 1) / rows_per_block, 32 * rows_per_block>>>(A, x, y, M, N);
}
