// Template kernels: explicit arguments, deduced arguments, a functor, namespace-scope __shared__.
#include <cuda_runtime.h>

__shared__ float ns_scratch[128];

struct Square { __device__ float operator()(float v) const { return v * v; } };

template <typename T, int BS>
__global__ void scale(T* data, T factor, int n) {
    __shared__ T buf[BS];
    int i = blockIdx.x * BS + threadIdx.x;
    buf[threadIdx.x] = i < n ? data[i] : T(0);
    __syncthreads();
    if (i < n) data[i] = buf[threadIdx.x] * factor;
}

template <typename T, typename F>
__global__ void apply(T* data, F f, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    ns_scratch[threadIdx.x] = i < n ? data[i] : 0.0f;
    __syncthreads();
    if (i < n) data[i] = f(ns_scratch[threadIdx.x]);
}

extern "C" void solve(double* d, float* f, int n) {
    scale<double, 128><<<(n + 127) / 128, 128>>>(d, 3.0, n);
    apply<<<(n + 127) / 128, 128>>>(f, Square(), n);
}
