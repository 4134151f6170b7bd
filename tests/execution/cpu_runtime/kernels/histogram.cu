// Histogram with shared-memory atomics, merged into global memory with atomicAdd.
#include <cuda_runtime.h>
#define NBINS 64

__global__ void histogram(const int* data, unsigned int* hist, int n) {
    __shared__ unsigned int local[NBINS];
    for (int b = threadIdx.x; b < NBINS; b += blockDim.x) local[b] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        atomicAdd(&local[data[i] % NBINS], 1u);
    __syncthreads();
    for (int b = threadIdx.x; b < NBINS; b += blockDim.x)
        if (local[b]) atomicAdd(&hist[b], local[b]);
}

extern "C" void solve(const int* data, unsigned int* hist, int n) {
    cudaMemset(hist, 0, NBINS * sizeof(unsigned int));
    histogram<<<8, 96>>>(data, hist, n);
    cudaDeviceSynchronize();
}
