#include <cuda_runtime.h>

__global__ void maxpool3d_kernel(const float* __restrict__ x, float* __restrict__ y, long long total,
                                 int D, int H, int W, int OD, int OH, int OW) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        int ow = (int)(i % OW);
        int oh = (int)((i / OW) % OH);
        int od = (int)((i / ((long long)OW * OH)) % OD);
        long long volume = i / ((long long)OW * OH * OD);  // the (n, c) index
        const float* src = x + volume * D * H * W + ((long long)2 * od * H + 2 * oh) * W + 2 * ow;
        float m = src[0];
        m = fmaxf(m, src[1]);
        m = fmaxf(m, src[W]);
        m = fmaxf(m, src[W + 1]);
        src += (long long)H * W;
        m = fmaxf(m, src[0]);
        m = fmaxf(m, src[1]);
        m = fmaxf(m, src[W]);
        m = fmaxf(m, src[W + 1]);
        y[i] = m;
    }
}

extern "C" void solve(const float* x, float* y, int N, int C, int D, int H, int W) {
    int OD = D / 2, OH = H / 2, OW = W / 2;
    long long total = (long long)N * C * OD * OH * OW;
    long long grid = (total + 255) / 256;
    if (grid > 16384) grid = 16384;
    maxpool3d_kernel<<<(int)grid, 256>>>(x, y, total, D, H, W, OD, OH, OW);
}
