#include <cuda_runtime.h>

__global__ void fnv1a_kernel(const unsigned char* __restrict__ data, unsigned* __restrict__ hashes, int num, int len) {
    for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < num; r += gridDim.x * blockDim.x) {
        const unsigned char* p = data + (size_t)r * len;
        unsigned h = 2166136261u;
        int i = 0;
        if (((size_t)p & 3) == 0) {
            for (; i + 4 <= len; i += 4) {
                unsigned w = *(const unsigned*)(p + i);
                h = (h ^ (w & 0xFF)) * 16777619u;
                h = (h ^ ((w >> 8) & 0xFF)) * 16777619u;
                h = (h ^ ((w >> 16) & 0xFF)) * 16777619u;
                h = (h ^ (w >> 24)) * 16777619u;
            }
        }
        for (; i < len; ++i) h = (h ^ p[i]) * 16777619u;
        hashes[r] = h;
    }
}

extern "C" void solve(const unsigned char* data, unsigned* hashes, int num, int len) {
    const int block = 128;
    int grid = (num + block - 1) / block;
    if (grid > 65535) grid = 65535;
    fnv1a_kernel<<<grid, block>>>(data, hashes, num, len);
}
