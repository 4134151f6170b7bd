#include <cuda_runtime.h>
#include <cfloat>

// Total order: (v, i) ranks before (w, j) if v > w, or v == w and i < j.
__device__ __forceinline__ bool before(float v, int i, float w, int j) { return v > w || (v == w && i < j); }

// k rounds per row: round r finds the best entry ranking strictly after the entry chosen in round r - 1.
// The row is staged in dynamic shared memory when it fits (use_smem), else read from global memory each round.
__global__ void topk_rows(const float* __restrict__ x, float* __restrict__ values, int* __restrict__ indices,
                          int cols, int k, int use_smem) {
    extern __shared__ float srow[];
    __shared__ float wv[32];
    __shared__ int wi[32];
    const float* row = x + (size_t)blockIdx.x * cols;
    if (use_smem) {
        for (int c = threadIdx.x; c < cols; c += blockDim.x) srow[c] = row[c];
        __syncthreads();
        row = srow;
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    float pv = FLT_MAX;
    int pi = -1;  // previous pick; (FLT_MAX, -1) ranks before every entry
    for (int r = 0; r < k; ++r) {
        float bv = -FLT_MAX;
        int bi = 0x7fffffff;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            float v = row[c];
            if (before(pv, pi, v, c) && before(v, c, bv, bi)) { bv = v; bi = c; }
        }
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (before(ov, oi, bv, bi)) { bv = ov; bi = oi; }
        }
        if (lane == 0) { wv[warp] = bv; wi[warp] = bi; }
        __syncthreads();
        bv = lane < warps ? wv[lane] : -FLT_MAX;
        bi = lane < warps ? wi[lane] : 0x7fffffff;
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (before(ov, oi, bv, bi)) { bv = ov; bi = oi; }
        }
        __syncthreads();  // wv/wi are reused next round
        if (threadIdx.x == 0) {
            values[(size_t)blockIdx.x * k + r] = bv;
            indices[(size_t)blockIdx.x * k + r] = bi;
        }
        pv = bv;
        pi = bi;
    }
}

extern "C" void solve(const float* x, float* values, int* indices, int rows, int cols, int k) {
    size_t smem = sizeof(float) * (size_t)cols;
    int use_smem = smem <= 48 * 1024;
    topk_rows<<<rows, 256, use_smem ? smem : 0>>>(x, values, indices, cols, k, use_smem);
}
