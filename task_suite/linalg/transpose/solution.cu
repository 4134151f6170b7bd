#include <cuda_runtime.h>

#define TILE 32
#define ROWS 8

__global__ void transpose_kernel(const float* __restrict__ A, float* __restrict__ B, int rows, int cols) {
    __shared__ float tile[TILE][TILE + 1];
    int x = blockIdx.x * TILE + threadIdx.x;  // column of A
    int y0 = blockIdx.y * TILE;
    for (int k = threadIdx.y; k < TILE; k += ROWS) {
        int y = y0 + k;
        if (x < cols && y < rows) tile[k][threadIdx.x] = A[(size_t)y * cols + x];
    }
    __syncthreads();
    int bx = blockIdx.y * TILE + threadIdx.x;  // column of B = row of A
    for (int k = threadIdx.y; k < TILE; k += ROWS) {
        int by = blockIdx.x * TILE + k;  // row of B = column of A
        if (bx < rows && by < cols) B[(size_t)by * rows + bx] = tile[threadIdx.x][k];
    }
}

extern "C" void solve(const float* A, float* B, int rows, int cols) {
    dim3 block(TILE, ROWS);
    dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose_kernel<<<grid, block>>>(A, B, rows, cols);
}
