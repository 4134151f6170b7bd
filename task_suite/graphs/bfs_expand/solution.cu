#include <cuda_runtime.h>

__global__ void clear_next(unsigned char* next, int nv) {
    for (int v = blockIdx.x * blockDim.x + threadIdx.x; v < nv; v += gridDim.x * blockDim.x) next[v] = 0;
}

// One warp per vertex: lanes walk a frontier vertex's edges (coalesced reads of indices).
__global__ void expand(const int* __restrict__ offsets, const int* __restrict__ indices,
                       const unsigned char* __restrict__ frontier, int* levels, unsigned char* next, int level, int nv) {
    int lane = threadIdx.x & 31;
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int nwarps = (gridDim.x * blockDim.x) >> 5;
    for (int u = warp; u < nv; u += nwarps) {
        if (!frontier[u]) continue;
        for (int k = offsets[u] + lane; k < offsets[u + 1]; k += 32) {
            int v = indices[k];
            if (levels[v] == -1) {  // racing writers store the same values
                levels[v] = level + 1;
                next[v] = 1;
            }
        }
    }
}

extern "C" void solve(const int* offsets, const int* indices, const unsigned char* frontier, int* levels,
                      unsigned char* next, int level, int num_vertices, int num_edges) {
    const int block = 256;
    int grid = (num_vertices + block - 1) / block;
    if (grid > 65535) grid = 65535;
    clear_next<<<grid, block>>>(next, num_vertices);
    long long wgrid = ((long long)num_vertices * 32 + block - 1) / block;
    if (wgrid > 65535) wgrid = 65535;
    expand<<<(int)wgrid, block>>>(offsets, indices, frontier, levels, next, level, num_vertices);
}
