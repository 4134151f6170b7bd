#include <cuda_runtime.h>

__global__ void popcount_kernel(const unsigned* __restrict__ x, int* __restrict__ counts, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        counts[i] = __popc(x[i]);
}

extern "C" void solve(const unsigned* x, int* counts, int n) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 65535) grid = 65535;
    popcount_kernel<<<grid, block>>>(x, counts, n);
}
