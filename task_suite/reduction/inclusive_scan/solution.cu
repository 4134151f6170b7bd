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

extern "C" void solve(const float* x, float* y, int n) { device_scan<float>(x, y, n, true); }
