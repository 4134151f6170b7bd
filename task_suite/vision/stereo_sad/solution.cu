#include <cuda_runtime.h>
#include <stdint.h>

#define BX 32
#define BY 8
#define MAXR 4
#define MAXD 64

__global__ void sad_kernel(const uint8_t* __restrict__ left, const uint8_t* __restrict__ right, int* __restrict__ disp,
                           int height, int width, int R, int D) {
    __shared__ uint8_t sl[BY + 2 * MAXR][BX + 2 * MAXR];
    __shared__ uint8_t sr[BY + 2 * MAXR][BX + 2 * MAXR + MAXD - 1];
    int x0 = blockIdx.x * BX, y0 = blockIdx.y * BY;
    int tid = threadIdx.y * BX + threadIdx.x;
    int rows = BY + 2 * R, lcols = BX + 2 * R, rcols = BX + 2 * R + D - 1;
    for (int t = tid; t < rows * lcols; t += BX * BY) {
        int r = t / lcols, c = t % lcols;
        int gy = min(max(y0 + r - R, 0), height - 1), gx = min(max(x0 + c - R, 0), width - 1);
        sl[r][c] = left[(size_t)gy * width + gx];
    }
    // right tile column c holds image column x0 - R - (D - 1) + c (clamped)
    for (int t = tid; t < rows * rcols; t += BX * BY) {
        int r = t / rcols, c = t % rcols;
        int gy = min(max(y0 + r - R, 0), height - 1), gx = min(max(x0 + c - R - (D - 1), 0), width - 1);
        sr[r][c] = right[(size_t)gy * width + gx];
    }
    __syncthreads();
    int x = x0 + threadIdx.x, y = y0 + threadIdx.y;
    if (x >= width || y >= height) return;
    int best = 0x7fffffff, best_d = 0;
    for (int d = 0; d < D; ++d) {
        int cost = 0;
        for (int dy = 0; dy <= 2 * R; ++dy) {
            for (int dx = 0; dx <= 2 * R; ++dx) {
                int gx = x + dx - R;  // left column before clamping
                int lx = min(max(gx, 0), width - 1);
                int rx = min(max(gx - d, 0), width - 1);
                int lv = sl[threadIdx.y + dy][lx - x0 + R];
                int rv = sr[threadIdx.y + dy][rx - x0 + R + D - 1];
                cost += abs(lv - rv);
            }
        }
        if (cost < best) { best = cost; best_d = d; }
    }
    disp[(size_t)y * width + x] = best_d;
}

extern "C" void solve(const uint8_t* left, const uint8_t* right, int* disp, int height, int width, int R, int D) {
    dim3 block(BX, BY);
    dim3 grid((width + BX - 1) / BX, (height + BY - 1) / BY);
    sad_kernel<<<grid, block>>>(left, right, disp, height, width, R, D);
}
