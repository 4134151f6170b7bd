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

// ---- stable LSD radix sort: 8-bit digits, one tile of 1024 items per block processed in 4 rounds of 256 ----
#define RS_BLOCK 256
#define RS_ROUNDS 4
#define RS_TILE (RS_BLOCK * RS_ROUNDS)
#define RS_WARPS (RS_BLOCK / 32)

__device__ __forceinline__ unsigned rs_digit(unsigned key, int shift, unsigned flip) { return ((key ^ flip) >> shift) & 255u; }

// counts[d * tiles + t] = number of keys in tile t whose digit is d (digit-major, so a scan gives stable offsets)
__global__ void rs_histogram(const unsigned* __restrict__ keys, unsigned* __restrict__ counts, int n, int tiles,
                             int shift, unsigned flip) {
    __shared__ unsigned hist[256];
    hist[threadIdx.x] = 0;
    __syncthreads();
    long long base = (long long)blockIdx.x * RS_TILE;
    for (int r = 0; r < RS_ROUNDS; ++r) {
        long long i = base + r * RS_BLOCK + threadIdx.x;
        if (i < n) atomicAdd(&hist[rs_digit(keys[i], shift, flip)], 1u);
    }
    __syncthreads();
    counts[(size_t)threadIdx.x * tiles + blockIdx.x] = hist[threadIdx.x];
}

// Scatters the tile stably: rank within the warp from __match_any_sync, offsets across warps and earlier rounds
// from a per-digit prefix over warp counts, and the tile's global digit offset from the scanned counts.
__global__ void rs_scatter(const unsigned* __restrict__ keys_in, const unsigned* __restrict__ vals_in,
                           unsigned* __restrict__ keys_out, unsigned* __restrict__ vals_out,
                           const unsigned* __restrict__ offsets, int n, int tiles, int shift, unsigned flip) {
    __shared__ unsigned base_of[256];
    __shared__ unsigned running[256];
    __shared__ unsigned warp_cnt[RS_WARPS][256];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    base_of[threadIdx.x] = offsets[(size_t)threadIdx.x * tiles + blockIdx.x];
    running[threadIdx.x] = 0;
    long long base = (long long)blockIdx.x * RS_TILE;
    unsigned lt = (1u << lane) - 1u;
    for (int r = 0; r < RS_ROUNDS; ++r) {
        long long i = base + r * RS_BLOCK + threadIdx.x;
        bool valid = i < n;
        unsigned key = valid ? keys_in[i] : 0u;
        unsigned val = (valid && vals_in) ? vals_in[i] : 0u;
        unsigned d = valid ? rs_digit(key, shift, flip) : 256u;
        for (int k = lane; k < 256; k += 32) warp_cnt[warp][k] = 0;
        __syncthreads();
        unsigned peers = __match_any_sync(0xffffffffu, d);
        unsigned rank = __popc(peers & lt);
        if (valid && rank == 0) warp_cnt[warp][d] = __popc(peers);
        __syncthreads();
        {   // thread t owns digit t: exclusive prefix over the warps, continuing from earlier rounds
            unsigned acc = running[threadIdx.x];
            for (int w = 0; w < RS_WARPS; ++w) {
                unsigned c = warp_cnt[w][threadIdx.x];
                warp_cnt[w][threadIdx.x] = acc;
                acc += c;
            }
            running[threadIdx.x] = acc;
        }
        __syncthreads();
        if (valid) {
            unsigned pos = base_of[d] + warp_cnt[warp][d] + rank;
            keys_out[pos] = key;
            if (vals_out) vals_out[pos] = val;
        }
        __syncthreads();
    }
}

// Sorts n keys (and optional values) stably by (key ^ flip) as unsigned; the result lands in keys_out/vals_out.
void radix_sort(const unsigned* keys_in, const unsigned* vals_in, unsigned* keys_out, unsigned* vals_out, int n,
                unsigned flip) {
    if (n <= 0) return;
    int tiles = (n + RS_TILE - 1) / RS_TILE;
    unsigned *counts, *tmp_keys, *tmp_vals = nullptr;
    cudaMalloc(&counts, sizeof(unsigned) * 256 * (size_t)tiles);
    cudaMalloc(&tmp_keys, sizeof(unsigned) * (size_t)n);
    if (vals_in) cudaMalloc(&tmp_vals, sizeof(unsigned) * (size_t)n);
    const unsigned* src_k = keys_in;
    const unsigned* src_v = vals_in;
    for (int pass = 0; pass < 4; ++pass) {  // in -> tmp -> out -> tmp -> out
        unsigned* dst_k = (pass % 2 == 0) ? tmp_keys : keys_out;
        unsigned* dst_v = vals_in ? ((pass % 2 == 0) ? tmp_vals : vals_out) : nullptr;
        rs_histogram<<<tiles, RS_BLOCK>>>(src_k, counts, n, tiles, 8 * pass, flip);
        device_scan<unsigned>(counts, counts, 256LL * tiles, false);
        rs_scatter<<<tiles, RS_BLOCK>>>(src_k, src_v, dst_k, dst_v, counts, n, tiles, 8 * pass, flip);
        src_k = dst_k;
        src_v = dst_v;
    }
    cudaFree(counts);
    cudaFree(tmp_keys);
    if (tmp_vals) cudaFree(tmp_vals);
}
// ---- end of radix sort ----

extern "C" void solve(const int* keys, const int* vals, int* sorted_keys, int* sorted_vals, int n) {
    radix_sort((const unsigned*)keys, (const unsigned*)vals, (unsigned*)sorted_keys, (unsigned*)sorted_vals, n,
               0x80000000u);
}
