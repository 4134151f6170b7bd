// task: reduction/sum   expect: SKIP cannot run on the CPU runtime
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
// Grid-wide synchronisation needs a cooperative launch on a GPU; the CPU runtime refuses it by name (cooperative
// groups within a block or a tile it runs).
__global__ void sum(const float* x, float* out, int n) {
    cg::grid_group grid = cg::this_grid();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(out, x[i]);
    grid.sync();
}
extern "C" void solve(const float* x, float* out, int n) {
    cudaMemset(out, 0, sizeof(float));
    sum<<<(n + 255) / 256, 256>>>(x, out, n);
}
