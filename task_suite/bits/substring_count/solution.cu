#include <cuda_runtime.h>

#define BLOCK 256
#define SLICE 2048  // start positions per block

__global__ void substring_count_kernel(const unsigned char* __restrict__ text, const unsigned char* __restrict__ pattern,
                                       int* count, long long n, int m) {
    __shared__ unsigned char pat[32];
    __shared__ unsigned char buf[SLICE + 32];
    __shared__ int partial[BLOCK / 32];
    long long positions = n - m + 1;
    if (threadIdx.x < m) pat[threadIdx.x] = pattern[threadIdx.x];
    int total = 0;
    for (long long base = (long long)blockIdx.x * SLICE; base < positions; base += (long long)gridDim.x * SLICE) {
        __syncthreads();
        for (int k = threadIdx.x; k < SLICE + m - 1; k += BLOCK)
            buf[k] = base + k < n ? text[base + k] : 0;
        __syncthreads();
        for (int k = threadIdx.x; k < SLICE && base + k < positions; k += BLOCK) {
            int j = 0;
            while (j < m && buf[k + j] == pat[j]) ++j;
            total += j == m;
        }
    }
    for (int o = 16; o > 0; o >>= 1) total += __shfl_down_sync(0xffffffffu, total, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) partial[warp] = total;
    __syncthreads();
    if (warp == 0) {
        total = lane < BLOCK / 32 ? partial[lane] : 0;
        for (int o = 16; o > 0; o >>= 1) total += __shfl_down_sync(0xffffffffu, total, o);
        if (lane == 0 && total) atomicAdd(count, total);
    }
}

extern "C" void solve(const unsigned char* text, const unsigned char* pattern, int* count, int n, int m) {
    long long positions = (long long)n - m + 1;
    long long grid = (positions + SLICE - 1) / SLICE;
    if (grid > 4096) grid = 4096;
    cudaMemset(count, 0, sizeof(int));
    substring_count_kernel<<<(int)grid, BLOCK>>>(text, pattern, count, n, m);
}
