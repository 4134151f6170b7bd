#include <cuda_runtime.h>

#define MAXN 2048
#define THREADS 256

__global__ void stft_kernel(const float* __restrict__ x, float* __restrict__ power, int logn) {
    __shared__ float2 s[MAXN];
    int n = 1 << logn;
    int f = blockIdx.x;
    const float* frame = x + (size_t)f * (n / 2);
    for (int j = threadIdx.x; j < n; j += THREADS) {
        float w = 0.5f - 0.5f * cospif(2.0f * (float)j / (float)n);
        int rev = (int)(__brev((unsigned)j) >> (32 - logn));
        s[rev] = make_float2(w * frame[j], 0.0f);
    }
    __syncthreads();
    for (int half = 1; half < n; half <<= 1) {
        for (int b = threadIdx.x; b < n / 2; b += THREADS) {
            int k = b & (half - 1);
            int i = ((b - k) << 1) + k;
            float sn, cs;
            sincospif(-(float)k / (float)half, &sn, &cs);
            float2 u = s[i], v = s[i + half];
            float2 t = make_float2(v.x * cs - v.y * sn, v.x * sn + v.y * cs);
            s[i] = make_float2(u.x + t.x, u.y + t.y);
            s[i + half] = make_float2(u.x - t.x, u.y - t.y);
        }
        __syncthreads();
    }
    float* out = power + (size_t)f * (n / 2 + 1);
    for (int k = threadIdx.x; k <= n / 2; k += THREADS) {
        float2 v = s[k];
        out[k] = v.x * v.x + v.y * v.y;
    }
}

extern "C" void solve(const float* x, float* power, int F, int logn) {
    stft_kernel<<<F, THREADS>>>(x, power, logn);
}
