// Common idioms of model-written answers: __constant__ + cudaMemcpyToSymbol, cudaFuncSetAttribute, occupancy
// queries, CUDA's global min/max, a guarded double atomicAdd fallback, __device__ globals, math_constants.h,
// <algorithm>, aligned extern __shared__ bytes reinterpreted as float4.
#include <cuda_runtime.h>
#include <device_launch_parameters.h>
#include <math_constants.h>
#include <algorithm>
#include <cstdint>

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ < 600
__device__ double atomicAdd(double* address, double val) {
    unsigned long long* p = (unsigned long long*)address;
    unsigned long long old = *p, assumed;
    do {
        assumed = old;
        old = atomicCAS(p, assumed, __double_as_longlong(val + __longlong_as_double(assumed)));
    } while (assumed != old);
    return __longlong_as_double(old);
}
#endif

__constant__ float c_coeffs[4];
__device__ int d_counter;

__global__ void poly(const float* __restrict__ x, float* y, double* total, int n) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    float4* tile = reinterpret_cast<float4*>(smem_raw);
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? __ldg(x + i) : 0.0f;
    float r = c_coeffs[0] + v * (c_coeffs[1] + v * (c_coeffs[2] + v * c_coeffs[3]));
    tile[threadIdx.x] = make_float4(r, r, r, r);
    __syncthreads();
    if (i < n) {
        float4 t = tile[threadIdx.x];
        y[i] = max(0, min(t.x, CUDART_INF_F));  // mixed int/float min/max as in CUDA
        atomicAdd(total, (double)t.y);
        atomicAdd(&d_counter, 1);
    }
}

extern "C" int solve(const float* x, float* y, double* total, int n) {
    const float coeffs[4] = {1.0f, -2.0f, 0.5f, 0.25f};
    cudaMemcpyToSymbol(c_coeffs, coeffs, sizeof(coeffs));
    int zero = 0;
    cudaMemcpyToSymbol(d_counter, &zero, sizeof(int));
    cudaMemset(total, 0, sizeof(double));
    int min_grid = 0, block = 0;
    cudaOccupancyMaxPotentialBlockSize(&min_grid, &block, poly, 0, 0);
    block = std::min(block, 128);
    size_t smem = block * sizeof(float4);
    cudaFuncSetAttribute(poly, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    poly<<<(n + block - 1) / block, block, smem>>>(x, y, total, n);
    int count = -1;
    cudaMemcpyFromSymbol(&count, d_counter, sizeof(int));
    return count;
}
