#include <cuda_runtime.h>

#define CHUNK 256

// One thread per point; the polygon streams through shared memory in chunks of CHUNK vertices.
__global__ void pip_kernel(const float* __restrict__ vx, const float* __restrict__ vy, const float* __restrict__ px,
                           const float* __restrict__ py, unsigned char* __restrict__ inside, int v, int n) {
    __shared__ float sx[CHUNK + 1], sy[CHUNK + 1];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float x = i < n ? px[i] : 0.0f, y = i < n ? py[i] : 0.0f;
    bool in = false;
    for (int base = 0; base < v; base += CHUNK) {
        int count = min(CHUNK, v - base);
        __syncthreads();
        for (int j = threadIdx.x; j <= count; j += blockDim.x) {  // chunk plus the next vertex (wrapping)
            int g = base + j == v ? 0 : base + j;
            sx[j] = vx[g];
            sy[j] = vy[g];
        }
        __syncthreads();
        for (int j = 0; j < count; ++j) {
            float ax = sx[j], ay = sy[j], bx = sx[j + 1], by = sy[j + 1];
            if ((ay > y) != (by > y) && x < ax + (y - ay) * (bx - ax) / (by - ay)) in = !in;
        }
    }
    if (i < n) inside[i] = in ? 1 : 0;
}

extern "C" void solve(const float* vx, const float* vy, const float* px, const float* py, unsigned char* inside,
                      int v, int n) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    pip_kernel<<<grid, block>>>(vx, vy, px, py, inside, v, n);
}
