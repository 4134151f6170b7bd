#include <cuda_runtime.h>

__global__ void kv_append_kernel(float* __restrict__ k_cache, float* __restrict__ v_cache,
                                 const float* __restrict__ k_new, const float* __restrict__ v_new,
                                 const int* __restrict__ lengths, long long total, int H, int S, int D, int T) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        int j = (int)(i % D);
        long long rest = i / D;
        int t = (int)(rest % T);
        long long bh = rest / T;  // b * H + h
        int b = (int)(bh / H);
        long long dst = (bh * S + lengths[b] + t) * (long long)D + j;
        k_cache[dst] = k_new[i];
        v_cache[dst] = v_new[i];
    }
}

extern "C" void solve(float* k_cache, float* v_cache, const float* k_new, const float* v_new, const int* lengths,
                      int B, int H, int S, int D, int T) {
    long long total = (long long)B * H * T * D;
    long long grid = (total + 255) / 256;
    if (grid > 16384) grid = 16384;
    kv_append_kernel<<<(int)grid, 256>>>(k_cache, v_cache, k_new, v_new, lengths, total, H, S, D, T);
}
