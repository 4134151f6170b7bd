#include <cuda_runtime.h>

// Number of common entries of the sorted ranges a[0..na) and b[0..nb), all entries > bound.
__device__ int intersect_above(const int* a, int na, const int* b, int nb, int bound) {
    // skip entries <= bound by binary search
    int lo = 0, hi = na;
    while (lo < hi) { int mid = (lo + hi) >> 1; if (a[mid] <= bound) lo = mid + 1; else hi = mid; }
    int i = lo;
    lo = 0; hi = nb;
    while (lo < hi) { int mid = (lo + hi) >> 1; if (b[mid] <= bound) lo = mid + 1; else hi = mid; }
    int j = lo, c = 0;
    while (i < na && j < nb) {
        int x = a[i], y = b[j];
        c += x == y;
        i += x <= y;
        j += y <= x;
    }
    return c;
}

// One warp per vertex a: lanes take the neighbours b > a and merge the tails {c > b} of N(a) and N(b).
__global__ void triangles(const int* __restrict__ offsets, const int* __restrict__ indices, int nv,
                          unsigned long long* count) {
    int lane = threadIdx.x & 31;
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int nwarps = (gridDim.x * blockDim.x) >> 5;
    unsigned long long local = 0;
    for (int a = warp; a < nv; a += nwarps) {
        int a0 = offsets[a], a1 = offsets[a + 1];
        for (int k = a0 + lane; k < a1; k += 32) {
            int b = indices[k];
            if (b <= a) continue;
            local += intersect_above(indices + k + 1, a1 - k - 1, indices + offsets[b], offsets[b + 1] - offsets[b], b);
        }
    }
    for (int o = 16; o > 0; o >>= 1) local += __shfl_down_sync(0xffffffffu, local, o);
    if (lane == 0 && local) atomicAdd(count, local);
}

extern "C" void solve(const int* offsets, const int* indices, long long* count, int num_vertices, int num_edges) {
    cudaMemset(count, 0, sizeof(long long));
    const int block = 256;
    long long grid = ((long long)num_vertices * 32 + block - 1) / block;
    if (grid > 8192) grid = 8192;
    triangles<<<(int)grid, block>>>(offsets, indices, num_vertices, (unsigned long long*)count);
}
