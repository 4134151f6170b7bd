#include <cuda_runtime.h>
#include <stdint.h>

__global__ void rgb_to_gray_kernel(const uint8_t* __restrict__ rgb, float* __restrict__ gray, size_t pixels) {
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < pixels; i += stride) {
        const uint8_t* p = rgb + 3 * i;
        gray[i] = 0.299f * (float)p[0] + 0.587f * (float)p[1] + 0.114f * (float)p[2];
    }
}

extern "C" void solve(const uint8_t* rgb, float* gray, int height, int width) {
    size_t pixels = (size_t)height * width;
    const int block = 256;
    size_t grid = (pixels + block - 1) / block;
    if (grid > 16384) grid = 16384;
    rgb_to_gray_kernel<<<(unsigned)grid, block>>>(rgb, gray, pixels);
}
