#include <cuda_runtime.h>

#define TC 32   // columns per tile
#define TR 64   // rows per tile

// One block of 32 x 8 threads per 64 x 32 tile: reads the tile once, adds its row and column partials atomically.
__global__ void row_col_kernel(const float* __restrict__ A, float* row_sums, float* col_sums, int rows, int cols) {
    __shared__ float tile[TR][TC + 1];
    int c0 = blockIdx.x * TC, r0 = blockIdx.y * TR;
    int tx = threadIdx.x, ty = threadIdx.y;
    for (int r = ty; r < TR; r += 8) {
        int gr = r0 + r, gc = c0 + tx;
        tile[r][tx] = (gr < rows && gc < cols) ? A[(size_t)gr * cols + gc] : 0.0f;
    }
    __syncthreads();
    if (ty == 0 && c0 + tx < cols) {  // column partial over the tile's rows
        float s = 0.0f;
        for (int r = 0; r < TR; ++r) s += tile[r][tx];
        atomicAdd(&col_sums[c0 + tx], s);
    }
    for (int r = ty; r < TR; r += 8) {  // row partial over the tile's columns: one warp per row
        float s = tile[r][tx];
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (tx == 0 && r0 + r < rows) atomicAdd(&row_sums[r0 + r], s);
    }
}

extern "C" void solve(const float* A, float* row_sums, float* col_sums, int rows, int cols) {
    cudaMemset(row_sums, 0, sizeof(float) * (size_t)rows);
    cudaMemset(col_sums, 0, sizeof(float) * (size_t)cols);
    dim3 block(32, 8);
    dim3 grid((cols + TC - 1) / TC, (rows + TR - 1) / TR);
    row_col_kernel<<<grid, block>>>(A, row_sums, col_sums, rows, cols);
}
