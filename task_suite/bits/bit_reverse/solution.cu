#include <cuda_runtime.h>

__global__ void bit_reverse_kernel(const unsigned* __restrict__ x, unsigned* __restrict__ y, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) y[i] = __brev(x[i]);
}

extern "C" void solve(const unsigned* x, unsigned* y, int n) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 65535) grid = 65535;
    bit_reverse_kernel<<<grid, block>>>(x, y, n);
}
