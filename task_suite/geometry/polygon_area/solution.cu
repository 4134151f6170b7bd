#include <cuda_runtime.h>

// One warp per polygon: lanes stride over the vertices (coalesced), cross products relative to vertex 0.
__global__ void polygon_area_kernel(const float* __restrict__ xs, const float* __restrict__ ys, float* __restrict__ area,
                                    int p, int v) {
    int lane = threadIdx.x & 31;
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int nwarps = (gridDim.x * blockDim.x) >> 5;
    for (int k = warp; k < p; k += nwarps) {
        const float* x = xs + (size_t)k * v;
        const float* y = ys + (size_t)k * v;
        float x0 = x[0], y0 = y[0];
        float s = 0.0f;
        for (int j = lane; j < v; j += 32) {
            int j1 = j + 1 == v ? 0 : j + 1;
            float ax = x[j] - x0, ay = y[j] - y0, bx = x[j1] - x0, by = y[j1] - y0;
            s += ax * by - bx * ay;
        }
        for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
        if (lane == 0) area[k] = 0.5f * fabsf(s);
    }
}

extern "C" void solve(const float* xs, const float* ys, float* area, int p, int v) {
    const int block = 256;
    long long grid = ((long long)p * 32 + block - 1) / block;
    if (grid > 65535) grid = 65535;
    polygon_area_kernel<<<(int)grid, block>>>(xs, ys, area, p, v);
}
