#include <cuda_runtime.h>

#define THREADS 256
#define PER 8
#define CHUNK (THREADS * PER)

struct Aff { float a, b; };  // y -> a * y + b

__device__ __forceinline__ Aff compose(Aff first, Aff second) {  // apply first, then second
    return {first.a * second.a, fmaf(second.a, first.b, second.b)};
}

// Block-wide inclusive scan of the per-thread aggregates (Hillis-Steele in shared memory). Returns the exclusive
// prefix of this thread; the block total is left in *total.
__device__ Aff block_exclusive(Aff mine, Aff* total) {
    __shared__ float sa[THREADS], sb[THREADS];
    sa[threadIdx.x] = mine.a;
    sb[threadIdx.x] = mine.b;
    __syncthreads();
    for (int o = 1; o < THREADS; o <<= 1) {
        Aff cur = {sa[threadIdx.x], sb[threadIdx.x]};
        Aff prev = {1.0f, 0.0f};
        if (threadIdx.x >= o) prev = {sa[threadIdx.x - o], sb[threadIdx.x - o]};
        __syncthreads();
        Aff r = compose(prev, cur);
        sa[threadIdx.x] = r.a;
        sb[threadIdx.x] = r.b;
        __syncthreads();
    }
    Aff excl = {1.0f, 0.0f};
    if (threadIdx.x > 0) excl = {sa[threadIdx.x - 1], sb[threadIdx.x - 1]};
    *total = {sa[THREADS - 1], sb[THREADS - 1]};
    __syncthreads();
    return excl;
}

__device__ Aff thread_aggregate(const float* row, int start, int T, float a, float alpha) {
    Aff agg = {1.0f, 0.0f};
    for (int k = 0; k < PER; ++k) {
        int t = start + k;
        if (t < T) agg = compose(agg, Aff{a, alpha * row[t]});
    }
    return agg;
}

__global__ void chunk_reduce(const float* __restrict__ x, Aff* __restrict__ agg, int T, int chunks, float alpha) {
    int s = blockIdx.y, c = blockIdx.x;
    const float* row = x + (size_t)s * T;
    float a = 1.0f - alpha;
    Aff mine = thread_aggregate(row, c * CHUNK + threadIdx.x * PER, T, a, alpha);
    Aff total;
    block_exclusive(mine, &total);
    if (threadIdx.x == 0) agg[(size_t)s * chunks + c] = total;
}

// Per series: the value entering each chunk (before its first element), sequentially over the chunks.
__global__ void chunk_carry(const float* __restrict__ x, const Aff* __restrict__ agg, float* __restrict__ carry,
                            int S, int T, int chunks) {
    int s = blockIdx.x * blockDim.x + threadIdx.x;
    if (s >= S) return;
    float v = x[(size_t)s * T];  // y[-1] := x[0] makes y[0] = x[0]
    for (int c = 0; c < chunks; ++c) {
        carry[(size_t)s * chunks + c] = v;
        Aff g = agg[(size_t)s * chunks + c];
        v = fmaf(g.a, v, g.b);
    }
}

__global__ void chunk_apply(const float* __restrict__ x, const float* __restrict__ carry, float* __restrict__ y, int T,
                            int chunks, float alpha) {
    int s = blockIdx.y, c = blockIdx.x;
    const float* row = x + (size_t)s * T;
    float a = 1.0f - alpha;
    int start = c * CHUNK + threadIdx.x * PER;
    Aff mine = thread_aggregate(row, start, T, a, alpha);
    Aff total;
    Aff excl = block_exclusive(mine, &total);
    float v = fmaf(excl.a, carry[(size_t)s * chunks + c], excl.b);
    for (int k = 0; k < PER; ++k) {
        int t = start + k;
        if (t < T) {
            v = fmaf(a, v, alpha * row[t]);
            y[(size_t)s * T + t] = v;
        }
    }
}

extern "C" void solve(const float* x, float* y, float alpha, int S, int T) {
    int chunks = (T + CHUNK - 1) / CHUNK;
    Aff* agg;
    float* carry;
    cudaMalloc(&agg, sizeof(Aff) * (size_t)S * chunks);
    cudaMalloc(&carry, sizeof(float) * (size_t)S * chunks);
    dim3 grid(chunks, S);
    chunk_reduce<<<grid, THREADS>>>(x, agg, T, chunks, alpha);
    chunk_carry<<<(S + 31) / 32, 32>>>(x, agg, carry, S, T, chunks);
    chunk_apply<<<grid, THREADS>>>(x, carry, y, T, chunks, alpha);
    cudaFree(agg);
    cudaFree(carry);
}
