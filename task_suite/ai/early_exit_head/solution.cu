#include <cuda_runtime.h>
#include <cfloat>

__device__ void better(float& v, int& i, float ov, int oi) {
    if (ov > v || (ov == v && oi < i)) { v = ov; i = oi; }
}

__global__ void early_exit_rows(const float* __restrict__ logits, int* __restrict__ pred, float* __restrict__ conf,
                                int classes) {
    __shared__ float sv[32];
    __shared__ int si[32];
    __shared__ float ss[32];
    const float* row = logits + (size_t)blockIdx.x * classes;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    float v = -FLT_MAX;
    int idx = 0x7fffffff;
    for (int c = threadIdx.x; c < classes; c += blockDim.x) better(v, idx, row[c], c);
    for (int o = 16; o > 0; o >>= 1) better(v, idx, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, idx, o));
    if (lane == 0) { sv[warp] = v; si[warp] = idx; }
    __syncthreads();
    v = lane < warps ? sv[lane] : -FLT_MAX;
    idx = lane < warps ? si[lane] : 0x7fffffff;
    for (int o = 16; o > 0; o >>= 1) better(v, idx, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, idx, o));
    float m = v;  // every lane of every warp holds the row maximum now
    float s = 0.0f;
    for (int c = threadIdx.x; c < classes; c += blockDim.x) s += expf(row[c] - m);
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) ss[warp] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        float total = 0.0f;
        for (int w = 0; w < warps; ++w) total += ss[w];
        pred[blockIdx.x] = idx;
        conf[blockIdx.x] = 1.0f / total;
    }
}

extern "C" void solve(const float* logits, int* pred, float* conf, int rows, int classes) {
    int block = classes >= 1024 ? 256 : 128;
    early_exit_rows<<<rows, block>>>(logits, pred, conf, classes);
}
