#include <cuda_runtime.h>

#define BX 32
#define BY 8

__global__ void sobel_kernel(const float* __restrict__ img, float* __restrict__ out, int height, int width) {
    __shared__ float tile[BY + 2][BX + 2];
    int x0 = blockIdx.x * BX, y0 = blockIdx.y * BY;
    for (int t = threadIdx.y * BX + threadIdx.x; t < (BX + 2) * (BY + 2); t += BX * BY) {
        int ty = t / (BX + 2), tx = t % (BX + 2);
        int gy = min(max(y0 + ty - 1, 0), height - 1);
        int gx = min(max(x0 + tx - 1, 0), width - 1);
        tile[ty][tx] = img[(size_t)gy * width + gx];
    }
    __syncthreads();
    int x = x0 + threadIdx.x, y = y0 + threadIdx.y;
    if (x >= width || y >= height) return;
    int cx = threadIdx.x + 1, cy = threadIdx.y + 1;
    float gx = (tile[cy - 1][cx + 1] + 2.0f * tile[cy][cx + 1] + tile[cy + 1][cx + 1])
             - (tile[cy - 1][cx - 1] + 2.0f * tile[cy][cx - 1] + tile[cy + 1][cx - 1]);
    float gy = (tile[cy + 1][cx - 1] + 2.0f * tile[cy + 1][cx] + tile[cy + 1][cx + 1])
             - (tile[cy - 1][cx - 1] + 2.0f * tile[cy - 1][cx] + tile[cy - 1][cx + 1]);
    out[(size_t)y * width + x] = sqrtf(gx * gx + gy * gy);
}

extern "C" void solve(const float* img, float* out, int height, int width) {
    dim3 block(BX, BY);
    dim3 grid((width + BX - 1) / BX, (height + BY - 1) / BY);
    sobel_kernel<<<grid, block>>>(img, out, height, width);
}
