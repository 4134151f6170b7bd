#include <cuda_runtime.h>

#define WARPS 4
#define MAXN 128

__global__ void trsv_kernel(const float* __restrict__ L, const float* __restrict__ rhs, float* __restrict__ x,
                            int batch, int n) {
    __shared__ float xs[WARPS][MAXN];
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    int b = blockIdx.x * WARPS + w;
    if (b >= batch) return;  // whole warps leave together
    const float* Lb = L + (size_t)b * n * n;
    const float* rb = rhs + (size_t)b * n;
    for (int i = 0; i < n; ++i) {
        const float* row = Lb + (size_t)i * n;
        float s = 0.0f;
        for (int j = lane; j < i; j += 32) s += row[j] * xs[w][j];
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (lane == 0) xs[w][i] = (rb[i] - s) / row[i];
        __syncwarp();
    }
    for (int i = lane; i < n; i += 32) x[(size_t)b * n + i] = xs[w][i];
}

extern "C" void solve(const float* L, const float* rhs, float* x, int batch, int n) {
    trsv_kernel<<<(batch + WARPS - 1) / WARPS, 32 * WARPS>>>(L, rhs, x, batch, n);
}
