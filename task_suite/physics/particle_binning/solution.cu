#include <cuda_runtime.h>

#define BLOCK 256
#define SCAN_ITEMS 1024  // cells scanned per block (4 per thread)

__device__ __forceinline__ int cell_of(const float* pos, int i, int gx, int gy) {
    int ix = min((int)(pos[2 * (size_t)i] * (float)gx), gx - 1);
    int iy = min((int)(pos[2 * (size_t)i + 1] * (float)gy), gy - 1);
    return iy * gx + ix;
}

__global__ void count_kernel(const float* __restrict__ pos, int* __restrict__ cell, int* __restrict__ counts, int n,
                             int gx, int gy) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        int c = cell_of(pos, i, gx, gy);
        cell[i] = c;
        atomicAdd(&counts[c], 1);
    }
}

// Exclusive scan of SCAN_ITEMS values per block; writes the block total to sums[blockIdx.x].
__global__ void scan_blocks(const int* __restrict__ in, int* __restrict__ out, int* __restrict__ sums, int m) {
    __shared__ int s[BLOCK];
    int base = blockIdx.x * SCAN_ITEMS + threadIdx.x * 4;
    int v[4], run = 0;
    for (int k = 0; k < 4; ++k) {
        v[k] = base + k < m ? in[base + k] : 0;
        run += v[k];
    }
    s[threadIdx.x] = run;
    __syncthreads();
    for (int o = 1; o < BLOCK; o <<= 1) {  // Hillis-Steele inclusive scan of the thread totals
        int add = threadIdx.x >= o ? s[threadIdx.x - o] : 0;
        __syncthreads();
        s[threadIdx.x] += add;
        __syncthreads();
    }
    int prefix = s[threadIdx.x] - run;
    for (int k = 0; k < 4; ++k) {
        if (base + k < m) out[base + k] = prefix;
        prefix += v[k];
    }
    if (threadIdx.x == BLOCK - 1) sums[blockIdx.x] = s[BLOCK - 1];
}

// Exclusive scan of the block totals by one block, in chunks with a running carry.
__global__ void scan_sums(int* __restrict__ sums, int count, int* __restrict__ total) {
    __shared__ int s[BLOCK];
    __shared__ int carry;
    if (threadIdx.x == 0) carry = 0;
    __syncthreads();
    for (int base = 0; base < count; base += BLOCK) {
        int i = base + threadIdx.x;
        int v = i < count ? sums[i] : 0;
        s[threadIdx.x] = v;
        __syncthreads();
        for (int o = 1; o < BLOCK; o <<= 1) {
            int add = threadIdx.x >= o ? s[threadIdx.x - o] : 0;
            __syncthreads();
            s[threadIdx.x] += add;
            __syncthreads();
        }
        if (i < count) sums[i] = carry + s[threadIdx.x] - v;
        __syncthreads();
        if (threadIdx.x == 0) carry += s[BLOCK - 1];
        __syncthreads();
    }
    if (threadIdx.x == 0) *total = carry;
}

__global__ void add_sums(int* __restrict__ out, const int* __restrict__ sums, int* __restrict__ cursor, int m) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= m) return;
    int v = out[i] + sums[i / SCAN_ITEMS];
    out[i] = v;
    cursor[i] = v;
}

__global__ void scatter_kernel(const int* __restrict__ cell, int* __restrict__ cursor, int* __restrict__ order, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        order[atomicAdd(&cursor[cell[i]], 1)] = i;
}

__global__ void sort_cells(const int* __restrict__ offsets, int* __restrict__ order, int m) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= m) return;
    int a = offsets[c], b = offsets[c + 1];
    for (int i = a + 1; i < b; ++i) {
        int v = order[i], j = i - 1;
        while (j >= a && order[j] > v) { order[j + 1] = order[j]; --j; }
        order[j + 1] = v;
    }
}

extern "C" void solve(const float* pos, int* cell_offsets, int* order, int n, int gx, int gy) {
    int m = gx * gy;
    int scan_blocks_n = (m + SCAN_ITEMS - 1) / SCAN_ITEMS;
    int *cell, *counts, *sums, *cursor;
    cudaMalloc(&cell, sizeof(int) * (size_t)n);
    cudaMalloc(&counts, sizeof(int) * (size_t)m);
    cudaMalloc(&cursor, sizeof(int) * (size_t)m);
    cudaMalloc(&sums, sizeof(int) * (size_t)scan_blocks_n);
    cudaMemset(counts, 0, sizeof(int) * (size_t)m);
    int grid = (n + BLOCK - 1) / BLOCK;
    if (grid > 4096) grid = 4096;
    count_kernel<<<grid, BLOCK>>>(pos, cell, counts, n, gx, gy);
    scan_blocks<<<scan_blocks_n, BLOCK>>>(counts, cell_offsets, sums, m);
    scan_sums<<<1, BLOCK>>>(sums, scan_blocks_n, cell_offsets + m);
    add_sums<<<(m + BLOCK - 1) / BLOCK, BLOCK>>>(cell_offsets, sums, cursor, m);
    scatter_kernel<<<grid, BLOCK>>>(cell, cursor, order, n);
    sort_cells<<<(m + BLOCK - 1) / BLOCK, BLOCK>>>(cell_offsets, order, m);
    cudaFree(cell);
    cudaFree(counts);
    cudaFree(cursor);
    cudaFree(sums);
}
