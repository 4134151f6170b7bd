#include <cuda_runtime.h>

#define LONG_LIST 2048  // in-edge lists at least this long are split over several warps
#define PIECE 512

// contrib[u] = rank[u] / out_degree[u] (0 for dangling u); dangling mass summed into *dangling.
__global__ void prepare(const int* __restrict__ out_degree, const float* __restrict__ rank, float* __restrict__ contrib,
                        float* dangling, int nv) {
    float s = 0.0f;
    for (int u = blockIdx.x * blockDim.x + threadIdx.x; u < nv; u += gridDim.x * blockDim.x) {
        int deg = out_degree[u];
        float r = rank[u];
        contrib[u] = deg > 0 ? r / (float)deg : 0.0f;
        if (deg == 0) s += r;
    }
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    __shared__ float partial[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) partial[warp] = s;
    __syncthreads();
    if (warp == 0) {
        s = lane < warps ? partial[lane] : 0.0f;
        for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
        if (lane == 0) atomicAdd(dangling, s);
    }
}

// Warp per target vertex; long lists are only initialised here (teleport + dangling) and recorded in long_list
// for pull_long.
__global__ void pull(const int* __restrict__ in_offsets, const int* __restrict__ in_sources,
                     const float* __restrict__ contrib, const float* __restrict__ dangling, float* new_rank,
                     float damping, int nv, int* long_count, int* long_list) {
    int lane = threadIdx.x & 31;
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int nwarps = (gridDim.x * blockDim.x) >> 5;
    float base = (1.0f - damping) / nv + damping * (*dangling / nv);
    for (int v = warp; v < nv; v += nwarps) {
        int k0 = in_offsets[v], k1 = in_offsets[v + 1];
        if (k1 - k0 >= LONG_LIST) {
            if (lane == 0) {
                new_rank[v] = base;
                long_list[atomicAdd(long_count, 1)] = v;
            }
            continue;
        }
        float s = 0.0f;
        for (int k = k0 + lane; k < k1; k += 32) s += contrib[in_sources[k]];
        for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
        if (lane == 0) new_rank[v] = base + damping * s;
    }
}

// The warps of the grid share the PIECE-long pieces of the recorded long lists.
__global__ void pull_long(const int* __restrict__ in_offsets, const int* __restrict__ in_sources,
                          const float* __restrict__ contrib, float* new_rank, float damping,
                          const int* long_count, const int* long_list) {
    int lane = threadIdx.x & 31;
    int gwarp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int nwarps = (gridDim.x * blockDim.x) >> 5;
    int count = *long_count;
    for (int i = 0; i < count; ++i) {
        int v = long_list[i];
        int k0 = in_offsets[v], k1 = in_offsets[v + 1];
        int pieces = (k1 - k0 + PIECE - 1) / PIECE;
        for (int p = gwarp; p < pieces; p += nwarps) {
            float s = 0.0f;
            for (int k = k0 + p * PIECE + lane; k < min(k1, k0 + (p + 1) * PIECE); k += 32) s += contrib[in_sources[k]];
            for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
            if (lane == 0) atomicAdd(&new_rank[v], damping * s);
        }
    }
}

extern "C" void solve(const int* in_offsets, const int* in_sources, const int* out_degree, const float* rank,
                      float* new_rank, float damping, int num_vertices, int num_edges) {
    int max_long = num_edges / LONG_LIST + 1;
    float* buf;  // [0]: dangling, then contrib
    int* scratch;  // [0]: count of long lists, then their vertices
    cudaMalloc(&buf, sizeof(float) * ((size_t)num_vertices + 1));
    cudaMalloc(&scratch, sizeof(int) * (size_t)(max_long + 1));
    cudaMemset(buf, 0, sizeof(float));
    cudaMemset(scratch, 0, sizeof(int));
    const int block = 256;
    int grid = (num_vertices + block - 1) / block;
    if (grid > 1024) grid = 1024;
    prepare<<<grid, block>>>(out_degree, rank, buf + 1, buf, num_vertices);
    long long wgrid = ((long long)num_vertices * 32 + block - 1) / block;
    if (wgrid > 65535) wgrid = 65535;
    pull<<<(int)wgrid, block>>>(in_offsets, in_sources, buf + 1, buf, new_rank, damping, num_vertices, scratch,
                                scratch + 1);
    if (num_edges >= LONG_LIST) {
        int lgrid = num_edges / (PIECE * 8) + 1;
        if (lgrid > 1024) lgrid = 1024;
        pull_long<<<lgrid, block>>>(in_offsets, in_sources, buf + 1, new_rank, damping, scratch, scratch + 1);
    }
    cudaFree(buf);
    cudaFree(scratch);
}
