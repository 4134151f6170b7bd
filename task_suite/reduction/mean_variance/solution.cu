#include <cuda_runtime.h>

__device__ double block_sum(double v) {
    __shared__ double partial[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = 0.0;
    if (warp == 0) {
        v = lane < warps ? partial[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    }
    __syncthreads();
    return v;  // valid in thread 0
}

// Pass 1 (mean == nullptr): block sums of x; pass 2: block sums of (x - mean)^2. Partials go to part[blockIdx.x].
__global__ void partial_sums(const float* __restrict__ x, int n, const double* __restrict__ mean, double* part) {
    double m = mean ? *mean : 0.0;
    double s = 0.0;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        double v = (double)x[i];
        if (mean) { v -= m; v *= v; }
        s += v;
    }
    s = block_sum(s);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

// One block adds the partials (fixed order) and divides by n; writes out[slot] (double) and stats[slot] (float).
__global__ void finish(const double* __restrict__ part, int count, int n, double* out, float* stats, int slot) {
    double s = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) s += part[i];
    s = block_sum(s);
    if (threadIdx.x == 0) {
        out[slot] = s / n;
        stats[slot] = (float)(s / n);
    }
}

extern "C" void solve(const float* x, float* stats, int n) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 1024) grid = 1024;
    double* buf;  // [0..grid): partials, [grid]: mean, [grid + 1]: variance
    cudaMalloc(&buf, sizeof(double) * (size_t)(grid + 2));
    partial_sums<<<grid, block>>>(x, n, nullptr, buf);
    finish<<<1, block>>>(buf, grid, n, buf + grid, stats, 0);
    partial_sums<<<grid, block>>>(x, n, buf + grid, buf);
    finish<<<1, block>>>(buf, grid, n, buf + grid, stats, 1);
    cudaFree(buf);
}
