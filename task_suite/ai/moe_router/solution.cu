#include <cuda_runtime.h>
#include <cfloat>
#include <math.h>

#define CHUNK 256  // assignments per block in the counting sort (one per thread)

__device__ __forceinline__ bool better(float v, int i, float w, int j) { return v > w || (v == w && i < j); }

// Phase 1: one warp per token: best and second best (value, index) pairs, gates.
__global__ void top2_kernel(const float* __restrict__ logits, int* __restrict__ experts, float* __restrict__ gates,
                            int T, int E) {
    int lane = threadIdx.x & 31;
    int t = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (t >= T) return;
    const float* row = logits + (size_t)t * E;
    float v1 = -FLT_MAX, v2 = -FLT_MAX;
    int i1 = 0x7fffffff, i2 = 0x7fffffff;
    for (int e = lane; e < E; e += 32) {
        float v = row[e];
        if (better(v, e, v1, i1)) { v2 = v1; i2 = i1; v1 = v; i1 = e; }
        else if (better(v, e, v2, i2)) { v2 = v; i2 = e; }
    }
    for (int o = 16; o > 0; o >>= 1) {  // merge two sorted pairs-of-two
        float w1 = __shfl_xor_sync(0xffffffffu, v1, o), w2 = __shfl_xor_sync(0xffffffffu, v2, o);
        int j1 = __shfl_xor_sync(0xffffffffu, i1, o), j2 = __shfl_xor_sync(0xffffffffu, i2, o);
        if (better(w1, j1, v1, i1)) {
            if (better(v1, i1, w2, j2)) { v2 = v1; i2 = i1; } else { v2 = w2; i2 = j2; }
            v1 = w1; i1 = j1;
        } else if (better(w1, j1, v2, i2)) {
            v2 = w1; i2 = j1;
        }
    }
    if (lane == 0) {
        experts[2 * t] = i1;
        experts[2 * t + 1] = i2;
        float g = 1.0f / (1.0f + expf(v2 - v1));
        gates[2 * t] = g;
        gates[2 * t + 1] = 1.0f - g;
    }
}

// Phase 2: per-block expert histogram of CHUNK assignments -> block_counts[e * nblocks + block] (expert-major).
__global__ void block_hist_kernel(const int* __restrict__ experts, int* __restrict__ block_counts, int n, int E) {
    extern __shared__ int hist[];
    for (int e = threadIdx.x; e < E; e += blockDim.x) hist[e] = 0;
    __syncthreads();
    int a = blockIdx.x * CHUNK + threadIdx.x;
    if (a < n) atomicAdd(&hist[experts[a]], 1);
    __syncthreads();
    for (int e = threadIdx.x; e < E; e += blockDim.x) block_counts[(size_t)e * gridDim.x + blockIdx.x] = hist[e];
}

// Phase 3: exclusive scan of block_counts in place (one block, chunked Hillis-Steele), plus per-expert totals.
__global__ void scan_kernel(int* block_counts, int* counts, int nblocks, int E) {
    __shared__ int buf[1024];
    __shared__ int carry;
    long long total = (long long)nblocks * E;
    if (threadIdx.x == 0) carry = 0;
    __syncthreads();
    for (long long base = 0; base < total; base += blockDim.x) {
        long long i = base + threadIdx.x;
        int v = i < total ? block_counts[i] : 0;
        buf[threadIdx.x] = v;
        __syncthreads();
        for (int off = 1; off < (int)blockDim.x; off <<= 1) {
            int add = threadIdx.x >= off ? buf[threadIdx.x - off] : 0;
            __syncthreads();
            buf[threadIdx.x] += add;
            __syncthreads();
        }
        if (i < total) block_counts[i] = carry + buf[threadIdx.x] - v;
        __syncthreads();
        if (threadIdx.x == blockDim.x - 1) carry += buf[threadIdx.x];
        __syncthreads();
    }
    // counts[e] = start of expert e + 1 (or the total) minus start of e
    for (int e = threadIdx.x; e < E; e += blockDim.x) {
        int start = block_counts[(size_t)e * nblocks];
        int end = e + 1 < E ? block_counts[(size_t)(e + 1) * nblocks] : carry;
        counts[e] = end - start;
    }
}

// Phase 4: stable scatter: rank within the block among earlier assignments of the same expert.
__global__ void scatter_kernel(const int* __restrict__ experts, const int* __restrict__ block_offsets,
                               int* __restrict__ dispatch, int n) {
    __shared__ int ex[CHUNK];
    int a = blockIdx.x * CHUNK + threadIdx.x;
    ex[threadIdx.x] = a < n ? experts[a] : -1;
    __syncthreads();
    if (a >= n) return;
    int e = ex[threadIdx.x], rank = 0;
    for (int j = 0; j < (int)threadIdx.x; ++j) rank += ex[j] == e;
    dispatch[block_offsets[(size_t)e * gridDim.x + blockIdx.x] + rank] = a;
}

extern "C" void solve(const float* logits, int* experts, float* gates, int* counts, int* dispatch, int T, int E) {
    int n = 2 * T;
    int nblocks = (n + CHUNK - 1) / CHUNK;
    int* block_counts;
    cudaMalloc(&block_counts, sizeof(int) * (size_t)nblocks * E);
    long long threads = (long long)T * 32;
    top2_kernel<<<(int)((threads + 255) / 256), 256>>>(logits, experts, gates, T, E);
    block_hist_kernel<<<nblocks, CHUNK, sizeof(int) * E>>>(experts, block_counts, n, E);
    scan_kernel<<<1, 1024>>>(block_counts, counts, nblocks, E);
    scatter_kernel<<<nblocks, CHUNK>>>(experts, block_counts, dispatch, n);
    cudaFree(block_counts);
}
