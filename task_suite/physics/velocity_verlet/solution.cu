#include <cuda_runtime.h>

__device__ __forceinline__ void accel(float x, float y, float z, float k, float lam, float& ax, float& ay, float& az) {
    float s = -(k + lam * (x * x + y * y + z * z));
    ax = s * x;
    ay = s * y;
    az = s * z;
}

__global__ void verlet_kernel(float* __restrict__ pos, float* __restrict__ vel, float k, float lam, float dt,
                              int steps, int n) {
    int stride = gridDim.x * blockDim.x;
    float h = 0.5f * dt;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        size_t b = 3 * (size_t)i;
        float x = pos[b], y = pos[b + 1], z = pos[b + 2];
        float vx = vel[b], vy = vel[b + 1], vz = vel[b + 2];
        float ax, ay, az;
        accel(x, y, z, k, lam, ax, ay, az);
        for (int s = 0; s < steps; ++s) {
            vx += h * ax; vy += h * ay; vz += h * az;
            x += dt * vx; y += dt * vy; z += dt * vz;
            accel(x, y, z, k, lam, ax, ay, az);
            vx += h * ax; vy += h * ay; vz += h * az;
        }
        pos[b] = x; pos[b + 1] = y; pos[b + 2] = z;
        vel[b] = vx; vel[b + 1] = vy; vel[b + 2] = vz;
    }
}

extern "C" void solve(float* pos, float* vel, float k, float lam, float dt, int steps, int n) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 8192) grid = 8192;
    verlet_kernel<<<grid, block>>>(pos, vel, k, lam, dt, steps, n);
}
