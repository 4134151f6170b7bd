#include <cuda_runtime.h>

__global__ void horner_kernel(const float* __restrict__ x, const float* __restrict__ coef, float* __restrict__ y,
                              int n, int ncoef) {
    __shared__ float c[64];
    for (int k = threadIdx.x; k < ncoef; k += blockDim.x) c[k] = coef[k];
    __syncthreads();
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float v = x[i];
        float acc = c[ncoef - 1];
        for (int k = ncoef - 2; k >= 0; --k) acc = fmaf(acc, v, c[k]);
        y[i] = acc;
    }
}

extern "C" void solve(const float* x, const float* coef, float* y, int n, int ncoef) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 4096) grid = 4096;
    horner_kernel<<<grid, block>>>(x, coef, y, n, ncoef);
}
