#include <cuda_runtime.h>

#define TW 16
#define TH 16
#define OC 4  // output channels per block

// One block: a TH x TW output tile of image n for OC consecutive output channels.
__global__ void conv3x3_kernel(const float* __restrict__ x, const float* __restrict__ w,
                               const float* __restrict__ bias, float* __restrict__ y,
                               int C_in, int C_out, int H, int W, int oc_groups) {
    __shared__ float patch[TH + 2][TW + 2];
    __shared__ float filt[OC][9];
    int n = blockIdx.z / oc_groups;
    int o0 = (blockIdx.z % oc_groups) * OC;
    int tx = threadIdx.x, ty = threadIdx.y;
    int ow = blockIdx.x * TW + tx, oh = blockIdx.y * TH + ty;
    float acc[OC];
    for (int k = 0; k < OC; ++k) acc[k] = 0.0f;
    for (int c = 0; c < C_in; ++c) {
        const float* plane = x + ((size_t)n * C_in + c) * H * W;
        for (int i = ty * TW + tx; i < (TH + 2) * (TW + 2); i += TH * TW) {
            int ph = i / (TW + 2), pw = i % (TW + 2);
            int h = blockIdx.y * TH + ph - 1, ww = blockIdx.x * TW + pw - 1;
            patch[ph][pw] = (h >= 0 && h < H && ww >= 0 && ww < W) ? plane[(size_t)h * W + ww] : 0.0f;
        }
        for (int i = ty * TW + tx; i < OC * 9; i += TH * TW) {
            int k = i / 9, t = i % 9;
            filt[k][t] = (o0 + k < C_out) ? w[((size_t)(o0 + k) * C_in + c) * 9 + t] : 0.0f;
        }
        __syncthreads();
        for (int kh = 0; kh < 3; ++kh)
            for (int kw = 0; kw < 3; ++kw) {
                float v = patch[ty + kh][tx + kw];
                for (int k = 0; k < OC; ++k) acc[k] += filt[k][kh * 3 + kw] * v;
            }
        __syncthreads();
    }
    if (oh < H && ow < W)
        for (int k = 0; k < OC; ++k)
            if (o0 + k < C_out) y[(((size_t)n * C_out + o0 + k) * H + oh) * W + ow] = acc[k] + bias[o0 + k];
}

extern "C" void solve(const float* x, const float* w, const float* bias, float* y, int N, int C_in, int C_out,
                      int H, int W) {
    int oc_groups = (C_out + OC - 1) / OC;
    dim3 block(TW, TH);
    dim3 grid((W + TW - 1) / TW, (H + TH - 1) / TH, N * oc_groups);
    conv3x3_kernel<<<grid, block>>>(x, w, bias, y, C_in, C_out, H, W, oc_groups);
}
