#include <cuda_runtime.h>

#define SMEM_VERTICES 8192

__global__ void out_degree_kernel(const int* __restrict__ offsets, int* __restrict__ out_deg, int nv) {
    for (int u = blockIdx.x * blockDim.x + threadIdx.x; u < nv; u += gridDim.x * blockDim.x)
        out_deg[u] = offsets[u + 1] - offsets[u];
}

__global__ void in_degree_shared(const int* __restrict__ indices, int* in_deg, int nv, int ne) {
    __shared__ int local[SMEM_VERTICES];
    for (int v = threadIdx.x; v < nv; v += blockDim.x) local[v] = 0;
    __syncthreads();
    for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < ne; k += gridDim.x * blockDim.x) atomicAdd(&local[indices[k]], 1);
    __syncthreads();
    for (int v = threadIdx.x; v < nv; v += blockDim.x)
        if (local[v]) atomicAdd(&in_deg[v], local[v]);
}

__global__ void in_degree_global(const int* __restrict__ indices, int* in_deg, int ne) {
    for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < ne; k += gridDim.x * blockDim.x) atomicAdd(&in_deg[indices[k]], 1);
}

extern "C" void solve(const int* offsets, const int* indices, int* out_deg, int* in_deg, int num_vertices,
                      int num_edges) {
    const int block = 256;
    int vgrid = (num_vertices + block - 1) / block;
    if (vgrid > 65535) vgrid = 65535;
    out_degree_kernel<<<vgrid, block>>>(offsets, out_deg, num_vertices);
    cudaMemset(in_deg, 0, sizeof(int) * (size_t)num_vertices);
    int egrid = (num_edges + block - 1) / block;
    if (num_vertices <= SMEM_VERTICES) {
        if (egrid > 256) egrid = 256;
        in_degree_shared<<<egrid, block>>>(indices, in_deg, num_vertices, num_edges);
    } else {
        if (egrid > 8192) egrid = 8192;
        in_degree_global<<<egrid, block>>>(indices, in_deg, num_edges);
    }
}
