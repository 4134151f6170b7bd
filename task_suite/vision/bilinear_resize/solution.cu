#include <cuda_runtime.h>

__global__ void bilinear_kernel(const float* __restrict__ src, float* __restrict__ dst, int h_in, int w_in,
                                int h_out, int w_out, float sy_scale, float sx_scale) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w_out || y >= h_out) return;
    float sx = fmaxf((x + 0.5f) * sx_scale - 0.5f, 0.0f);
    float sy = fmaxf((y + 0.5f) * sy_scale - 0.5f, 0.0f);
    int x0 = min((int)sx, w_in - 1), y0 = min((int)sy, h_in - 1);
    int x1 = min(x0 + 1, w_in - 1), y1 = min(y0 + 1, h_in - 1);
    float ax = sx - x0, ay = sy - y0;
    const float* r0 = src + (size_t)y0 * w_in;
    const float* r1 = src + (size_t)y1 * w_in;
    float top = r0[x0] + ax * (r0[x1] - r0[x0]);
    float bot = r1[x0] + ax * (r1[x1] - r1[x0]);
    dst[(size_t)y * w_out + x] = top + ay * (bot - top);
}

extern "C" void solve(const float* src, float* dst, int h_in, int w_in, int h_out, int w_out) {
    dim3 block(32, 8);
    dim3 grid((w_out + block.x - 1) / block.x, (h_out + block.y - 1) / block.y);
    bilinear_kernel<<<grid, block>>>(src, dst, h_in, w_in, h_out, w_out, (float)h_in / h_out, (float)w_in / w_out);
}
