// task: graphs/bfs_parents   expect: PASS   stage: time
// Not a cheat: a valid BFS tree other than the task's (each vertex takes its largest-index parent one level up,
// where the reference takes the smallest). The task's check() accepts it; an element-wise comparison would not.
#include <cuda_runtime.h>

// Levels by a serial breadth-first search in one thread; queue holds num_vertices entries.
__global__ void levels_kernel(const int* offsets, const int* indices, int* level, int* queue, int source, int nv) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    for (int v = 0; v < nv; ++v) level[v] = -1;
    level[source] = 0;
    int head = 0, tail = 0;
    queue[tail++] = source;
    while (head < tail) {
        int u = queue[head++];
        for (int k = offsets[u]; k < offsets[u + 1]; ++k) {
            int v = indices[k];
            if (level[v] == -1) {
                level[v] = level[u] + 1;
                queue[tail++] = v;
            }
        }
    }
}

__global__ void init_parents(int* parents, int nv, int source) {
    for (int v = blockIdx.x * blockDim.x + threadIdx.x; v < nv; v += gridDim.x * blockDim.x)
        parents[v] = v == source ? source : -1;
}

// Every tree edge u -> v (v one level below u) bids u; the largest bidder wins.
__global__ void pick_parents(const int* offsets, const int* indices, const int* level, int* parents, int source,
                             int nv) {
    for (int u = blockIdx.x * blockDim.x + threadIdx.x; u < nv; u += gridDim.x * blockDim.x) {
        if (level[u] < 0) continue;
        for (int k = offsets[u]; k < offsets[u + 1]; ++k) {
            int v = indices[k];
            if (v != source && level[v] == level[u] + 1) atomicMax(&parents[v], u);
        }
    }
}

extern "C" void solve(const int* offsets, const int* indices, int* parents, int source, int num_vertices,
                      int num_edges) {
    int *level, *queue;
    cudaMalloc(&level, sizeof(int) * (size_t)num_vertices);
    cudaMalloc(&queue, sizeof(int) * (size_t)num_vertices);
    int grid = (num_vertices + 255) / 256;
    if (grid > 4096) grid = 4096;
    levels_kernel<<<1, 1>>>(offsets, indices, level, queue, source, num_vertices);
    init_parents<<<grid, 256>>>(parents, num_vertices, source);
    pick_parents<<<grid, 256>>>(offsets, indices, level, parents, source, num_vertices);
    cudaDeviceSynchronize();
    cudaFree(level);
    cudaFree(queue);
}
