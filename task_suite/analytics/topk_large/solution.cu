#include <cuda_runtime.h>

// ---- device-wide exclusive scan (reduce, scan the tile sums recursively, then scan each tile with its offset) ----
#define SCAN_BLOCK 256
#define SCAN_ITEMS 4
#define SCAN_TILE (SCAN_BLOCK * SCAN_ITEMS)

// Exclusive scan of one value per thread across the block; *total receives the block's sum.
template <typename T>
__device__ T block_exclusive_scan(T v, T* total) {
    __shared__ T warp_sums[SCAN_BLOCK / 32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    T x = v;
    for (int o = 1; o < 32; o <<= 1) {
        T y = __shfl_up_sync(0xffffffffu, x, o);
        if (lane >= o) x += y;
    }
    if (lane == 31) warp_sums[warp] = x;
    __syncthreads();
    if (warp == 0) {
        T w = lane < SCAN_BLOCK / 32 ? warp_sums[lane] : T(0);
        for (int o = 1; o < 32; o <<= 1) {
            T y = __shfl_up_sync(0xffffffffu, w, o);
            if (lane >= o) w += y;
        }
        if (lane < SCAN_BLOCK / 32) warp_sums[lane] = w;
    }
    __syncthreads();
    T result = (warp ? warp_sums[warp - 1] : T(0)) + x - v;
    *total = warp_sums[SCAN_BLOCK / 32 - 1];
    __syncthreads();  // warp_sums is reused by the next call
    return result;
}

template <typename T>
__global__ void scan_tile_sums(const T* __restrict__ in, T* __restrict__ sums, long long n) {
    long long base = (long long)blockIdx.x * SCAN_TILE;
    T s = T(0);
    for (int k = threadIdx.x; k < SCAN_TILE; k += SCAN_BLOCK)
        if (base + k < n) s += in[base + k];
    T total;
    block_exclusive_scan(s, &total);
    if (threadIdx.x == 0) sums[blockIdx.x] = total;
}

// Scans one tile: coalesced load into shared memory, SCAN_ITEMS consecutive items per thread, block scan of the
// per-thread sums, coalesced store. offsets (may be null) holds each tile's exclusive prefix.
template <typename T>
__global__ void scan_tiles(const T* in, T* out, const T* __restrict__ offsets, long long n,
                           bool inclusive) {
    __shared__ T tile[SCAN_TILE];
    long long base = (long long)blockIdx.x * SCAN_TILE;
    for (int k = threadIdx.x; k < SCAN_TILE; k += SCAN_BLOCK) tile[k] = base + k < n ? in[base + k] : T(0);
    __syncthreads();
    T local[SCAN_ITEMS];
    T s = T(0);
    for (int k = 0; k < SCAN_ITEMS; ++k) {
        local[k] = tile[threadIdx.x * SCAN_ITEMS + k];
        s += local[k];
    }
    T total;
    T prefix = block_exclusive_scan(s, &total) + (offsets ? offsets[blockIdx.x] : T(0));
    for (int k = 0; k < SCAN_ITEMS; ++k) {
        T next = prefix + local[k];
        tile[threadIdx.x * SCAN_ITEMS + k] = inclusive ? next : prefix;
        prefix = next;
    }
    __syncthreads();
    for (int k = threadIdx.x; k < SCAN_TILE; k += SCAN_BLOCK)
        if (base + k < n) out[base + k] = tile[k];
}

// out[i] = in[0] + ... + in[i - 1] (exclusive) or + in[i] (inclusive); out may alias in.
template <typename T>
void device_scan(const T* in, T* out, long long n, bool inclusive) {
    if (n <= 0) return;
    long long tiles = (n + SCAN_TILE - 1) / SCAN_TILE;
    if (tiles == 1) {
        scan_tiles<T><<<1, SCAN_BLOCK>>>(in, out, (const T*)nullptr, n, inclusive);
        return;
    }
    T* sums;
    cudaMalloc(&sums, sizeof(T) * (size_t)tiles);
    scan_tile_sums<T><<<(unsigned)tiles, SCAN_BLOCK>>>(in, sums, n);
    device_scan<T>(sums, sums, tiles, false);
    scan_tiles<T><<<(unsigned)tiles, SCAN_BLOCK>>>(in, out, sums, n, inclusive);
    cudaFree(sums);
}
// ---- end of scan ----

__device__ __forceinline__ unsigned ordered_key(float v) {
    unsigned u = __float_as_uint(v);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Histogram of digit (key >> shift) & 255 over the keys whose bits above shift + 8 equal prefix.
__global__ void select_histogram(const float* __restrict__ x, int n, unsigned prefix, unsigned long long mask,
                                 int shift, unsigned* hist) {
    __shared__ unsigned local[256];
    local[threadIdx.x] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        unsigned key = ordered_key(x[i]);
        if ((key & (unsigned)mask) == prefix) atomicAdd(&local[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (local[threadIdx.x]) atomicAdd(&hist[threadIdx.x], local[threadIdx.x]);
}

// Elements above the threshold key go to the candidate list in any order; ties[i] flags keys equal to it.
__global__ void gather_above(const float* __restrict__ x, int n, unsigned threshold, int* cand, int* count,
                             int* ties) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        unsigned key = ordered_key(x[i]);
        if (key > threshold) cand[atomicAdd(count, 1)] = i;
        ties[i] = key == threshold;
    }
}

// ties holds the inclusive scan of the equality flags: the first `need` equal elements (by index) follow the others.
__global__ void gather_ties(const float* __restrict__ x, int n, unsigned threshold, const int* __restrict__ ties,
                            int above, int need, int* cand) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        if (ordered_key(x[i]) == threshold) {
            int r = ties[i] - 1;
            if (r < need) cand[above + r] = i;
        }
    }
}

