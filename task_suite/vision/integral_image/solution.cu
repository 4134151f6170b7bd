#include <cuda_runtime.h>
#include <stdint.h>

#define BLOCK 256
#define PER 4  // elements per thread per piece

// Inclusive scan of each row, one block per row, in pieces of BLOCK * PER with a running carry.
__global__ void scan_rows(const uint8_t* __restrict__ img, long long* __restrict__ out, int width) {
    __shared__ long long warp_tot[BLOCK / 32];
    __shared__ long long carry_s;
    const uint8_t* row = img + (size_t)blockIdx.x * width;
    long long* dst = out + (size_t)blockIdx.x * width;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (threadIdx.x == 0) carry_s = 0;
    __syncthreads();
    for (int base = 0; base < width; base += BLOCK * PER) {
        long long v[PER];
        long long run = 0;
        int start = base + threadIdx.x * PER;
        for (int k = 0; k < PER; ++k) {
            int x = start + k;
            run += x < width ? row[x] : 0;
            v[k] = run;
        }
        long long incl = run;  // inclusive scan of the per-thread totals across the warp
        for (int o = 1; o < 32; o <<= 1) {
            long long other = __shfl_up_sync(0xffffffffu, incl, o);
            if (lane >= o) incl += other;
        }
        if (lane == 31) warp_tot[warp] = incl;
        __syncthreads();
        if (warp == 0) {
            long long t = lane < BLOCK / 32 ? warp_tot[lane] : 0;
            for (int o = 1; o < 32; o <<= 1) {
                long long other = __shfl_up_sync(0xffffffffu, t, o);
                if (lane >= o) t += other;
            }
            if (lane < BLOCK / 32) warp_tot[lane] = t;  // inclusive warp totals
        }
        __syncthreads();
        long long offset = carry_s + (warp > 0 ? warp_tot[warp - 1] : 0) + (incl - run);
        for (int k = 0; k < PER; ++k) {
            int x = start + k;
            if (x < width) dst[x] = v[k] + offset;
        }
        __syncthreads();
        if (threadIdx.x == 0) carry_s += warp_tot[BLOCK / 32 - 1];
        __syncthreads();
    }
}

// Inclusive scan down each column, one thread per column.
__global__ void scan_cols(long long* __restrict__ out, int height, int width) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    if (x >= width) return;
    long long acc = 0;
    for (int y = 0; y < height; ++y) {
        size_t i = (size_t)y * width + x;
        acc += out[i];
        out[i] = acc;
    }
}

extern "C" void solve(const uint8_t* img, long long* out, int height, int width) {
    scan_rows<<<height, BLOCK>>>(img, out, width);
    scan_cols<<<(width + 127) / 128, 128>>>(out, height, width);
}
