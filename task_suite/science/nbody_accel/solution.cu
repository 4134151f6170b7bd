#include <cuda_runtime.h>

#define TILE 128

__global__ void nbody_kernel(const float* __restrict__ pos, const float* __restrict__ mass, float* __restrict__ acc,
                             float eps2, int n) {
    __shared__ float sx[TILE], sy[TILE], sz[TILE], sm[TILE];
    size_t sys = blockIdx.y;
    const float* p = pos + sys * n * 3;
    const float* m = mass + sys * n;
    int i = blockIdx.x * TILE + threadIdx.x;
    float xi = 0.f, yi = 0.f, zi = 0.f;
    if (i < n) { xi = p[3 * i]; yi = p[3 * i + 1]; zi = p[3 * i + 2]; }
    float ax = 0.f, ay = 0.f, az = 0.f;
    for (int base = 0; base < n; base += TILE) {
        int j = base + threadIdx.x;
        if (j < n) {
            sx[threadIdx.x] = p[3 * j]; sy[threadIdx.x] = p[3 * j + 1]; sz[threadIdx.x] = p[3 * j + 2];
            sm[threadIdx.x] = m[j];
        } else {
            sx[threadIdx.x] = 0.f; sy[threadIdx.x] = 0.f; sz[threadIdx.x] = 0.f; sm[threadIdx.x] = 0.f;
        }
        __syncthreads();
        int count = min(TILE, n - base);
        for (int k = 0; k < count; ++k) {
            float dx = sx[k] - xi, dy = sy[k] - yi, dz = sz[k] - zi;
            float r2 = fmaf(dx, dx, fmaf(dy, dy, fmaf(dz, dz, eps2)));
            float inv = rsqrtf(r2);
            float w = sm[k] * inv * inv * inv;
            ax = fmaf(w, dx, ax); ay = fmaf(w, dy, ay); az = fmaf(w, dz, az);
        }
        __syncthreads();
    }
    if (i < n) {
        float* a = acc + (sys * n + i) * 3;
        a[0] = ax; a[1] = ay; a[2] = az;
    }
}

extern "C" void solve(const float* pos, const float* mass, float* acc, float eps2, int B, int n) {
    dim3 grid((n + TILE - 1) / TILE, B);
    nbody_kernel<<<grid, TILE>>>(pos, mass, acc, eps2, n);
}
