#include <cuda_runtime.h>
#include <stdint.h>

#define BX 32
#define BY 8

__global__ void life_step(const uint8_t* __restrict__ src, uint8_t* __restrict__ dst, int ny, int nx) {
    __shared__ uint8_t tile[BY + 2][BX + 2];
    int j0 = blockIdx.x * BX, i0 = blockIdx.y * BY;
    for (int t = threadIdx.y * BX + threadIdx.x; t < (BX + 2) * (BY + 2); t += BX * BY) {
        int ti = t / (BX + 2), tj = t % (BX + 2);
        int gi = ((i0 + ti - 1) % ny + ny) % ny;
        int gj = ((j0 + tj - 1) % nx + nx) % nx;
        tile[ti][tj] = src[(size_t)gi * nx + gj];
    }
    __syncthreads();
    int i = i0 + threadIdx.y, j = j0 + threadIdx.x;
    if (i >= ny || j >= nx) return;
    int ti = threadIdx.y + 1, tj = threadIdx.x + 1;
    int nb = tile[ti - 1][tj - 1] + tile[ti - 1][tj] + tile[ti - 1][tj + 1] + tile[ti][tj - 1] + tile[ti][tj + 1] +
             tile[ti + 1][tj - 1] + tile[ti + 1][tj] + tile[ti + 1][tj + 1];
    uint8_t alive = tile[ti][tj];
    dst[(size_t)i * nx + j] = (nb == 3 || (alive && nb == 2)) ? 1 : 0;
}

extern "C" void solve(uint8_t* grid, int steps, int ny, int nx) {
    if (steps <= 0) return;
    size_t bytes = (size_t)ny * nx;
    uint8_t* tmp = nullptr;
    cudaMalloc(&tmp, bytes);
    dim3 block(BX, BY);
    dim3 g((nx + BX - 1) / BX, (ny + BY - 1) / BY);
    uint8_t* a = grid;
    uint8_t* b = tmp;
    for (int s = 0; s < steps; ++s) {
        life_step<<<g, block>>>(a, b, ny, nx);
        uint8_t* t = a; a = b; b = t;
    }
    if (a != grid) cudaMemcpy(grid, a, bytes, cudaMemcpyDeviceToDevice);
    cudaFree(tmp);
}
