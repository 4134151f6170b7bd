// __half and __nv_bfloat16 arithmetic and conversions.
#include <cuda_fp16.h>
#include <cuda_bf16.h>

__global__ void half_ops(const __half* a, const __half* b, __half* c, const __nv_bfloat16* x, float* y,
                         __half2* pairs, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    __half t = __hmul(a[i], b[i]);
    c[i] = __hadd(t, a[i]) - __float2half(0.5f);
    __nv_bfloat16 v = x[i] * __float2bfloat16(2.0f);
    y[i] = __bfloat162float(v) + __half2float(hsqrt(__habs(a[i])));
    if (i < n / 2) pairs[i] = __hmul2(pairs[i], __floats2half2_rn(2.0f, 3.0f));
}

extern "C" void solve(const __half* a, const __half* b, __half* c, const __nv_bfloat16* x, float* y,
                      __half2* pairs, int n) {
    half_ops<<<(n + 63) / 64, 64>>>(a, b, c, x, y, pairs, n);
}
