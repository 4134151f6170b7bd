// Row softmax: one block per row, dynamic shared memory for the block reductions.
#include <cuda_runtime.h>
#include <cfloat>
#include <math.h>

__global__ void softmax_rows(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    extern __shared__ float red[];
    int row = blockIdx.x;
    const float* xr = x + (size_t)row * cols;
    float m = -FLT_MAX;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, xr[c]);
    red[threadIdx.x] = m;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + s]);
        __syncthreads();
    }
    m = red[0];
    __syncthreads();
    float sum = 0.f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) sum += __expf(xr[c] - m);
    red[threadIdx.x] = sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
        __syncthreads();
    }
    float inv = 1.0f / red[0];
    for (int c = threadIdx.x; c < cols; c += blockDim.x) y[(size_t)row * cols + c] = __expf(xr[c] - m) * inv;
}

extern "C" void solve(const float* x, float* y, int rows, int cols) {
    int threads = 128;
    softmax_rows<<<rows, threads, threads * sizeof(float)>>>(x, y, rows, cols);
    cudaDeviceSynchronize();
}
