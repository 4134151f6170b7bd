// Kernel faults: a deadlock (two different __syncthreads), __trap(), a failed assert, a bad launch configuration.
#include <cuda_runtime.h>
#include <cassert>

__global__ void deadlock(float* out) {
    if (threadIdx.x < 32) {
        __syncthreads();
        out[threadIdx.x] = 1.0f;
    } else {
        out[threadIdx.x] = 2.0f;
        __syncthreads();
    }
}

__global__ void trapping(float* out) {
    if (blockIdx.x == 1 && threadIdx.x == 5) __trap();
    out[threadIdx.x] = 3.0f;
}

__global__ void asserting(const float* in, float* out) {
    assert(in[threadIdx.x] >= 0.0f);
    out[threadIdx.x] = in[threadIdx.x];
}

__global__ void after(float* out) { out[threadIdx.x] = 42.0f; }

extern "C" int solve(int mode, float* in, float* out) {
    if (mode == 0) deadlock<<<2, 128>>>(out);
    if (mode == 1) trapping<<<4, 64>>>(out);
    if (mode == 2) asserting<<<1, 64>>>(in, out);
    if (mode == 3) after<<<1, 2048>>>(out);
    if (mode == 4) after<<<1, 32, 1 << 20>>>(out);
    int first = (int)cudaGetLastError();
    after<<<1, 64>>>(out);  // a no-op after a sticky error
    int sync = (int)cudaDeviceSynchronize();
    return first * 1000 + sync;
}
