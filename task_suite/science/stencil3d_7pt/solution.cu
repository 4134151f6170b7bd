#include <cuda_runtime.h>

// Each thread owns one (j, k) column and marches along i with the centre values of three planes in registers.
__global__ void stencil7_kernel(const float* __restrict__ u, float* __restrict__ out, float c0, float c1,
                                int nz, int ny, int nx) {
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    int j = blockIdx.y * blockDim.y + threadIdx.y;
    if (j >= ny || k >= nx) return;
    size_t plane = (size_t)ny * nx;
    size_t idx = (size_t)j * nx + k;
    bool edge = (j == 0 || k == 0 || j == ny - 1 || k == nx - 1);
    float below = 0.0f, centre = u[idx];
    for (int i = 0; i < nz; ++i) {
        size_t c = idx + (size_t)i * plane;
        float above = (i + 1 < nz) ? u[c + plane] : 0.0f;
        if (edge || i == 0 || i == nz - 1) {
            out[c] = centre;
        } else {
            float s = below + above + u[c - nx] + u[c + nx] + u[c - 1] + u[c + 1];
            out[c] = c0 * centre + c1 * s;
        }
        below = centre;
        centre = above;
    }
}

extern "C" void solve(const float* u, float* out, float c0, float c1, int nz, int ny, int nx) {
    dim3 block(32, 4);
    dim3 grid((nx + block.x - 1) / block.x, (ny + block.y - 1) / block.y);
    stencil7_kernel<<<grid, block>>>(u, out, c0, c1, nz, ny, nx);
}
