#include <cuda_runtime.h>

#define MAXR 16
#define RB 256        // row pass: pixels per block
#define CX 32         // column pass: block width
#define CY 16         // column pass: output rows per block

__global__ void blur_rows(const float* __restrict__ img, const float* __restrict__ weights, float* __restrict__ tmp,
                          int height, int width, int R) {
    __shared__ float w[2 * MAXR + 1];
    __shared__ float s[RB + 2 * MAXR];
    int y = blockIdx.y;
    int x0 = blockIdx.x * RB;
    const float* row = img + (size_t)y * width;
    for (int t = threadIdx.x; t < 2 * R + 1; t += RB) w[t] = weights[t];
    for (int t = threadIdx.x; t < RB + 2 * R; t += RB) s[t] = row[min(max(x0 + t - R, 0), width - 1)];
    __syncthreads();
    int x = x0 + threadIdx.x;
    if (x >= width) return;
    float acc = 0.0f;
    for (int t = 0; t <= 2 * R; ++t) acc = fmaf(w[t], s[threadIdx.x + t], acc);
    tmp[(size_t)y * width + x] = acc;
}

__global__ void blur_cols(const float* __restrict__ tmp, const float* __restrict__ weights, float* __restrict__ out,
                          int height, int width, int R) {
    __shared__ float w[2 * MAXR + 1];
    __shared__ float s[CY + 2 * MAXR][CX];
    int x = blockIdx.x * CX + threadIdx.x;
    int y0 = blockIdx.y * CY;
    int tid = threadIdx.y * CX + threadIdx.x;
    for (int t = tid; t < 2 * R + 1; t += CX * CY) w[t] = weights[t];
    int xc = min(x, width - 1);
    for (int r = threadIdx.y; r < CY + 2 * R; r += CY) s[r][threadIdx.x] = tmp[(size_t)min(max(y0 + r - R, 0), height - 1) * width + xc];
    __syncthreads();
    int y = y0 + threadIdx.y;
    if (x >= width || y >= height) return;
    float acc = 0.0f;
    for (int t = 0; t <= 2 * R; ++t) acc = fmaf(w[t], s[threadIdx.y + t][threadIdx.x], acc);
    out[(size_t)y * width + x] = acc;
}

extern "C" void solve(const float* img, const float* weights, float* out, int height, int width, int R) {
    float* tmp = nullptr;
    cudaMalloc(&tmp, sizeof(float) * (size_t)height * width);
    blur_rows<<<dim3((width + RB - 1) / RB, height), RB>>>(img, weights, tmp, height, width, R);
    blur_cols<<<dim3((width + CX - 1) / CX, (height + CY - 1) / CY), dim3(CX, CY)>>>(tmp, weights, out, height, width, R);
    cudaFree(tmp);
}
