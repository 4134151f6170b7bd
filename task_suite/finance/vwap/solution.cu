#include <cuda_runtime.h>

// One block per symbol: threads stride over the segment, both sums are reduced by warp shuffles and shared memory.
__global__ void vwap_kernel(const float* __restrict__ price, const float* __restrict__ volume,
                            const int* __restrict__ offsets, float* __restrict__ vwap) {
    __shared__ float ws_pv[32], ws_v[32];
    int s = blockIdx.x;
    int begin = offsets[s], end = offsets[s + 1];
    float pv = 0.0f, v = 0.0f;
    for (int i = begin + threadIdx.x; i < end; i += blockDim.x) {
        float vol = volume[i];
        pv = fmaf(price[i], vol, pv);
        v += vol;
    }
    for (int o = 16; o > 0; o >>= 1) {
        pv += __shfl_down_sync(0xffffffffu, pv, o);
        v += __shfl_down_sync(0xffffffffu, v, o);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { ws_pv[warp] = pv; ws_v[warp] = v; }
    __syncthreads();
    if (warp == 0) {
        int nw = blockDim.x >> 5;
        pv = lane < nw ? ws_pv[lane] : 0.0f;
        v = lane < nw ? ws_v[lane] : 0.0f;
        for (int o = 16; o > 0; o >>= 1) {
            pv += __shfl_down_sync(0xffffffffu, pv, o);
            v += __shfl_down_sync(0xffffffffu, v, o);
        }
        if (lane == 0) vwap[s] = end > begin ? pv / v : 0.0f;
    }
}

extern "C" void solve(const float* price, const float* volume, const int* offsets, float* vwap, int n, int S) {
    vwap_kernel<<<S, 256>>>(price, volume, offsets, vwap);
}
