#include <cuda_runtime.h>

#define BLOCK 256

// One block per row: the row lives in shared memory; each level halves the approximation prefix.
__global__ void haar_kernel(const float* __restrict__ x, float* __restrict__ out, int n) {
    extern __shared__ float s[];  // n values: approximation in front, details written at their final place
    const float* row = x + (size_t)blockIdx.x * n;
    float* dst = out + (size_t)blockIdx.x * n;
    const float k = 0.70710678118654752f;
    for (int i = threadIdx.x; i < n; i += BLOCK) s[i] = row[i];
    __syncthreads();
    for (int len = n; len > 1; len >>= 1) {
        int half = len >> 1;
        float a[8], d[8];  // half / BLOCK <= 8 pairs per thread (n <= 4096)
        int c = 0;
        for (int i = threadIdx.x; i < half; i += BLOCK, ++c) {
            float e = s[2 * i], o = s[2 * i + 1];
            a[c] = (e + o) * k;
            d[c] = (e - o) * k;
        }
        __syncthreads();
        c = 0;
        for (int i = threadIdx.x; i < half; i += BLOCK, ++c) {
            s[i] = a[c];
            s[half + i] = d[c];
        }
        __syncthreads();
    }
    for (int i = threadIdx.x; i < n; i += BLOCK) dst[i] = s[i];
}

extern "C" void solve(const float* x, float* out, int B, int logn) {
    int n = 1 << logn;
    haar_kernel<<<B, BLOCK, sizeof(float) * n>>>(x, out, n);
}
