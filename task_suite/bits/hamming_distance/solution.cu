#include <cuda_runtime.h>

__global__ void hamming_kernel(const unsigned* __restrict__ db, const unsigned* __restrict__ q, int* __restrict__ dist,
                               int n, int w) {
    __shared__ unsigned sq[64];
    for (int j = threadIdx.x; j < w; j += blockDim.x) sq[j] = q[j];
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        const unsigned* code = db + (size_t)i * w;
        int d = 0;
        for (int j = 0; j < w; ++j) d += __popc(code[j] ^ sq[j]);
        dist[i] = d;
    }
}

extern "C" void solve(const unsigned* db, const unsigned* q, int* dist, int n, int w) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 65535) grid = 65535;
    hamming_kernel<<<grid, block>>>(db, q, dist, n, w);
}
