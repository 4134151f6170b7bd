#include <cuda_runtime.h>
#include <climits>

__global__ void init_dist(int* dist, int* in_next, int nv, int source, int* queue) {
    for (int v = blockIdx.x * blockDim.x + threadIdx.x; v < nv; v += gridDim.x * blockDim.x) {
        dist[v] = v == source ? 0 : INT_MAX;
        in_next[v] = 0;
    }
    if (blockIdx.x == 0 && threadIdx.x == 0) queue[0] = source;
}

// One warp per frontier vertex relaxes its out-edges; lowered targets join the next frontier once.
__global__ void relax(const int* __restrict__ offsets, const int* __restrict__ indices, const int* __restrict__ weights,
                      int* dist, const int* __restrict__ queue, int count, int* next_queue, int* next_count,
                      int* in_next) {
    int lane = threadIdx.x & 31;
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int nwarps = (gridDim.x * blockDim.x) >> 5;
    for (int q = warp; q < count; q += nwarps) {
        int u = queue[q];
        int du = ((volatile int*)dist)[u];
        for (int k = offsets[u] + lane; k < offsets[u + 1]; k += 32) {
            int v = indices[k];
            int nd = du + weights[k];
            if (nd < ((volatile int*)dist)[v] && atomicMin(&dist[v], nd) > nd) {
                if (atomicExch(&in_next[v], 1) == 0) next_queue[atomicAdd(next_count, 1)] = v;
            }
        }
    }
}

__global__ void clear_flags(const int* __restrict__ queue, int count, int* in_next) {
    for (int q = blockIdx.x * blockDim.x + threadIdx.x; q < count; q += gridDim.x * blockDim.x) in_next[queue[q]] = 0;
}

extern "C" void solve(const int* offsets, const int* indices, const int* weights, int* dist, int source,
                      int num_vertices, int num_edges) {
    int *buf, *counter;
    cudaMalloc(&buf, sizeof(int) * 3 * (size_t)num_vertices);
    cudaMalloc(&counter, sizeof(int));
    int* cur = buf;
    int* next = buf + num_vertices;
    int* in_next = buf + 2 * (size_t)num_vertices;
    const int block = 256;
    int grid = (num_vertices + block - 1) / block;
    if (grid > 65535) grid = 65535;
    init_dist<<<grid, block>>>(dist, in_next, num_vertices, source, cur);
    int count = 1;
    while (count > 0) {
        cudaMemset(counter, 0, sizeof(int));
        long long wgrid = ((long long)count * 32 + block - 1) / block;
        if (wgrid > 65535) wgrid = 65535;
        relax<<<(int)wgrid, block>>>(offsets, indices, weights, dist, cur, count, next, counter, in_next);
        cudaMemcpy(&count, counter, sizeof(int), cudaMemcpyDeviceToHost);
        int cgrid = (count + block - 1) / block;
        if (cgrid > 65535) cgrid = 65535;
        if (count > 0) clear_flags<<<cgrid, block>>>(next, count, in_next);
        int* t = cur; cur = next; next = t;
    }
    cudaFree(buf);
    cudaFree(counter);
}
