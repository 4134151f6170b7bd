#include <cuda_runtime.h>

// Union-find with parent[v] <= v at all times (ECL-CC style): roots are component minima.
__device__ int find_root(int* parent, int v) {
    volatile int* p = parent;
    int cur = p[v];
    if (cur != v) {
        int next, prev = v;
        while (cur > (next = p[cur])) {  // path halving towards the root
            p[prev] = next;
            prev = cur;
            cur = next;
        }
    }
    return cur;
}

__global__ void init_parent(int* parent, int nv) {
    for (int v = blockIdx.x * blockDim.x + threadIdx.x; v < nv; v += gridDim.x * blockDim.x) parent[v] = v;
}

__global__ void hook(const int* __restrict__ offsets, const int* __restrict__ indices, int* parent, int nv) {
    for (int v = blockIdx.x * blockDim.x + threadIdx.x; v < nv; v += gridDim.x * blockDim.x) {
        int rv = find_root(parent, v);
        for (int k = offsets[v]; k < offsets[v + 1]; ++k) {
            int u = indices[k];
            if (u >= v) continue;  // each undirected edge once
            int ru = find_root(parent, u);
            rv = find_root(parent, rv);
            while (ru != rv) {
                int hi = ru > rv ? ru : rv, lo = ru > rv ? rv : ru;
                int old = atomicCAS(&parent[hi], hi, lo);
                if (old == hi) { rv = lo; break; }
                // hi got a parent meanwhile: continue from the current roots
                ru = find_root(parent, old);
                rv = find_root(parent, lo);
            }
        }
    }
}

__global__ void finalize(int* parent, int nv) {
    for (int v = blockIdx.x * blockDim.x + threadIdx.x; v < nv; v += gridDim.x * blockDim.x) {
        int r = v;
        while (parent[r] != r) r = parent[r];
        parent[v] = r;
    }
}

extern "C" void solve(const int* offsets, const int* indices, int* labels, int num_vertices, int num_edges) {
    const int block = 256;
    int grid = (num_vertices + block - 1) / block;
    if (grid > 65535) grid = 65535;
    init_parent<<<grid, block>>>(labels, num_vertices);
    hook<<<grid, block>>>(offsets, indices, labels, num_vertices);
    finalize<<<grid, block>>>(labels, num_vertices);
}
