#include <cuda_runtime.h>

#define LONG_SEGMENT 4096  // segments at least this long are split over many warps
#define PIECE 1024         // values per warp piece of a long segment

// Phase 1: one warp per segment (grid-stride). Long segments are only recorded (sum zeroed, id appended).
__global__ void warp_segments(const float* __restrict__ values, const int* __restrict__ offsets, float* sums,
                              int num_segments, int* long_count, int* long_ids) {
    int lane = threadIdx.x & 31;
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int nwarps = (gridDim.x * blockDim.x) >> 5;
    for (int s = warp; s < num_segments; s += nwarps) {
        int start = offsets[s], end = offsets[s + 1];
        if (end - start >= LONG_SEGMENT) {
            if (lane == 0) {
                sums[s] = 0.0f;
                long_ids[atomicAdd(long_count, 1)] = s;
            }
            continue;
        }
        float v = 0.0f;
        for (int k = start + lane; k < end; k += 32) v += values[k];
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
        if (lane == 0) sums[s] = v;
    }
}

// Phase 2: the warps of the whole grid share the PIECE-long pieces of the recorded long segments.
__global__ void long_segments(const float* __restrict__ values, const int* __restrict__ offsets, float* sums,
                              const int* long_count, const int* long_ids) {
    int lane = threadIdx.x & 31;
    int gwarp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int nwarps = (gridDim.x * blockDim.x) >> 5;
    int count = *long_count;
    for (int i = 0; i < count; ++i) {
        int s = long_ids[i];
        int start = offsets[s], end = offsets[s + 1];
        int pieces = (end - start + PIECE - 1) / PIECE;
        for (int p = gwarp; p < pieces; p += nwarps) {
            int k0 = start + p * PIECE, k1 = min(end, k0 + PIECE);
            float v = 0.0f;
            for (int k = k0 + lane; k < k1; k += 32) v += values[k];
            for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
            if (lane == 0) atomicAdd(&sums[s], v);
        }
    }
}

extern "C" void solve(const float* values, const int* offsets, float* sums, int n, int num_segments) {
    int max_long = n / LONG_SEGMENT + 1;
    int* scratch;  // [0]: count, then the ids of the long segments
    cudaMalloc(&scratch, sizeof(int) * (size_t)(max_long + 1));
    cudaMemset(scratch, 0, sizeof(int));
    const int block = 256;
    long long grid = ((long long)num_segments * 32 + block - 1) / block;
    if (grid > 65535) grid = 65535;
    warp_segments<<<(int)grid, block>>>(values, offsets, sums, num_segments, scratch, scratch + 1);
    if (n >= LONG_SEGMENT) {
        int lgrid = n / (PIECE * 8) + 1;
        if (lgrid > 1024) lgrid = 1024;
        long_segments<<<lgrid, block>>>(values, offsets, sums, scratch, scratch + 1);
    }
    cudaFree(scratch);
}
