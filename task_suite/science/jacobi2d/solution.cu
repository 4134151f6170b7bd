#include <cuda_runtime.h>

__global__ void jacobi2d_kernel(const float* __restrict__ u, const float* __restrict__ f,
                                float* __restrict__ u_new, float h2, int ny, int nx) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    int i = blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= ny || j >= nx) return;
    size_t c = (size_t)i * nx + j;
    if (i == 0 || j == 0 || i == ny - 1 || j == nx - 1) {
        u_new[c] = u[c];
        return;
    }
    float s = u[c - nx] + u[c + nx] + u[c - 1] + u[c + 1];
    u_new[c] = 0.25f * (s - h2 * f[c]);
}

extern "C" void solve(const float* u, const float* f, float* u_new, float h2, int ny, int nx) {
    dim3 block(32, 8);
    dim3 grid((nx + block.x - 1) / block.x, (ny + block.y - 1) / block.y);
    jacobi2d_kernel<<<grid, block>>>(u, f, u_new, h2, ny, nx);
}
