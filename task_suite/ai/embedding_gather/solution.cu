#include <cuda_runtime.h>

__global__ void embedding_kernel(const float* __restrict__ table, const int* __restrict__ ids,
                                 float* __restrict__ out, int D, int T) {
    for (int t = blockIdx.x; t < T; t += gridDim.x) {
        const float* src = table + (size_t)ids[t] * D;
        float* dst = out + (size_t)t * D;
        for (int j = threadIdx.x; j < D; j += blockDim.x) dst[j] = src[j];
    }
}

extern "C" void solve(const float* table, const int* ids, float* out, int V, int D, int T) {
    int block = D >= 256 ? 256 : (D >= 128 ? 128 : 64);
    int grid = T < 65535 ? T : 65535;
    embedding_kernel<<<grid, block>>>(table, ids, out, D, T);
}
