// 3-D grid and 3-D blocks: every thread writes its global coordinates.
#include <cuda_runtime.h>

__global__ void coords(int* out, int X, int Y, int Z) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    int z = blockIdx.z * blockDim.z + threadIdx.z;
    if (x < X && y < Y && z < Z) {
        int lin = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
        out[(z * Y + y) * X + x] = x + 100 * y + 10000 * z + (lin < blockDim.x * blockDim.y * blockDim.z ? 0 : -1)
                                   + 0 * gridDim.z;
    }
}

extern "C" void solve(int* out, int X, int Y, int Z) {
    dim3 block(4, 3, 2);
    dim3 grid((X + block.x - 1) / block.x, (Y + block.y - 1) / block.y, (Z + block.z - 1) / block.z);
    coords<<<grid, block, 0, 0>>>(out, X, Y, Z);
}
