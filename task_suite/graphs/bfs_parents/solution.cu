#include <cuda_runtime.h>

__global__ void init_parents(int* parents, int nv, int source, int* queue) {
    for (int v = blockIdx.x * blockDim.x + threadIdx.x; v < nv; v += gridDim.x * blockDim.x)
        parents[v] = v == source ? source : -1;
    if (blockIdx.x == 0 && threadIdx.x == 0) queue[0] = source;
}

// One warp per frontier vertex: lanes walk its edges and claim unvisited targets with atomicCAS.
__global__ void expand(const int* __restrict__ offsets, const int* __restrict__ indices, int* parents,
                       const int* __restrict__ queue, int count, int* next_queue, int* next_count) {
    int lane = threadIdx.x & 31;
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int nwarps = (gridDim.x * blockDim.x) >> 5;
    for (int q = warp; q < count; q += nwarps) {
        int u = queue[q];
        for (int k = offsets[u] + lane; k < offsets[u + 1]; k += 32) {
            int v = indices[k];
            if (((volatile int*)parents)[v] == -1 && atomicCAS(&parents[v], -1, u) == -1)
                next_queue[atomicAdd(next_count, 1)] = v;
        }
    }
}

extern "C" void solve(const int* offsets, const int* indices, int* parents, int source, int num_vertices,
                      int num_edges) {
    int *queues, *counter;
    cudaMalloc(&queues, sizeof(int) * 2 * (size_t)num_vertices);
    cudaMalloc(&counter, sizeof(int));
    int* cur = queues;
    int* next = queues + num_vertices;
    const int block = 256;
    int grid = (num_vertices + block - 1) / block;
    if (grid > 65535) grid = 65535;
    init_parents<<<grid, block>>>(parents, num_vertices, source, cur);
    int count = 1;
    while (count > 0) {
        cudaMemset(counter, 0, sizeof(int));
        long long wgrid = ((long long)count * 32 + block - 1) / block;
        if (wgrid > 65535) wgrid = 65535;
        expand<<<(int)wgrid, block>>>(offsets, indices, parents, cur, count, next, counter);
        cudaMemcpy(&count, counter, sizeof(int), cudaMemcpyDeviceToHost);
        int* t = cur; cur = next; next = t;
    }
    cudaFree(queues);
    cudaFree(counter);
}
