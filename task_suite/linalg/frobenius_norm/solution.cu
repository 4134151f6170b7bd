#include <cuda_runtime.h>
#include <math.h>

__global__ void sumsq_kernel(const float* __restrict__ A, double* acc, long long total) {
    __shared__ double warp_sums[32];
    double v = 0.0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        double a = A[i];
        v += a * a;
    }
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int warps = (blockDim.x + 31) >> 5;
        v = lane < warps ? warp_sums[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
        if (lane == 0) atomicAdd(acc, v);
    }
}

__global__ void finish_kernel(const double* acc, float* out) { out[0] = (float)sqrt(*acc); }

extern "C" void solve(const float* A, float* out, int rows, int cols) {
    long long total = (long long)rows * cols;
    double* acc;
    cudaMalloc(&acc, sizeof(double));
    cudaMemset(acc, 0, sizeof(double));
    long long grid = (total + 255) / 256;
    if (grid > 1024) grid = 1024;
    sumsq_kernel<<<(int)grid, 256>>>(A, acc, total);
    finish_kernel<<<1, 1>>>(acc, out);
    cudaFree(acc);
}