// One block ranks the k candidates by (value desc, index asc) and writes them in order.
__global__ void rank_candidates(const float* __restrict__ x, const int* __restrict__ cand, int k, float* values,
                                int* indices) {
    __shared__ float sv[1024];
    __shared__ int si[1024];
    for (int t = threadIdx.x; t < k; t += blockDim.x) { si[t] = cand[t]; sv[t] = x[cand[t]]; }
    __syncthreads();
    for (int t = threadIdx.x; t < k; t += blockDim.x) {
        float v = sv[t];
        int i = si[t], r = 0;
        for (int j = 0; j < k; ++j) r += sv[j] > v || (sv[j] == v && si[j] < i);
        values[r] = v;
        indices[r] = i;
    }
}

extern "C" void solve(const float* x, float* values, int* indices, int n, int k) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 1024) grid = 1024;
    unsigned* hist;
    int *cand, *ties, *count;
    cudaMalloc(&hist, 256 * sizeof(unsigned));
    cudaMalloc(&cand, sizeof(int) * (size_t)k);
    cudaMalloc(&ties, sizeof(int) * (size_t)n);
    cudaMalloc(&count, sizeof(int));
    // radix select of the k-th largest key, 8 bits at a time from the top
    unsigned prefix = 0;
    unsigned long long mask = 0;
    int remaining = k;  // how many of the selected elements still lie at or below the current prefix
    for (int shift = 24; shift >= 0; shift -= 8) {
        cudaMemset(hist, 0, 256 * sizeof(unsigned));
        select_histogram<<<grid, block>>>(x, n, prefix, mask, shift, hist);
        unsigned h[256];
        cudaMemcpy(h, hist, sizeof(h), cudaMemcpyDeviceToHost);
        int d = 255;
        while (d > 0 && (int)h[d] < remaining) remaining -= (int)h[d--];
        prefix |= (unsigned)d << shift;
        mask |= 255ull << shift;
    }
    // prefix is now the k-th largest key; k - remaining elements lie strictly above it
    cudaMemset(count, 0, sizeof(int));
    gather_above<<<grid, block>>>(x, n, prefix, cand, count, ties);
    device_scan<int>(ties, ties, n, true);
    gather_ties<<<grid, block>>>(x, n, prefix, ties, k - remaining, remaining, cand);
    rank_candidates<<<1, 1024>>>(x, cand, k, values, indices);
    cudaFree(hist);
    cudaFree(cand);
    cudaFree(ties);
    cudaFree(count);
}
