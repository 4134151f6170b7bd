#include <cuda_runtime.h>

#define BLOCK 256

__device__ __forceinline__ int cell_coord(float v, int G) { return min((int)(v * (float)G), G - 1); }

__global__ void count_cells(const float* __restrict__ pos, int* __restrict__ cell, int* __restrict__ counts, int n,
                            int G) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    int cx = cell_coord(pos[3 * (size_t)i], G), cy = cell_coord(pos[3 * (size_t)i + 1], G),
        cz = cell_coord(pos[3 * (size_t)i + 2], G);
    int c = (cz * G + cy) * G + cx;
    cell[i] = c;
    atomicAdd(&counts[c], 1);
}

// Single-block exclusive scan with a running carry (the cell count is modest: G^3).
__global__ void scan_counts(const int* __restrict__ counts, int* __restrict__ starts, int m) {
    __shared__ int s[BLOCK];
    __shared__ int carry;
    if (threadIdx.x == 0) carry = 0;
    __syncthreads();
    for (int base = 0; base < m; base += BLOCK) {
        int i = base + threadIdx.x;
        int v = i < m ? counts[i] : 0;
        s[threadIdx.x] = v;
        __syncthreads();
        for (int o = 1; o < BLOCK; o <<= 1) {
            int add = threadIdx.x >= o ? s[threadIdx.x - o] : 0;
            __syncthreads();
            s[threadIdx.x] += add;
            __syncthreads();
        }
        if (i < m) starts[i] = carry + s[threadIdx.x] - v;
        __syncthreads();
        if (threadIdx.x == 0) carry += s[BLOCK - 1];
        __syncthreads();
    }
    if (threadIdx.x == 0) starts[m] = carry;
}

__global__ void scatter(const float* __restrict__ pos, const float* __restrict__ mass, const int* __restrict__ cell,
                        int* __restrict__ cursor, float4* __restrict__ sorted, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    int slot = atomicAdd(&cursor[cell[i]], 1);
    sorted[slot] = make_float4(pos[3 * (size_t)i], pos[3 * (size_t)i + 1], pos[3 * (size_t)i + 2], mass[i]);
}

__global__ void density(const float* __restrict__ pos, const int* __restrict__ cell, const int* __restrict__ starts,
                        const float4* __restrict__ sorted, float* __restrict__ rho, int n, int G, float h2, float c) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = pos[3 * (size_t)i], y = pos[3 * (size_t)i + 1], z = pos[3 * (size_t)i + 2];
    int ci = cell[i];
    int cx = ci % G, cy = (ci / G) % G, cz = ci / (G * G);
    float acc = 0.0f;
    for (int zz = max(cz - 1, 0); zz <= min(cz + 1, G - 1); ++zz)
        for (int yy = max(cy - 1, 0); yy <= min(cy + 1, G - 1); ++yy) {
            int row = (zz * G + yy) * G;
            int a = starts[row + max(cx - 1, 0)], b = starts[row + min(cx + 1, G - 1) + 1];  // 3 adjacent cells
            for (int k = a; k < b; ++k) {
                float4 q = sorted[k];
                float dx = q.x - x, dy = q.y - y, dz = q.z - z;
                float r2 = dx * dx + dy * dy + dz * dz;
                if (r2 < h2) {
                    float t = h2 - r2;
                    acc += q.w * t * t * t;
                }
            }
        }
    rho[i] = c * acc;
}

extern "C" void solve(const float* pos, const float* mass, float* rho, int n, int G) {
    int m = G * G * G;
    float h = 1.0f / (float)G;
    float h2 = h * h;
    float h9 = h2 * h2 * h2 * h2 * h;
    float c = 315.0f / (64.0f * 3.14159265358979f * h9);
    int *cell, *counts, *starts, *cursor;
    float4* sorted;
    cudaMalloc(&cell, sizeof(int) * (size_t)n);
    cudaMalloc(&counts, sizeof(int) * (size_t)m);
    cudaMalloc(&starts, sizeof(int) * (size_t)(m + 1));
    cudaMalloc(&cursor, sizeof(int) * (size_t)m);
    cudaMalloc(&sorted, sizeof(float4) * (size_t)n);
    cudaMemset(counts, 0, sizeof(int) * (size_t)m);
    int grid = (n + BLOCK - 1) / BLOCK;
    count_cells<<<grid, BLOCK>>>(pos, cell, counts, n, G);
    scan_counts<<<1, BLOCK>>>(counts, starts, m);
    cudaMemcpy(cursor, starts, sizeof(int) * (size_t)m, cudaMemcpyDeviceToDevice);
    scatter<<<grid, BLOCK>>>(pos, mass, cell, cursor, sorted, n);
    density<<<grid, BLOCK>>>(pos, cell, starts, sorted, rho, n, G, h2, c);
    cudaFree(cell);
    cudaFree(counts);
    cudaFree(starts);
    cudaFree(cursor);
    cudaFree(sorted);
}
